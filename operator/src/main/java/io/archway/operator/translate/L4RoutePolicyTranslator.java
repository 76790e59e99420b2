package io.archway.operator.translate;

import io.archway.crds.apisix.v1alpha1.L4RoutePolicy;

/**
 * An L4RoutePolicy (APISIX Ingress Controller 2.x) attaches stream plugins to Gateway API
 * TCPRoutes, UDPRoutes and TLSRoutes only. Archway does not serve those yet, so it is refused with
 * that reason rather than accepted and never acted on. (Archway's own StreamRoute and ApisixRoute's
 * {@code stream} rules take their plugins directly.)
 */
public final class L4RoutePolicyTranslator {

  private L4RoutePolicyTranslator() {}

  public static Translation translate(L4RoutePolicy p, Refs refs) {
    var t = new Translation();
    var spec = p.getSpec();
    if (spec == null || spec.targetRefs == null || spec.targetRefs.isEmpty()) {
      t.error(
          "spec.targetRefs",
          "missing; and Gateway API TCPRoute/UDPRoute are not supported yet (expected: none:"
              + " L4RoutePolicy is not supported by Archway yet)");
      return t;
    }
    for (int i = 0; i < spec.targetRefs.size(); i++) {
      var ref = spec.targetRefs.get(i);
      t.error(
          "spec.targetRefs[" + i + "]",
          (ref == null || ref.kind == null ? "a route" : ref.kind + " " + ref.name)
              + ": Gateway API TCPRoute/UDPRoute are not supported yet, so L4RoutePolicy is"
              + " refused (expected: stream plugins on a StreamRoute or an ApisixRoute stream"
              + " rule)");
    }
    return t;
  }
}
