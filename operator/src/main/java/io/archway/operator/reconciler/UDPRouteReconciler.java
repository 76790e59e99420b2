package io.archway.operator.reconciler;

import io.archway.operator.translate.L4RouteTranslator;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRouteStatus;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import java.util.List;

/**
 * UDPRoute → its stream routes in etcd ({@link L4RouteTranslator#translate}) and its {@code
 * status.parents} ({@link L4RouteTranslator#status}), as {@link GatewayRouteReconciler} says; the
 * L4RoutePolicies of its namespace apply ({@link RouteDependents}). It has no hostnames.
 */
@ControllerConfiguration(name = "udproute")
public final class UDPRouteReconciler extends GatewayRouteReconciler<UDPRoute>
    implements Reconciler<UDPRoute> {

  public UDPRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(UDPRoute r) {
    return L4RouteTranslator.translate(r, ctx.caches());
  }

  @Override
  List<RouteParentStatus> computeStatus(UDPRoute r) {
    return L4RouteTranslator.status(r, ctx.caches());
  }

  @Override
  List<ParentReference> parentRefs(UDPRoute r) {
    return r.getSpec() == null ? null : r.getSpec().getParentRefs();
  }

  @Override
  List<String> hostnames(UDPRoute r) {
    return null;
  }

  @Override
  List<RouteParentStatus> parents(UDPRoute r) {
    return r.getStatus() == null ? null : r.getStatus().getParents();
  }

  @Override
  void parents(UDPRoute r, List<RouteParentStatus> parents) {
    var status = r.getStatus() == null ? new UDPRouteStatus() : r.getStatus();
    status.setParents(parents);
    r.setStatus(status);
  }
}
