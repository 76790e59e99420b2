package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixUpstream;
import io.archway.operator.translate.ApisixUpstreamTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/**
 * ApisixUpstream: checked and given a status; its settings reach etcd through the routes that use
 * it, which are reconciled again whenever it changes.
 */
@ControllerConfiguration(name = "apisixupstream")
public final class ApisixUpstreamReconciler extends CustomResourceReconciler<ApisixUpstream>
    implements Reconciler<ApisixUpstream> {

  public ApisixUpstreamReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(ApisixUpstream r) {
    return ApisixUpstreamTranslator.translate(r, ctx.caches());
  }

  @Override
  String ingressClassName(ApisixUpstream r) {
    return r.getSpec() == null ? null : r.getSpec().ingressClassName;
  }

  @Override
  boolean status(ApisixUpstream r, Outcome o) {
    if (o.programmed()) {
      o =
          new Outcome(
              o.accepted(),
              o.acceptedReason(),
              o.acceptedMessage(),
              true,
              Reason.APPLIED_BY_ROUTES,
              "its settings are written with the routes that use it",
              java.util.List.of());
    }
    return super.status(r, o);
  }
}
