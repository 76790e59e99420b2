package io.archway.operator.reconciler;

import io.archway.operator.translate.L4RouteTranslator;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRouteStatus;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import java.util.List;

/**
 * TCPRoute → its stream routes in etcd ({@link L4RouteTranslator#translate}) and its {@code
 * status.parents} ({@link L4RouteTranslator#status}), as {@link GatewayRouteReconciler} says; the
 * L4RoutePolicies of its namespace apply ({@link RouteDependents}). It has no hostnames.
 */
@ControllerConfiguration(name = "tcproute")
public final class TCPRouteReconciler extends GatewayRouteReconciler<TCPRoute>
    implements Reconciler<TCPRoute> {

  public TCPRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(TCPRoute r) {
    return L4RouteTranslator.translate(r, ctx.caches());
  }

  @Override
  List<RouteParentStatus> computeStatus(TCPRoute r) {
    return L4RouteTranslator.status(r, ctx.caches());
  }

  @Override
  List<ParentReference> parentRefs(TCPRoute r) {
    return r.getSpec() == null ? null : r.getSpec().getParentRefs();
  }

  @Override
  List<String> hostnames(TCPRoute r) {
    return null;
  }

  @Override
  List<RouteParentStatus> parents(TCPRoute r) {
    return r.getStatus() == null ? null : r.getStatus().getParents();
  }

  @Override
  void parents(TCPRoute r, List<RouteParentStatus> parents) {
    var status = r.getStatus() == null ? new TCPRouteStatus() : r.getStatus();
    status.setParents(parents);
    r.setStatus(status);
  }
}
