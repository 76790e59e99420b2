package io.archway.operator.reconciler;

import io.archway.operator.translate.GatewayServiceTranslator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;

/**
 * Turns changes the Gateways' translation reads into their reconciles: a Secret one of their
 * listeners names, any ReferenceGrant (it may let a Gateway in, or shut it out), the published
 * dataplane Service (its address is theirs), the Service Archway keeps for one Gateway (its address
 * is that Gateway's). A GatewayParameters reaches the classes and Gateways naming it through {@link
 * References}. Their GatewayClass's changes come from its own reconciler ({@link
 * GatewayClassReconciler}).
 */
final class GatewayDependents {

  private final OperatorContext ctx;
  private final GatewayReconciler gateways;

  GatewayDependents(OperatorContext ctx, GatewayReconciler gateways) {
    this.ctx = ctx;
    this.gateways = gateways;
  }

  /** Every Gateway, again. */
  void all() {
    gateways.all().forEach(gateways.trigger::fire);
  }

  void changed(HasMetadata x) {
    switch (x) {
      case ReferenceGrant g -> all();
      case Service s
          when ctx.publishService() != null
              && ctx.publishService()
                  .equals(s.getMetadata().getNamespace() + "/" + s.getMetadata().getName()) ->
          all();
      case Service s when GatewayDependents.gatewayOf(s) != null -> {
        // A Service Archway keeps for a Gateway: its address is the Gateway's.
        var name = gatewayOf(s);
        for (var r : gateways.all()) {
          if (r.getMetadata().getNamespace().equals(s.getMetadata().getNamespace())
              && r.getMetadata().getName().equals(name)) {
            gateways.trigger.fire(r);
          }
        }
      }
      case Secret s -> {
        for (var r : gateways.all()) {
          if (r instanceof Gateway gw && names(gw, s)) {
            gateways.trigger.fire(gw);
          }
        }
      }
      default -> {}
    }
  }

  /** The Gateway whose Service Archway keeps this is (its labels say), or {@code null}. */
  static String gatewayOf(Service s) {
    var labels = s.getMetadata().getLabels();
    return labels != null
            && GatewayServiceTranslator.MANAGED_BY.equals(
                labels.get(GatewayServiceTranslator.MANAGED_BY_LABEL))
        ? labels.get(GatewayServiceTranslator.GATEWAY_LABEL)
        : null;
  }

  /** Whether one of the Gateway's listeners names the Secret in its certificateRefs. */
  static boolean names(Gateway gw, Secret s) {
    if (gw.getSpec() == null || gw.getSpec().getListeners() == null) {
      return false;
    }
    var ns = gw.getMetadata().getNamespace();
    return gw.getSpec().getListeners().stream()
        .filter(l -> l.getTls() != null && l.getTls().getCertificateRefs() != null)
        .flatMap(l -> l.getTls().getCertificateRefs().stream())
        .anyMatch(
            ref ->
                s.getMetadata().getName().equals(ref.getName())
                    && s.getMetadata()
                        .getNamespace()
                        .equals(
                            ref.getNamespace() == null || ref.getNamespace().isEmpty()
                                ? ns
                                : ref.getNamespace()));
  }
}
