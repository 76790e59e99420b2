package io.archway.operator.reconciler;

import io.archway.crds.apisix.v1alpha1.GatewayProxy;
import io.archway.operator.translate.GatewayProxyTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/**
 * GatewayProxy → {@code global_rules/gp_<namespace>_<name>} (its enabled plugins) and {@code
 * plugin_metadata/<plugin>}, when an IngressClass of this operator's controller names it in {@code
 * spec.parameters}.
 */
@ControllerConfiguration(name = "gatewayproxy")
public final class GatewayProxyReconciler extends CustomResourceReconciler<GatewayProxy>
    implements Reconciler<GatewayProxy> {

  public GatewayProxyReconciler(OperatorContext ctx) {
    super(ctx);
  }

  /**
   * What it writes while an IngressClass of our controller names it in {@code spec.parameters}, as
   * the APISIX Ingress Controller takes the GatewayProxy of the IngressClasses it serves; nothing
   * otherwise, said in a warning. (Every GatewayProxy is reconciled, so that an IngressClass change
   * can reach it: {@link Dependents} reconciles them all again on one.)
   */
  @Override
  Translation translate(GatewayProxy r) {
    var t = GatewayProxyTranslator.translate(r, ctx.caches());
    if (!referenced(r)) {
      return GatewayProxyTranslator.unreferenced(t, OperatorContext.CONTROLLER);
    }
    return t;
  }

  private boolean referenced(GatewayProxy r) {
    var ns = r.getMetadata().getNamespace();
    var name = r.getMetadata().getName();
    return ctx.caches().ingressClasses().stream()
        .filter(c -> c.getSpec() != null)
        .filter(c -> OperatorContext.CONTROLLER.equals(c.getSpec().getController()))
        .map(c -> c.getSpec().getParameters())
        .anyMatch(
            p ->
                p != null
                    && "apisix.apache.org".equals(p.getApiGroup())
                    && "GatewayProxy".equals(p.getKind())
                    && name.equals(p.getName())
                    && (p.getNamespace() == null || ns.equals(p.getNamespace())));
  }

  /** The kind has no ingress class: every one in the watched namespaces is this operator's. */
  @Override
  String ingressClassName(GatewayProxy r) {
    return null;
  }
}
