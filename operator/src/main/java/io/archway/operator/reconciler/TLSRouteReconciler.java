package io.archway.operator.reconciler;

import io.archway.operator.translate.L4RouteTranslator;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRouteStatus;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import java.util.List;

/**
 * TLSRoute → its stream routes (matched by SNI) in etcd ({@link L4RouteTranslator#translate}) and
 * its {@code status.parents} ({@link L4RouteTranslator#status}), as {@link GatewayRouteReconciler}
 * says; the L4RoutePolicies of its namespace apply ({@link RouteDependents}).
 */
@ControllerConfiguration(name = "tlsroute")
public final class TLSRouteReconciler extends GatewayRouteReconciler<TLSRoute>
    implements Reconciler<TLSRoute> {

  public TLSRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(TLSRoute r) {
    return L4RouteTranslator.translate(r, ctx.caches());
  }

  @Override
  List<RouteParentStatus> computeStatus(TLSRoute r) {
    return L4RouteTranslator.status(r, ctx.caches());
  }

  @Override
  List<ParentReference> parentRefs(TLSRoute r) {
    return r.getSpec() == null ? null : r.getSpec().getParentRefs();
  }

  @Override
  List<String> hostnames(TLSRoute r) {
    return r.getSpec() == null ? null : r.getSpec().getHostnames();
  }

  @Override
  List<RouteParentStatus> parents(TLSRoute r) {
    return r.getStatus() == null ? null : r.getStatus().getParents();
  }

  @Override
  void parents(TLSRoute r, List<RouteParentStatus> parents) {
    var status = r.getStatus() == null ? new TLSRouteStatus() : r.getStatus();
    status.setParents(parents);
    r.setStatus(status);
  }
}
