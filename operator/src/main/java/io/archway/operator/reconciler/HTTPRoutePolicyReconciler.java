package io.archway.operator.reconciler;

import io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy;
import io.archway.operator.translate.HTTPRoutePolicyTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/**
 * HTTPRoutePolicy: checked and given a status; its priority and vars reach etcd with the routes of
 * the Ingresses it targets, which are reconciled again whenever it changes.
 */
@ControllerConfiguration(name = "httproutepolicy")
public final class HTTPRoutePolicyReconciler extends CustomResourceReconciler<HTTPRoutePolicy>
    implements Reconciler<HTTPRoutePolicy> {

  public HTTPRoutePolicyReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(HTTPRoutePolicy r) {
    return HTTPRoutePolicyTranslator.translate(r, ctx.caches());
  }

  /** The kind has no ingress class: every one in the watched namespaces is this operator's. */
  @Override
  String ingressClassName(HTTPRoutePolicy r) {
    return null;
  }

  @Override
  boolean status(HTTPRoutePolicy r, Outcome o) {
    return super.status(r, PolicyOutcome.appliedByRoutes(o));
  }
}
