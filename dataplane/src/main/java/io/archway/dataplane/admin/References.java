package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Who still uses an object that a DELETE would remove: the check behind APISIX's 400 {@code "can
 * not delete this upstream, route [1] is still using it now"}, skipped with {@code ?force=true}.
 *
 * <p>It works on the stored objects as JSON, keyed by their prefix-less item keys ({@code routes/1}
 * → the route's JSON): what both stores hold (etcd's range reads, the standalone config's objects),
 * whether or not the dataplane compiled them yet, so an object written a moment ago and not yet
 * served still counts. {@link #dirsToRead} says which directories a check needs, so the etcd store
 * reads only those.
 *
 * <p>The references, as APISIX 3.x checks them plus Archway's own directories:
 *
 * <ul>
 *   <li>an upstream: {@code upstream_id} of routes, services and stream routes, and any {@code
 *       upstream_id} inside the plugins of routes, services, plugin configs, global rules and
 *       consumer groups (traffic-split's {@code weighted_upstreams}), worded {@code plugin in route
 *       [1]};
 *   <li>a service: {@code service_id} of routes and stream routes ("delete this service directly");
 *   <li>a plugin config: {@code plugin_config_id} of routes;
 *   <li>a consumer group: {@code group_id} of consumers;
 *   <li>a consumer: a {@code consumer-restriction} whitelist naming it, in any plugins as above
 *       (APISIX does not check this; a route that would silently refuse everyone is worse);
 *   <li>a proto: {@code grpc-transcode}'s {@code proto_id} in any plugins;
 *   <li>a plugin flow: {@code plugin_flow_id} of routes.
 * </ul>
 */
final class References {

  private References() {}

  /** Where a kind's referrers live. */
  private record Check(String field, String dir, String label) {}

  private static final List<String> WITH_PLUGINS =
      List.of(
          "routes",
          "services",
          "plugin_configs",
          "global_rules",
          "stream_routes",
          "consumer_groups");

  /**
   * The stored objects {@link AdminStore#list} returned, by key, as {@link #referrer} takes them.
   */
  static Map<String, JsonNode> byKey(List<AdminStore.Stored> stored) {
    var out = new TreeMap<String, JsonNode>();
    stored.forEach(s -> out.put(s.key(), s.value()));
    return out;
  }

  /** The directories whose objects {@link #referrer} needs to check a delete in {@code dir}. */
  static List<String> dirsToRead(String dir) {
    return switch (dir) {
      case "upstreams" -> WITH_PLUGINS;
      case "services" -> List.of("routes", "stream_routes");
      case "plugin_configs", "plugin_flows" -> List.of("routes");
      case "consumer_groups" -> List.of("consumers");
      case "consumers", "protos" -> WITH_PLUGINS;
      default -> List.of();
    };
  }

  /**
   * Why the object {@code dir}/{@code id} may not be deleted, in APISIX's words; empty when nothing
   * uses it.
   *
   * @param objects the stored objects by item key ({@code routes/1}); at least those under {@link
   *     #dirsToRead}, others are ignored
   */
  static Optional<String> referrer(String dir, String id, Map<String, ? extends JsonNode> objects) {
    var sorted = new TreeMap<String, JsonNode>(objects);
    return switch (dir) {
      case "upstreams" ->
          byField(
                  "can not delete this upstream,",
                  id,
                  sorted,
                  new Check("upstream_id", "routes", "route"),
                  new Check("upstream_id", "services", "service"),
                  new Check("upstream_id", "stream_routes", "stream_route"))
              .or(
                  () ->
                      inPlugins("can not delete this upstream,", sorted, p -> usesUpstream(p, id)));
      case "services" ->
          byField(
              "can not delete this service directly,",
              id,
              sorted,
              new Check("service_id", "routes", "route"),
              new Check("service_id", "stream_routes", "stream_route"));
      case "plugin_configs" ->
          byField(
              "can not delete this plugin config,",
              id,
              sorted,
              new Check("plugin_config_id", "routes", "route"));
      case "plugin_flows" ->
          byField(
              "can not delete this plugin flow,",
              id,
              sorted,
              new Check("plugin_flow_id", "routes", "route"));
      case "consumer_groups" ->
          byField(
              "can not delete this consumer group,",
              id,
              sorted,
              new Check("group_id", "consumers", "consumer"));
      case "consumers" ->
          inPlugins("can not delete this consumer,", sorted, p -> whitelists(p, id));
      case "protos" ->
          inPlugins(
              "can not delete this proto,",
              sorted,
              p -> same(p.path("grpc-transcode").get("proto_id"), id));
      default -> Optional.empty();
    };
  }

  private static Optional<String> byField(
      String what, String id, Map<String, JsonNode> objects, Check... checks) {
    for (var c : checks) {
      for (var e : under(objects, c.dir())) {
        if (same(e.getValue().get(c.field()), id)) {
          return Optional.of(message(what, c.label(), idOf(c.dir(), e.getKey())));
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<String> inPlugins(
      String what, Map<String, JsonNode> objects, java.util.function.Predicate<JsonNode> uses) {
    for (var dir : WITH_PLUGINS) {
      for (var e : under(objects, dir)) {
        var plugins = e.getValue().get("plugins");
        if (plugins != null && plugins.isObject() && uses.test(plugins)) {
          return Optional.of(message(what, "plugin in " + label(dir), idOf(dir, e.getKey())));
        }
      }
    }
    return Optional.empty();
  }

  /** Any {@code upstream_id} naming {@code id} anywhere in a plugins object (traffic-split's). */
  private static boolean usesUpstream(JsonNode node, String id) {
    if (node.isObject()) {
      for (var e : node.properties()) {
        if (e.getKey().equals("upstream_id") && same(e.getValue(), id)) {
          return true;
        }
        if (usesUpstream(e.getValue(), id)) {
          return true;
        }
      }
    } else if (node.isArray()) {
      for (var item : node) {
        if (usesUpstream(item, id)) {
          return true;
        }
      }
    }
    return false;
  }

  /** A consumer-restriction that lets consumer {@code username} in (by name, the default type). */
  private static boolean whitelists(JsonNode plugins, String username) {
    var conf = plugins.get("consumer-restriction");
    if (conf == null || !conf.isObject()) {
      return false;
    }
    var type = conf.path("type").asText("consumer_name");
    if (!type.equals("consumer_name")) {
      return false;
    }
    for (var list : new String[] {"whitelist", "allowed_by_methods"}) {
      var l = conf.get(list);
      if (l == null || !l.isArray()) {
        continue;
      }
      for (var item : l) {
        if (same(item, username) || same(item.get("user"), username)) {
          return true;
        }
      }
    }
    return false;
  }

  private static List<Map.Entry<String, JsonNode>> under(
      Map<String, JsonNode> objects, String dir) {
    var out = new ArrayList<Map.Entry<String, JsonNode>>();
    var from = dir + "/";
    for (var e : ((TreeMap<String, JsonNode>) objects).tailMap(from).entrySet()) {
      if (!e.getKey().startsWith(from)) {
        break;
      }
      // Only the directory's own objects, not what nests under them (a consumer's credentials).
      if (e.getKey().indexOf('/', from.length()) < 0 && e.getValue() != null) {
        out.add(e);
      }
    }
    return out;
  }

  private static String idOf(String dir, String key) {
    return key.substring(dir.length() + 1);
  }

  private static String label(String dir) {
    return switch (dir) {
      case "routes" -> "route";
      case "services" -> "service";
      case "plugin_configs" -> "plugin_config";
      case "global_rules" -> "global_rule";
      case "stream_routes" -> "stream_route";
      case "consumer_groups" -> "consumer_group";
      default -> dir;
    };
  }

  /** An id as APISIX compares them: {@code 1} and {@code "1"} are the same id. */
  private static boolean same(JsonNode v, String id) {
    return v != null && (v.isTextual() || v.isNumber()) && v.asText().equals(id);
  }

  /**
   * A consumer written with a {@code group_id} that names no stored group: refused (400) rather
   * than stored as a consumer the dataplane would leave out.
   */
  static String missingGroup(String groupId) {
    return "invalid configuration: group_id: consumer group \""
        + groupId
        + "\" does not exist (expected: the id of a consumer group; PUT"
        + " /apisix/admin/consumer_groups/"
        + groupId
        + " first)";
  }

  private static String message(String what, String label, String id) {
    return what + " " + label + " [" + id + "] is still using it now";
  }
}
