package io.archway.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;

/**
 * Turns changes the HTTPRoutes' translation reads into their reconciles, besides what {@link
 * Dependents} does from {@link References} (backend Services, ExtensionRef ApisixPluginConfigs and
 * PluginFlows): any ReferenceGrant (it may let a backend in, or shut it out) and any Namespace (its
 * labels are what a listener's namespace selector matches) reconcile every HTTPRoute; a Gateway
 * whose listeners changed ({@link GatewayReconciler}) reconciles the routes naming it. A
 * GatewayClass reaches the routes through its Gateways.
 */
final class HTTPRouteDependents {

  private final HTTPRouteReconciler routes;

  HTTPRouteDependents(HTTPRouteReconciler routes) {
    this.routes = routes;
  }

  void all() {
    routes.all().forEach(routes.trigger::fire);
  }

  void changed(HasMetadata x) {
    if (x instanceof ReferenceGrant || x instanceof Namespace) {
      all();
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
