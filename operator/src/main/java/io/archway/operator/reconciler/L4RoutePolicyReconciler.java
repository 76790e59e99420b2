package io.archway.operator.reconciler;

import io.archway.crds.apisix.v1alpha1.L4RoutePolicy;
import io.archway.operator.translate.L4RoutePolicyTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/**
 * L4RoutePolicy: nothing of its own; its stream plugins go into the stream routes of the TCPRoutes,
 * UDPRoutes and TLSRoutes it targets (see {@code L4RoutePolicyTranslator}). Those read it from
 * {@link Caches#l4RoutePolicies}; a policy's change reconciles the L4 routes of its namespace again
 * ({@link RouteDependents}), the ones it targeted before included.
 */
@ControllerConfiguration(name = "l4routepolicy")
public final class L4RoutePolicyReconciler extends CustomResourceReconciler<L4RoutePolicy>
    implements Reconciler<L4RoutePolicy> {

  public L4RoutePolicyReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(L4RoutePolicy r) {
    return L4RoutePolicyTranslator.translate(r, ctx.caches());
  }

  /** The kind has no ingress class: every one in the watched namespaces is this operator's. */
  @Override
  String ingressClassName(L4RoutePolicy r) {
    return null;
  }
}
