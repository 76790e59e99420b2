package io.archway.operator.reconciler;

import io.archway.crds.archway.PluginFlow;
import io.archway.operator.translate.PluginFlowTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/** PluginFlow → {@code plugin_flows/pf_…}. */
@ControllerConfiguration(name = "pluginflow")
public final class PluginFlowReconciler extends CustomResourceReconciler<PluginFlow>
    implements Reconciler<PluginFlow> {

  public PluginFlowReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(PluginFlow r) {
    return PluginFlowTranslator.translate(r, ctx.caches());
  }

  @Override
  String ingressClassName(PluginFlow r) {
    return null;
  }
}
