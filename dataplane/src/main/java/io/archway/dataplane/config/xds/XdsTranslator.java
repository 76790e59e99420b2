package io.archway.dataplane.config.xds;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.UserRegex;
import io.archway.model.ValidationException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * xDS resources (Envoy's v3 API) to Archway's model: listeners and route configurations to {@code
 * routes}, clusters and their load assignments to {@code upstreams}. Pure: no I/O, no state.
 *
 * <p>Each resource is checked alone when it arrives ({@link #listener}, {@link #routes}, {@link
 * #cluster}, {@link #nodes}); a field Archway does not serve fails the whole update with a message
 * naming the resource and the field, which the source sends back as the NACK's {@code
 * error_detail}. Fields that only tune Envoy itself (stats, tracing, buffer sizes) are accepted and
 * have no effect; they are listed in docs/xds.md. {@link #assemble} then joins the accepted parts
 * into model objects; it cannot fail on what the checks let through.
 *
 * <p>Envoy tries a virtual host's routes in order and takes the first that matches. Archway's
 * router orders routes on one path by priority, so every route is on {@code /*}, its path match is
 * a {@code vars} term, and its priority falls with its position.
 */
final class XdsTranslator {

  static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String ENDPOINT =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final String SECRET = XdsTls.SECRET;

  static final String HCM = "envoy.filters.network.http_connection_manager";
  static final String FAULT = "envoy.filters.http.fault";
  static final String ROUTER = "envoy.filters.http.router";

  /** HTTP filters that change nothing Archway routes on (telemetry, Istio's peer metadata). */
  static final Set<String> INERT_HTTP_FILTERS =
      Set.of(
          "istio.metadata_exchange",
          "istio.stats",
          "istio.alpn",
          "envoy.filters.http.grpc_stats",
          "envoy.filters.http.cors");

  static final JsonNodeFactory J = JsonNodeFactory.instance;
  private static final Pattern ID_CHARS = Pattern.compile("[^a-zA-Z0-9._-]");
  static final Pattern ENVOY_FORMAT = Pattern.compile("%[A-Z_]+(\\(.*\\))?%");

  private XdsTranslator() {}

  /**
   * What one listener serves: the names of the route configurations its HTTP connection managers
   * use ({@code rdsNames}), those of them it holds inline ({@code inline}, named after the
   * listener), and whether they upgrade WebSockets.
   */
  record ListenerRoutes(
      List<String> rdsNames,
      List<RouteConfiguration> inline,
      boolean websocket,
      List<XdsTls.ServerTls> servers) {

    ListenerRoutes(List<String> rdsNames, List<RouteConfiguration> inline, boolean websocket) {
      this(rdsNames, inline, websocket, List.of());
    }
  }

  /**
   * A cluster as one route uses it: with the route's retry policy or hash policy, it becomes an
   * upstream of its own (the cluster's, with these fields replaced).
   */
  record Variant(String cluster, ObjectNode retry, ObjectNode hash) {}

  /** The routes of one route configuration, as model JSON, and the upstream variants they use. */
  record RouteSet(String name, List<ObjectNode> routes, Map<String, Variant> variants) {}

  /**
   * One cluster as an upstream without its nodes: {@code edsName} names the load assignment that
   * gives them, or {@code nodes} holds them (static and DNS clusters).
   */
  record ClusterPart(
      String name, String edsName, ObjectNode upstream, ArrayNode nodes, XdsTls.UpstreamTls tls) {

    ClusterPart(String name, String edsName, ObjectNode upstream, ArrayNode nodes) {
      this(name, edsName, upstream, nodes, null);
    }
  }

  static ListenerRoutes listener(io.envoyproxy.envoy.config.listener.v3.Listener l)
      throws XdsException {
    return XdsListeners.listener(l);
  }

  static RouteSet routes(RouteConfiguration rc) throws XdsException {
    return XdsRoutes.routes(rc);
  }

  static ClusterPart cluster(Cluster c) throws XdsException {
    return XdsClusters.cluster(c, false);
  }

  /** As above; {@code agent}: secrets may come from Istio's agent ({@code --xds-sds}). */
  static ClusterPart cluster(Cluster c, boolean agent) throws XdsException {
    return XdsClusters.cluster(c, agent);
  }

  static ArrayNode nodes(ClusterLoadAssignment cla, String where) throws XdsException {
    return XdsClusters.nodes(cla, where);
  }

  // -------------------------------------------------------------------------------- assembly

  /**
   * The model objects of the accepted resources: the routes of every route configuration a listener
   * uses, the upstream of every cluster (and of every cluster a route names that CDS did not send:
   * it has no nodes, so its requests get 503, as Envoy answers for an unknown cluster), and the
   * variants routes with retry or hash policies need.
   */
  static Map<Key, ConfigObject> assemble(
      Map<String, ListenerRoutes> listeners,
      Map<String, RouteSet> routeConfigs,
      Map<String, ClusterPart> clusters,
      Map<String, ArrayNode> endpoints) {
    return assemble(listeners, routeConfigs, clusters, endpoints, Map.of());
  }

  /** As above, with the SDS secrets the clusters' and listeners' TLS name. */
  static Map<Key, ConfigObject> assemble(
      Map<String, ListenerRoutes> listeners,
      Map<String, RouteSet> routeConfigs,
      Map<String, ClusterPart> clusters,
      Map<String, ArrayNode> endpoints,
      Map<String, XdsSecrets.SecretPem> secrets) {
    var out = new TreeMap<Key, ConfigObject>();
    var upstreams = new TreeMap<String, ObjectNode>();
    for (var c : clusters.values()) {
      var up = c.upstream().deepCopy();
      var nodes = c.nodes() != null ? c.nodes() : endpoints.get(c.edsName());
      up.set("nodes", nodes == null ? J.arrayNode() : nodes.deepCopy());
      XdsSecrets.upstreamTls(up, c.tls(), secrets);
      upstreams.put(up.get("id").asText(), up);
    }
    for (var l : listeners.values()) {
      for (var s : l.servers()) {
        var ssl = XdsSecrets.ssl(s, secrets);
        if (ssl != null) {
          put(out, Kind.SSLS, ssl);
        }
      }
    }
    var used = new LinkedHashMap<String, Boolean>();
    for (var l : listeners.values()) {
      for (var name : l.rdsNames()) {
        used.merge(name, l.websocket(), Boolean::logicalOr);
      }
    }
    for (var e : used.entrySet()) {
      var set = routeConfigs.get(e.getKey());
      if (set == null) {
        continue;
      }
      for (var r : set.routes()) {
        var route = r.deepCopy();
        if (e.getValue()) {
          route.put("enable_websocket", true);
        }
        put(out, Kind.ROUTES, route);
        for (var id : upstreamIds(route)) {
          var variant = set.variants().get(id);
          if (variant == null) {
            if (!upstreams.containsKey(id)) {
              put(out, Kind.UPSTREAMS, missing(id).put("id", id));
            }
            continue;
          }
          var base = upstreams.get(clusterId(variant.cluster()));
          var up = base != null ? base.deepCopy() : missing(variant.cluster());
          up.put("id", id);
          if (variant.retry() != null) {
            up.setAll(variant.retry());
          }
          if (variant.hash() != null && "chash".equals(up.path("type").asText())) {
            up.setAll(variant.hash());
          }
          put(out, Kind.UPSTREAMS, up);
        }
      }
    }
    for (var up : upstreams.values()) {
      put(out, Kind.UPSTREAMS, up);
    }
    return out;
  }

  /** An upstream without nodes for a cluster the management server did not send. */
  static ObjectNode missing(String cluster) {
    var up = J.objectNode();
    var desc = "xds cluster " + cluster + " (not sent by the management server)";
    up.put("desc", desc.length() > 256 ? desc.substring(0, 256) : desc);
    up.put("type", "roundrobin");
    up.set("nodes", J.arrayNode());
    return up;
  }

  static List<String> upstreamIds(ObjectNode route) {
    var ids = new ArrayList<String>();
    if (route.has("upstream_id")) {
      ids.add(route.get("upstream_id").asText());
    }
    var split = route.path("plugins").path("traffic-split").path("rules");
    for (var rule : split) {
      for (var w : rule.path("weighted_upstreams")) {
        var id = w.path("upstream_id").asText();
        if (!ids.contains(id)) {
          ids.add(id);
        }
      }
    }
    return ids;
  }

  static void put(Map<Key, ConfigObject> out, Kind kind, ObjectNode json) {
    var id = json.get("id").asText();
    try {
      out.put(new Key(kind, id), ModelJson.read(kind, json, id, kind.dir() + "/" + id));
    } catch (ValidationException e) {
      // The resources were checked one by one when they came; joined they cannot fail.
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  // --------------------------------------------------------------------------------- helpers

  /** The upstream id of a cluster. */
  static String clusterId(String cluster) {
    return id(cluster);
  }

  /**
   * A model id ({@code [a-zA-Z0-9._-]{1,64}}) for an xDS name: the name itself when it is one, else
   * its allowed characters and a hash of the whole name (Istio's {@code
   * outbound|9080|v1|reviews.default.svc.cluster.local} becomes {@code
   * outbound_9080_v1_reviews.default.svc.cluster.local-3f2a…}).
   */
  static String id(String name) {
    if (!name.isEmpty() && name.length() <= 64 && !ID_CHARS.matcher(name).find()) {
      return name;
    }
    var clean = ID_CHARS.matcher(name).replaceAll("_");
    var hash = hash(name);
    return (clean.length() > 55 ? clean.substring(0, 55) : clean) + "-" + hash;
  }

  static String hash(String s) {
    try {
      var d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Fails on any field of {@code m} that is set and not in {@code supported}. */
  static void only(Message m, String where, String... supported) throws XdsException {
    var ok = Set.of(supported);
    for (FieldDescriptor f : m.getAllFields().keySet()) {
      if (!ok.contains(f.getName())) {
        throw new XdsException(
            where
                + ": "
                + f.getName()
                + ": not supported (expected: unset; Archway serves "
                + String.join(", ", supported)
                + ")");
      }
    }
    if (!m.getUnknownFields().asMap().isEmpty()) {
      throw new XdsException(
          where
              + ": fields unknown to Archway's Envoy API (numbers "
              + m.getUnknownFields().asMap().keySet()
              + ")");
    }
  }

  static <T extends Message> T unpack(Any any, Class<T> type, String where) throws XdsException {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new XdsException(
          where
              + ": typed_config: "
              + any.getTypeUrl()
              + " (expected: "
              + type.getSimpleName()
              + ")");
    }
  }

  static void check(Kind kind, ObjectNode json, String where) throws XdsException {
    var id = json.get("id").asText();
    try {
      ModelJson.read(kind, json, id, kind.dir() + "/" + id);
    } catch (ValidationException e) {
      throw new XdsException(where + ": " + e.getMessage());
    }
    var plugins = json.get("plugins");
    if (plugins != null) {
      for (var e : plugins.properties()) {
        var problems = PluginSchemas.check(e.getKey(), e.getValue(), "plugins." + e.getKey());
        if (!problems.isEmpty()) {
          throw new XdsException(where + ": translated to " + problems.get(0));
        }
      }
    }
  }

  static String regex(String regex, String where) throws XdsException {
    var why = UserRegex.problem(regex);
    if (why != null) {
      throw new XdsException(where + ": regex: " + q(regex) + " (expected: " + why + ")");
    }
    return regex;
  }

  static String quote(String s) {
    return com.google.re2j.Pattern.quote(s);
  }

  static ArrayNode term(String var, String op, String value) {
    return J.arrayNode().add(var).add(op).add(value);
  }

  static ArrayNode not(ArrayNode term) {
    return J.arrayNode().add(term.get(0)).add("!").add(term.get(1)).add(term.get(2));
  }

  static double seconds(Duration d) {
    return d.getSeconds() + d.getNanos() / 1e9;
  }

  static String q(String s) {
    return "\"" + s + "\"";
  }
}
