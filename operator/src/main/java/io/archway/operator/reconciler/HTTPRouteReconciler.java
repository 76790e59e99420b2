package io.archway.operator.reconciler;

import io.archway.operator.translate.HTTPRouteTranslator;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import java.util.List;

/**
 * HTTPRoute → its routes in etcd ({@link HTTPRouteTranslator#translate}) and its {@code
 * status.parents} ({@link HTTPRouteTranslator#status}), as {@link GatewayRouteReconciler} says.
 */
@ControllerConfiguration(name = "httproute")
public final class HTTPRouteReconciler extends GatewayRouteReconciler<HTTPRoute>
    implements Reconciler<HTTPRoute> {

  public HTTPRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(HTTPRoute r) {
    return HTTPRouteTranslator.translate(r, ctx.caches());
  }

  @Override
  List<RouteParentStatus> computeStatus(HTTPRoute r) {
    return HTTPRouteTranslator.status(r, ctx.caches());
  }

  @Override
  List<ParentReference> parentRefs(HTTPRoute r) {
    return r.getSpec() == null ? null : r.getSpec().getParentRefs();
  }

  @Override
  List<String> hostnames(HTTPRoute r) {
    return r.getSpec() == null ? null : r.getSpec().getHostnames();
  }

  @Override
  List<RouteParentStatus> parents(HTTPRoute r) {
    return r.getStatus() == null ? null : r.getStatus().getParents();
  }

  @Override
  void parents(HTTPRoute r, List<RouteParentStatus> parents) {
    var status = r.getStatus() == null ? new HTTPRouteStatus() : r.getStatus();
    status.setParents(parents);
    r.setStatus(status);
  }
}
