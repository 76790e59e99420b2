package io.archway.operator.translate;

import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;

/**
 * An IngressClass in {@code translate|validate}: its {@code spec.parameters} naming a GatewayProxy
 * (the APISIX Ingress Controller 2.x way of giving a class its global plugins) are checked against
 * the GatewayProxies in the files. It writes nothing itself: the operator writes a GatewayProxy's
 * plugins while an IngressClass of its controller names it. (Other parameters are refused when the
 * file is read, by {@link Manifests}.)
 */
public final class IngressClassTranslator {

  private IngressClassTranslator() {}

  public static Translation translate(IngressClass ic, Refs refs) {
    var t = new Translation();
    var p = ic.getSpec() == null ? null : ic.getSpec().getParameters();
    if (p == null || !"GatewayProxy".equals(p.getKind())) {
      return t;
    }
    if (p.getName() == null || p.getName().isEmpty()) {
      t.error("spec.parameters.name", "missing (expected: the GatewayProxy's name)");
      return t;
    }
    if (p.getNamespace() == null || p.getNamespace().isEmpty()) {
      t.error(
          "spec.parameters.namespace",
          "missing (expected: the GatewayProxy's namespace, with scope: Namespace)");
      return t;
    }
    if (refs.gatewayProxy(p.getNamespace(), p.getName()).isEmpty()) {
      t.warn(
          "spec.parameters: GatewayProxy "
              + p.getNamespace()
              + "/"
              + p.getName()
              + " is not among the resources given; without it the class has no global plugins");
    }
    return t;
  }
}
