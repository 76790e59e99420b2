package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixPluginConfig;
import io.archway.operator.translate.ApisixPluginConfigTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/**
 * ApisixPluginConfig → {@code plugin_configs/apc_…}; the routes that name it are reconciled again
 * when it changes.
 */
@ControllerConfiguration(name = "apisixpluginconfig")
public final class ApisixPluginConfigReconciler extends CustomResourceReconciler<ApisixPluginConfig>
    implements Reconciler<ApisixPluginConfig> {

  public ApisixPluginConfigReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(ApisixPluginConfig r) {
    return ApisixPluginConfigTranslator.translate(r, ctx.caches());
  }

  @Override
  String ingressClassName(ApisixPluginConfig r) {
    return r.getSpec() == null ? null : r.getSpec().ingressClassName;
  }
}
