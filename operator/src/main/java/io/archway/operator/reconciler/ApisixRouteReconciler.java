package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixRoute;
import io.archway.operator.translate.ApisixRouteTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/** ApisixRoute → {@code routes/ar_…} and {@code stream_routes/ar_…}. */
@ControllerConfiguration(name = "apisixroute")
public final class ApisixRouteReconciler extends CustomResourceReconciler<ApisixRoute>
    implements Reconciler<ApisixRoute> {

  public ApisixRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(ApisixRoute r) {
    return ApisixRouteTranslator.translate(r, ctx.caches());
  }

  @Override
  boolean claimsRoutes() {
    return true;
  }

  @Override
  String ingressClassName(ApisixRoute r) {
    return r.getSpec() == null ? null : r.getSpec().ingressClassName;
  }
}
