package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixClusterConfig;
import io.archway.operator.translate.ApisixClusterConfigTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/**
 * ApisixClusterConfig (cluster-scoped) → {@code global_rules/acc_…} when it enables Prometheus
 * metrics. It has no ingress class: every operator serving the cluster applies it, as the APISIX
 * Ingress Controller does.
 */
@ControllerConfiguration(name = "apisixclusterconfig")
public final class ApisixClusterConfigReconciler
    extends CustomResourceReconciler<ApisixClusterConfig>
    implements Reconciler<ApisixClusterConfig> {

  public ApisixClusterConfigReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(ApisixClusterConfig r) {
    return ApisixClusterConfigTranslator.translate(r, ctx.caches());
  }

  @Override
  String ingressClassName(ApisixClusterConfig r) {
    return r.getSpec() == null ? null : r.getSpec().ingressClassName;
  }
}
