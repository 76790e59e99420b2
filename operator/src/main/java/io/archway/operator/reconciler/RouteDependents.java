package io.archway.operator.reconciler;

import io.archway.crds.apisix.v1alpha1.L4RoutePolicy;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;

/**
 * Turns changes a Gateway API route kind's translation reads into its routes' reconciles (one
 * instance per route kind), besides what {@link Dependents} does from {@link References} (backend
 * Services, ExtensionRef ApisixPluginConfigs and PluginFlows): any ReferenceGrant (it may let a
 * backend in, or shut it out) and any Namespace (its labels are what a listener's namespace
 * selector matches) reconcile every route of the kind; a Gateway whose listeners changed ({@link
 * GatewayReconciler}) reconciles the routes naming it; for the L4 kinds, an L4RoutePolicy
 * reconciles the routes of its namespace (its targets; what it targeted before included). A
 * GatewayClass reaches the routes through its Gateways.
 */
final class RouteDependents {

  private final GatewayRouteReconciler<?> routes;
  private final boolean l4;

  RouteDependents(GatewayRouteReconciler<?> routes) {
    this.routes = routes;
    this.l4 =
        routes instanceof TLSRouteReconciler
            || routes instanceof TCPRouteReconciler
            || routes instanceof UDPRouteReconciler;
  }

  void all() {
    routes.all().forEach(routes.trigger::fire);
  }

  void changed(HasMetadata x) {
    if (x instanceof ReferenceGrant || x instanceof Namespace) {
      all();
    } else if (l4 && x instanceof L4RoutePolicy p) {
      var ns = p.getMetadata().getNamespace();
      for (var r : routes.all()) {
        if (ns.equals(r.getMetadata().getNamespace())) {
          routes.trigger.fire(r);
        }
      }
    }
  }

  /** The routes whose parentRefs name the Gateway {@code namespace/name}. */
  void gatewayChanged(String gateway) {
    var key = "Gateway/" + gateway;
    for (var r : routes.all()) {
      if (References.of(r).contains(key)) {
        routes.trigger.fire(r);
      }
    }
  }
}
