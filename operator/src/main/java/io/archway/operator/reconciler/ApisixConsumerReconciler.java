package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixConsumer;
import io.archway.operator.translate.ApisixConsumerTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/** ApisixConsumer → {@code consumers/<namespace>_<name>}, credentials from values or Secrets. */
@ControllerConfiguration(name = "apisixconsumer")
public final class ApisixConsumerReconciler extends CustomResourceReconciler<ApisixConsumer>
    implements Reconciler<ApisixConsumer> {

  public ApisixConsumerReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(ApisixConsumer r) {
    return ApisixConsumerTranslator.translate(r, ctx.caches());
  }

  @Override
  String ingressClassName(ApisixConsumer r) {
    return r.getSpec() == null ? null : r.getSpec().ingressClassName;
  }
}
