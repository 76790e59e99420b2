package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixGlobalRule;
import io.archway.operator.translate.ApisixGlobalRuleTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/** ApisixGlobalRule → {@code global_rules/agr_…}. */
@ControllerConfiguration(name = "apisixglobalrule")
public final class ApisixGlobalRuleReconciler extends CustomResourceReconciler<ApisixGlobalRule>
    implements Reconciler<ApisixGlobalRule> {

  public ApisixGlobalRuleReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(ApisixGlobalRule r) {
    return ApisixGlobalRuleTranslator.translate(r, ctx.caches());
  }

  @Override
  String ingressClassName(ApisixGlobalRule r) {
    return r.getSpec() == null ? null : r.getSpec().ingressClassName;
  }
}
