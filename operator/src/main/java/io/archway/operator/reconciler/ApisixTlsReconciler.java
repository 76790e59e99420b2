package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixTls;
import io.archway.operator.translate.ApisixTlsTranslator;
import io.archway.operator.translate.Translation;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;

/** ApisixTls → {@code ssls/tls_…}, from its Secrets; reconciled again when they change. */
@ControllerConfiguration(name = "apisixtls")
public final class ApisixTlsReconciler extends CustomResourceReconciler<ApisixTls>
    implements Reconciler<ApisixTls> {

  public ApisixTlsReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(ApisixTls r) {
    return ApisixTlsTranslator.translate(r, ctx.caches());
  }

  @Override
  String ingressClassName(ApisixTls r) {
    return r.getSpec() == null ? null : r.getSpec().ingressClassName;
  }
}
