package io.archway.operator.reconciler;

import io.archway.operator.translate.IngressTranslator;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerStatus;
import io.fabric8.kubernetes.api.model.networking.v1.IngressStatus;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Ingress ({@code networking.k8s.io/v1}) of this operator's class → {@code routes/ing_…}, with
 * {@code status.loadBalancer} from the dataplane Service. An Ingress has no conditions: refusals
 * and warnings are Events.
 */
@ControllerConfiguration(name = "ingress")
public final class IngressReconciler extends ResourceReconciler<Ingress>
    implements Reconciler<Ingress> {

  static final String LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class";
  static final String DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";

  public IngressReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(Ingress r) {
    return IngressTranslator.translate(r, ctx.caches());
  }

  @Override
  boolean claimsRoutes() {
    return true;
  }

  /**
   * Ours when its class (field, else the legacy annotation) is an IngressClass with our controller,
   * or our class name when no IngressClass of that name exists; with no class, when one of our
   * IngressClasses is the cluster default.
   */
  @Override
  boolean ours(Ingress r) {
    var name = r.getSpec() == null ? null : r.getSpec().getIngressClassName();
    if (name == null) {
      var ann = r.getMetadata().getAnnotations();
      var legacy = ann == null ? null : ann.get(LEGACY_CLASS_ANNOTATION);
      if (legacy != null) {
        return legacy.equals(ctx.ingressClass());
      }
      return ctx.caches().ingressClasses().stream()
          .anyMatch(
              c ->
                  OperatorContext.CONTROLLER.equals(c.getSpec().getController())
                      && c.getMetadata().getAnnotations() != null
                      && "true"
                          .equals(c.getMetadata().getAnnotations().get(DEFAULT_CLASS_ANNOTATION)));
    }
    return ctx.caches()
        .ingressClass(name)
        .map(c -> OperatorContext.CONTROLLER.equals(c.getSpec().getController()))
        .orElse(name.equals(ctx.ingressClass()));
  }

  @Override
  boolean status(Ingress r, Outcome o) {
    if (!o.programmed()) {
      return false;
    }
    var addresses = publishedAddresses(ctx);
    var current =
        r.getStatus() == null || r.getStatus().getLoadBalancer() == null
            ? List.<IngressLoadBalancerIngress>of()
            : r.getStatus().getLoadBalancer().getIngress();
    if (addresses.isEmpty() || Objects.equals(current, addresses)) {
      return false;
    }
    r.setStatus(new IngressStatus(new IngressLoadBalancerStatus(addresses)));
    return true;
  }

  /** The published Service's addresses (also a Gateway's {@code status.addresses}). */
  static List<IngressLoadBalancerIngress> publishedAddresses(OperatorContext ctx) {
    if (ctx.publishService() == null) {
      return List.of();
    }
    var svc = ctx.caches().serviceByKey(ctx.publishService());
    if (svc.isEmpty()) {
      return List.of();
    }
    // One address rule with a Gateway's status.addresses (GatewayServiceTranslator.ingress).
    var out = new ArrayList<IngressLoadBalancerIngress>();
    for (LoadBalancerIngress lb :
        io.archway.operator.translate.GatewayServiceTranslator.ingress(svc.get())) {
      out.add(
          new IngressLoadBalancerIngressBuilder()
              .withIp(lb.getIp())
              .withHostname(lb.getHostname())
              .build());
    }
    return out;
  }
}
