package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy;
import io.archway.crds.apisix.v1alpha1.PolicyTargetRef;
import io.archway.model.Kind;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * An HTTPRoutePolicy (APISIX Ingress Controller 2.x): {@code priority} and more match conditions
 * ({@code vars}) for the routes of the Ingresses it targets. It writes nothing of its own: the
 * Ingresses carry it ({@link #apply}) and are reconciled again whenever it changes. Gateway API
 * HTTPRoute targets are refused: their precedence is the Gateway API's, encoded in each route's
 * priority, which a policy's priority would override.
 */
public final class HTTPRoutePolicyTranslator {

  private HTTPRoutePolicyTranslator() {}

  public static Translation translate(HTTPRoutePolicy p, Refs refs) {
    var t = new Translation();
    var spec = p.getSpec();
    if (spec == null || spec.targetRefs == null || spec.targetRefs.isEmpty()) {
      t.error("spec.targetRefs", "missing (expected: at least one Ingress)");
      return t;
    }
    for (int i = 0; i < spec.targetRefs.size(); i++) {
      var ref = spec.targetRefs.get(i);
      var at = "spec.targetRefs[" + i + "]";
      if (ref == null || ref.name == null || ref.name.isEmpty()) {
        t.error(at + ".name", "missing (expected: an Ingress name)");
      } else if ("HTTPRoute".equals(ref.kind)) {
        t.error(
            at + ".kind",
            "\"HTTPRoute\": Archway does not apply HTTPRoutePolicy to Gateway API HTTPRoutes yet"
                + " (expected: Ingress, group networking.k8s.io; for an HTTPRoute, its own matches"
                + " and filters)");
      } else if (!targetsIngresses(ref)) {
        t.error(
            at + ".kind",
            "\""
                + (ref.group == null || ref.group.isEmpty() ? "" : ref.group + "/")
                + ref.kind
                + "\" (expected: Ingress, group networking.k8s.io)");
      } else if (ref.sectionName != null && !ref.sectionName.isEmpty()) {
        t.error(
            at + ".sectionName",
            "\"" + ref.sectionName + "\" (expected: none; an Ingress has no sections)");
      }
    }
    route(p, t);
    return t;
  }

  private static boolean targetsIngresses(PolicyTargetRef ref) {
    return "Ingress".equals(ref.kind) && "networking.k8s.io".equals(ref.group);
  }

  /**
   * The route fields of the policy (priority, vars), checked as the model reads a route; {@code
   * null} (errors recorded) when they are not valid.
   */
  private static ObjectNode route(HTTPRoutePolicy p, Translation t) {
    var spec = p.getSpec();
    var route = JsonNodeFactory.instance.objectNode();
    route.put("id", "check");
    route.put("uri", "/");
    route.put("upstream_id", "check");
    if (spec.priority != null) {
      route.put("priority", spec.priority);
    }
    if (spec.vars != null && !spec.vars.isEmpty()) {
      var vars = route.putArray("vars");
      spec.vars.forEach(v -> vars.add(v == null ? null : v.deepCopy()));
    }
    var before = t.errors().size();
    ModelObjects.read(
        Kind.ROUTES,
        route.deepCopy(),
        Map.of("priority", "spec.priority", "vars", "spec.vars"),
        "spec",
        t);
    if (t.errors().size() > before) {
      return null;
    }
    route.remove("id");
    route.remove("uri");
    route.remove("upstream_id");
    return route;
  }

  /**
   * Adds to {@code route} (the fields every route of Ingress {@code namespace/name} gets) the
   * priority and vars of the policy that targets it; of several, the oldest, the others named in a
   * warning. A policy that is not valid is reported on the Ingress, which is then not accepted: its
   * routes would otherwise match what the policy says they should not.
   */
  static void apply(String namespace, String name, ObjectNode route, Refs refs, Translation t) {
    var targeting = targeting(namespace, name, refs);
    if (targeting.isEmpty()) {
      return;
    }
    applyOldest(namespace, targeting, route, t);
  }

  /**
   * What sets the routes of Ingress {@code namespace/name} apart for the conflict check, as an
   * ApisixRoute rule's {@code priority|remoteAddrs|vars}: two Ingresses on one host and path that
   * an HTTPRoutePolicy tells apart (a canary on a header) do not conflict.
   */
  static String discriminator(String namespace, String name, Refs refs) {
    var targeting = refs == null ? List.<HTTPRoutePolicy>of() : targeting(namespace, name, refs);
    if (targeting.isEmpty()) {
      return "0||";
    }
    var fields = route(targeting.get(0), new Translation());
    if (fields == null) {
      return "0||";
    }
    return (fields.has("priority") ? fields.get("priority").asLong() : 0)
        + "||"
        + (fields.has("vars") ? fields.get("vars").toString() : "");
  }

  private static List<HTTPRoutePolicy> targeting(String namespace, String name, Refs refs) {
    return refs.httpRoutePolicies(namespace).stream()
        .filter(
            p ->
                p.getSpec() != null
                    && p.getSpec().targetRefs != null
                    && p.getSpec().targetRefs.stream()
                        .anyMatch(r -> r != null && name.equals(r.name) && targetsIngresses(r)))
        .sorted(
            Comparator.comparing(
                    (HTTPRoutePolicy p) -> String.valueOf(p.getMetadata().getCreationTimestamp()))
                .thenComparing(p -> p.getMetadata().getName()))
        .toList();
  }

  private static void applyOldest(
      String namespace, List<HTTPRoutePolicy> targeting, ObjectNode route, Translation t) {
    var policy = targeting.get(0);
    var where = "HTTPRoutePolicy " + namespace + "/" + policy.getMetadata().getName();
    if (targeting.size() > 1) {
      t.warn(
          where
              + " applies; also targeting this Ingress and not applied (the oldest wins): "
              + String.join(
                  ", ",
                  targeting.subList(1, targeting.size()).stream()
                      .map(p -> "HTTPRoutePolicy " + namespace + "/" + p.getMetadata().getName())
                      .toList()));
    }
    var scratch = new Translation();
    var fields = route(policy, scratch);
    if (fields == null) {
      scratch.errors().forEach(e -> t.error("metadata.name", where + ": " + e));
      return;
    }
    if (fields.has("priority")) {
      route.set("priority", fields.get("priority"));
    }
    if (fields.has("vars")) {
      var vars =
          route.has("vars")
              ? (com.fasterxml.jackson.databind.node.ArrayNode) route.get("vars")
              : route.putArray("vars");
      vars.addAll((com.fasterxml.jackson.databind.node.ArrayNode) fields.get("vars"));
    }
  }
}
