package io.archway.operator.reconciler;

import io.archway.crds.archway.StreamRoute;
import io.archway.operator.translate.StreamRouteTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/** StreamRoute → {@code stream_routes/sr_…}. */
@ControllerConfiguration(name = "streamroute")
public final class StreamRouteReconciler extends CustomResourceReconciler<StreamRoute>
    implements Reconciler<StreamRoute> {

  public StreamRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(StreamRoute r) {
    return StreamRouteTranslator.translate(r, ctx.caches());
  }

  @Override
  String ingressClassName(StreamRoute r) {
    return r.getSpec() == null ? null : r.getSpec().ingressClassName;
  }
}
