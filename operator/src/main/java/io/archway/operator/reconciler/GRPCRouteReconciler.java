package io.archway.operator.reconciler;

import io.archway.operator.translate.GRPCRouteTranslator;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import java.util.List;

/**
 * GRPCRoute → its routes in etcd ({@link GRPCRouteTranslator#translate}) and its {@code
 * status.parents} ({@link GRPCRouteTranslator#status}), as {@link GatewayRouteReconciler} says.
 */
@ControllerConfiguration(name = "grpcroute")
public final class GRPCRouteReconciler extends GatewayRouteReconciler<GRPCRoute>
    implements Reconciler<GRPCRoute> {

  public GRPCRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(GRPCRoute r) {
    return GRPCRouteTranslator.translate(r, ctx.caches());
  }

  @Override
  List<RouteParentStatus> computeStatus(GRPCRoute r) {
    return GRPCRouteTranslator.status(r, ctx.caches());
  }

  @Override
  List<ParentReference> parentRefs(GRPCRoute r) {
    return r.getSpec() == null ? null : r.getSpec().getParentRefs();
  }

  @Override
  List<String> hostnames(GRPCRoute r) {
    return r.getSpec() == null ? null : r.getSpec().getHostnames();
  }

  @Override
  List<RouteParentStatus> parents(GRPCRoute r) {
    return r.getStatus() == null ? null : r.getStatus().getParents();
  }

  @Override
  void parents(GRPCRoute r, List<RouteParentStatus> parents) {
    var status = r.getStatus() == null ? new GRPCRouteStatus() : r.getStatus();
    status.setParents(parents);
    r.setStatus(status);
  }
}
