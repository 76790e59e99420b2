package io.archway.operator.reconciler;

import io.archway.crds.apisix.v1alpha1.PluginConfig;
import io.archway.operator.translate.PluginConfigTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/** PluginConfig (APISIX Ingress Controller 2.x) → {@code plugin_configs/pc_<namespace>_<name>}. */
@ControllerConfiguration(name = "pluginconfig")
public final class PluginConfigReconciler extends CustomResourceReconciler<PluginConfig>
    implements Reconciler<PluginConfig> {

  public PluginConfigReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(PluginConfig r) {
    return PluginConfigTranslator.translate(r, ctx.caches());
  }

  /** The kind has no ingress class: every one in the watched namespaces is this operator's. */
  @Override
  String ingressClassName(PluginConfig r) {
    return null;
  }
}
