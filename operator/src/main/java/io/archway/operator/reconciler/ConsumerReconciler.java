package io.archway.operator.reconciler;

import io.archway.crds.apisix.v1alpha1.Consumer;
import io.archway.operator.translate.ConsumerTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/**
 * Consumer (APISIX Ingress Controller 2.x) → {@code consumers/<namespace>_<name>} and its
 * credentials.
 */
@ControllerConfiguration(name = "consumer")
public final class ConsumerReconciler extends CustomResourceReconciler<Consumer>
    implements Reconciler<Consumer> {

  public ConsumerReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(Consumer r) {
    return ConsumerTranslator.translate(r, ctx.caches());
  }

  /** The kind has no ingress class: every one in the watched namespaces is this operator's. */
  @Override
  String ingressClassName(Consumer r) {
    return null;
  }
}
