package io.archway.operator.translate;

import java.util.Set;

/**
 * Whether a Gateway API {@code backendRef} (of any route kind) resolves: a core {@code Service}
 * with that port, in the route's namespace or in another one whose {@code ReferenceGrant} allows
 * it, speaking a protocol the route kind can use. Shared by HTTPRoute, GRPCRoute, TLSRoute,
 * TCPRoute and UDPRoute.
 */
public final class BackendRefs {

  public static final String REF_NOT_PERMITTED = "RefNotPermitted";
  public static final String INVALID_KIND = "InvalidKind";
  public static final String BACKEND_NOT_FOUND = "BackendNotFound";
  public static final String UNSUPPORTED_PROTOCOL = "UnsupportedProtocol";

  static final String CORE = "";

  private BackendRefs() {}

  /** A reference the route makes that does not resolve: the ResolvedRefs reason and message. */
  record RefProblem(String reason, String message) {}

  /** A backendRef's fields, whatever the route kind's class for it. */
  record Ref(String group, String kind, String name, String namespace, Integer port) {}

  /**
   * Why {@code b}, of a {@code routeKind} in {@code routeNs}, does not resolve, or {@code null}
   * when it does.
   *
   * @param appProtocols the Service port {@code appProtocol}s the route kind can use (a port
   *     without one always can); {@code null}: any
   */
  static RefProblem problem(
      String routeKind, String routeNs, Ref b, String at, Set<String> appProtocols, Refs refs) {
    var group = b.group() == null ? CORE : b.group();
    var kind = b.kind() == null ? "Service" : b.kind();
    var bNs = namespace(b, routeNs);
    var what = at + ": " + kind + " " + bNs + "/" + b.name();
    if (b.name() == null || b.name().isEmpty()) {
      return new RefProblem(BACKEND_NOT_FOUND, at + ".name: missing (expected: a Service name)");
    }
    if (!CORE.equals(group) || !"Service".equals(kind)) {
      return new RefProblem(
          INVALID_KIND,
          at + ": " + (group.isEmpty() ? "" : group + "/") + kind + " (expected: a Service)");
    }
    if (!bNs.equals(routeNs)
        && !granted(routeNs, routeKind, bNs, CORE, "Service", b.name(), refs)) {
      return new RefProblem(
          REF_NOT_PERMITTED,
          what + " is in another namespace and no ReferenceGrant there allows it");
    }
    if (b.port() == null) {
      return new RefProblem(BACKEND_NOT_FOUND, what + ": port missing (expected: a port)");
    }
    var svc = refs.service(bNs, b.name());
    if (svc.isEmpty()) {
      return new RefProblem(BACKEND_NOT_FOUND, what + " not found");
    }
    var ports = svc.get().getSpec().getPorts();
    boolean externalName = "ExternalName".equals(svc.get().getSpec().getType());
    if ((ports == null || ports.isEmpty()) && !externalName
        || ports != null
            && !ports.isEmpty()
            && ports.stream().noneMatch(p -> b.port().equals(p.getPort()))) {
      return new RefProblem(
          BACKEND_NOT_FOUND, what + " has no port " + b.port() + " (expected: a port it has)");
    }
    if (ports != null && appProtocols != null) {
      for (var p : ports) {
        var proto = p.getAppProtocol();
        if (b.port().equals(p.getPort()) && proto != null && !appProtocols.contains(proto)) {
          return new RefProblem(
              UNSUPPORTED_PROTOCOL,
              what
                  + " port "
                  + b.port()
                  + ": appProtocol "
                  + proto
                  + " (expected: "
                  + String.join(" or ", appProtocols.stream().sorted().toList())
                  + ")");
        }
      }
    }
    return null;
  }

  /**
   * The upstream of the Service {@code b} names (in its namespace, else {@code routeNs}), as {@link
   * Upstreams#forService} makes it; {@code null} with a {@code BackendNotFound} warning on {@code
   * t} when it cannot be made.
   *
   * @param granularity the ApisixUpstream-style discovery granularity, or {@code null}
   */
  static com.fasterxml.jackson.databind.node.ObjectNode serviceUpstream(
      String routeNs,
      String namespace,
      String name,
      Integer port,
      String at,
      String granularity,
      Refs refs,
      Translation t) {
    var bNs = namespace == null || namespace.isEmpty() ? routeNs : namespace;
    var inner = new Translation();
    var up =
        Upstreams.forService(
            bNs,
            name,
            new io.fabric8.kubernetes.api.model.IntOrString(port),
            granularity,
            null,
            new Upstreams.BackendFields(at, at + ".name", at + ".port"),
            refs,
            inner);
    inner.warningsWithReason().forEach(w -> t.warn(w, ""));
    if (up == null) {
      t.warn(BACKEND_NOT_FOUND, inner.errorMessage());
    }
    return up;
  }

  /** The namespace {@code b} names: its own, else the route's. */
  static String namespace(Ref b, String routeNs) {
    return b.namespace() == null || b.namespace().isEmpty() ? routeNs : b.namespace();
  }

  /** The {@code appProtocol} of {@code b}'s Service port, or null (none, or not found). */
  static String appProtocol(Ref b, String routeNs, Refs refs) {
    var svc = refs.service(namespace(b, routeNs), b.name());
    if (svc.isEmpty() || svc.get().getSpec().getPorts() == null || b.port() == null) {
      return null;
    }
    for (var p : svc.get().getSpec().getPorts()) {
      if (b.port().equals(p.getPort())) {
        return p.getAppProtocol();
      }
    }
    return null;
  }

  /**
   * Whether a ReferenceGrant in {@code toNs} lets {@code fromKind}s of {@code fromNs} refer to the
   * {@code toGroup}/{@code toKind} named {@code toName}.
   */
  static boolean granted(
      String fromNs,
      String fromKind,
      String toNs,
      String toGroup,
      String toKind,
      String toName,
      Refs refs) {
    for (var g : refs.referenceGrants(toNs)) {
      var spec = g.getSpec();
      if (spec == null || spec.getFrom() == null || spec.getTo() == null) {
        continue;
      }
      boolean from =
          spec.getFrom().stream()
              .anyMatch(
                  f ->
                      ListenerAttachment.GROUP.equals(f.getGroup())
                          && fromKind.equals(f.getKind())
                          && fromNs.equals(f.getNamespace()));
      boolean to =
          spec.getTo().stream()
              .anyMatch(
                  x ->
                      toGroup.equals(x.getGroup() == null ? CORE : x.getGroup())
                          && toKind.equals(x.getKind())
                          && (x.getName() == null
                              || x.getName().isEmpty()
                              || x.getName().equals(toName)));
      if (from && to) {
        return true;
      }
    }
    return false;
  }
}
