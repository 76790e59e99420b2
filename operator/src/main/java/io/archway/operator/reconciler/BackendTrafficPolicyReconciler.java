package io.archway.operator.reconciler;

import io.archway.crds.apisix.v1alpha1.BackendTrafficPolicy;
import io.archway.operator.translate.BackendTrafficPolicyTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/**
 * BackendTrafficPolicy: checked and given a status; its settings reach etcd with the Ingress routes
 * whose backends are the Services it targets, which are reconciled again whenever it changes.
 */
@ControllerConfiguration(name = "backendtrafficpolicy")
public final class BackendTrafficPolicyReconciler
    extends CustomResourceReconciler<BackendTrafficPolicy>
    implements Reconciler<BackendTrafficPolicy> {

  public BackendTrafficPolicyReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(BackendTrafficPolicy r) {
    return BackendTrafficPolicyTranslator.translate(r, ctx.caches());
  }

  /** The kind has no ingress class: every one in the watched namespaces is this operator's. */
  @Override
  String ingressClassName(BackendTrafficPolicy r) {
    return null;
  }

  @Override
  boolean status(BackendTrafficPolicy r, Outcome o) {
    return super.status(r, PolicyOutcome.appliedByRoutes(o));
  }
}
