package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.apisix.v1alpha1.L4RoutePolicy;
import io.archway.crds.apisix.v1alpha1.PolicyTargetRef;
import io.archway.model.Kind;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;

/**
 * An L4RoutePolicy (APISIX Ingress Controller 2.x kind) gives stream plugins to the Gateway API
 * TCPRoutes, UDPRoutes and TLSRoutes of its namespace it targets. It writes nothing of its own: the
 * routes' stream routes carry its plugins ({@link #plugins}, read by {@link L4RouteTranslator}),
 * and the routes are translated again when it changes. Its plugins are checked as the model reads a
 * stream route's (stream plugins only; an HTTP-only plugin is refused, naming it).
 */
public final class L4RoutePolicyTranslator {

  static final Set<String> KINDS = Set.of("TCPRoute", "UDPRoute", "TLSRoute");

  /** APISIX's stream plugins (its default {@code stream_plugins}): the ones a stream route runs. */
  static final Set<String> STREAM_PLUGINS =
      Set.of("ip-restriction", "limit-conn", "mqtt-proxy", "syslog");

  private L4RoutePolicyTranslator() {}

  public static Translation translate(L4RoutePolicy p, Refs refs) {
    var t = new Translation();
    var spec = p.getSpec();
    if (spec == null || spec.targetRefs == null || spec.targetRefs.isEmpty()) {
      t.error("spec.targetRefs", "missing (expected: at least one TCPRoute, UDPRoute or TLSRoute)");
      return t;
    }
    for (int i = 0; i < spec.targetRefs.size(); i++) {
      var ref = spec.targetRefs.get(i);
      var at = "spec.targetRefs[" + i + "]";
      if (ref == null || ref.name == null || ref.name.isEmpty()) {
        t.error(at + ".name", "missing (expected: a route name)");
      } else if (!targets(ref)) {
        t.error(
            at + ".kind",
            Exprs.show((ref.group == null || ref.group.isEmpty() ? "" : ref.group + "/") + ref.kind)
                + " (expected: TCPRoute, UDPRoute or TLSRoute, group gateway.networking.k8s.io)");
      } else if (ref.sectionName != null && !ref.sectionName.isEmpty()) {
        t.error(
            at + ".sectionName",
            Exprs.show(ref.sectionName) + " (expected: none; a policy applies to the whole route)");
      }
    }
    pluginsOf(p, t);
    return t;
  }

  private static boolean targets(PolicyTargetRef ref) {
    return KINDS.contains(ref.kind) && ListenerAttachment.GROUP.equals(ref.group);
  }

  /**
   * The policy's plugins as a stream route's {@code plugins}, checked as the model reads a stream
   * route; null (errors recorded) when they are not valid.
   */
  private static ObjectNode pluginsOf(L4RoutePolicy p, Translation t) {
    var spec = p.getSpec();
    var plugins = JsonNodeFactory.instance.objectNode();
    if (spec.plugins == null) {
      return plugins;
    }
    for (int i = 0; i < spec.plugins.size(); i++) {
      var pl = spec.plugins.get(i);
      if (pl == null || pl.name == null || pl.name.isEmpty()) {
        t.error("spec.plugins[" + i + "].name", "missing (expected: a stream plugin name)");
        continue;
      }
      if (!STREAM_PLUGINS.contains(pl.name)) {
        t.error(
            "spec.plugins[" + i + "].name",
            Exprs.show(pl.name)
                + " is not a stream plugin (expected: one of "
                + String.join(", ", STREAM_PLUGINS.stream().sorted().toList())
                + ")");
        continue;
      }
      if (Boolean.FALSE.equals(pl.enable)) {
        continue;
      }
      plugins.set(
          pl.name,
          pl.config == null ? JsonNodeFactory.instance.objectNode() : pl.config.deepCopy());
    }
    var route = JsonNodeFactory.instance.objectNode();
    route.put("id", "check");
    route.put("server_port", 1);
    route.put("upstream_id", "check");
    route.set("plugins", plugins.deepCopy());
    var before = t.errors().size();
    ModelObjects.read(Kind.STREAM_ROUTES, route, Map.of("plugins", "spec.plugins"), "spec", t);
    return t.errors().size() == before ? plugins : null;
  }

  /**
   * The stream plugins the L4RoutePolicies of {@code ns} give the {@code kind} named {@code name}:
   * the valid policies targeting it, merged by name (a plugin in two policies: the one of the
   * policy first by name wins, with a warning). Null when none.
   */
  static ObjectNode plugins(String kind, String ns, String name, Refs refs, Translation t) {
    ObjectNode out = null;
    var policies =
        refs.l4RoutePolicies(ns).stream()
            .sorted(Comparator.comparing(x -> x.getMetadata().getName()))
            .toList();
    for (var p : policies) {
      var spec = p.getSpec();
      if (spec == null || spec.targetRefs == null) {
        continue;
      }
      boolean targeted =
          spec.targetRefs.stream()
              .anyMatch(r -> r != null && kind.equals(r.kind) && targets(r) && name.equals(r.name));
      if (!targeted) {
        continue;
      }
      var check = new Translation();
      var checked = translate(p, refs);
      var plugins = checked.ok() ? pluginsOf(p, check) : null;
      if (plugins == null) {
        t.warn(
            "L4RoutePolicy "
                + ns
                + "/"
                + p.getMetadata().getName()
                + " is not valid (not applied): "
                + (checked.ok() ? check.errorMessage() : checked.errorMessage()));
        continue;
      }
      if (out == null) {
        out = JsonNodeFactory.instance.objectNode();
      }
      var it = plugins.fields();
      while (it.hasNext()) {
        var e = it.next();
        if (out.has(e.getKey())) {
          t.warn(
              "L4RoutePolicy "
                  + ns
                  + "/"
                  + p.getMetadata().getName()
                  + ": plugin "
                  + e.getKey()
                  + " is also given by another policy (the first by name applies)");
          continue;
        }
        out.set(e.getKey(), e.getValue());
      }
    }
    return out;
  }
}
