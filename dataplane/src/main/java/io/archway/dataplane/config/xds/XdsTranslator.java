package io.archway.dataplane.config.xds;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
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

  private static final String HCM = "envoy.filters.network.http_connection_manager";
  private static final String FAULT = "envoy.filters.http.fault";
  private static final String ROUTER = "envoy.filters.http.router";

  /** HTTP filters that change nothing Archway routes on (telemetry, Istio's peer metadata). */
  private static final Set<String> INERT_HTTP_FILTERS =
      Set.of(
          "istio.metadata_exchange",
          "istio.stats",
          "istio.alpn",
          "envoy.filters.http.grpc_stats",
          "envoy.filters.http.cors");

  private static final JsonNodeFactory J = JsonNodeFactory.instance;
  private static final Pattern ID_CHARS = Pattern.compile("[^a-zA-Z0-9._-]");
  private static final Pattern ENVOY_FORMAT = Pattern.compile("%[A-Z_]+(\\(.*\\))?%");

  private XdsTranslator() {}

  // ---------------------------------------------------------------------------------- listeners

  /**
   * What one listener serves: the names of the route configurations its HTTP connection managers
   * use ({@code rdsNames}), those of them it holds inline ({@code inline}, named after the
   * listener), and whether they upgrade WebSockets.
   */
  record ListenerRoutes(
      List<String> rdsNames, List<RouteConfiguration> inline, boolean websocket) {}

  static ListenerRoutes listener(Listener l) throws XdsException {
    var where = "listener " + q(l.getName());
    only(
        l,
        where,
        "name",
        "address",
        "filter_chains",
        "listener_filters",
        "listener_filters_timeout",
        "continue_on_listener_filters_timeout",
        "traffic_direction",
        "access_log",
        "per_connection_buffer_limit_bytes",
        "metadata",
        "stat_prefix",
        "socket_options",
        "bind_to_port");
    var rds = new ArrayList<String>();
    var inline = new ArrayList<RouteConfiguration>();
    boolean websocket = false;
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      var chain = l.getFilterChains(i);
      var cw = where + ": filter_chains[" + i + "]";
      if (chain.hasTransportSocket()) {
        throw new XdsException(
            cw
                + ": transport_socket: TLS termination configured by xDS (SDS) is not supported"
                + " (expected: plain HTTP; serve TLS with Archway's ssls objects)");
      }
      only(chain, cw, "filters", "filter_chain_match", "name", "metadata");
      for (int k = 0; k < chain.getFiltersCount(); k++) {
        var filter = chain.getFilters(k);
        var fw = cw + ": filters[" + k + "] (" + filter.getName() + ")";
        if (!HCM.equals(filter.getName())
            && !filter.getTypedConfig().getTypeUrl().endsWith(".HttpConnectionManager")) {
          throw new XdsException(
              fw + ": network filter not supported (expected: " + HCM + " only)");
        }
        var hcm = unpack(filter.getTypedConfig(), HttpConnectionManager.class, fw);
        websocket |= hcmRoutes(l.getName(), hcm, fw, rds, inline);
      }
    }
    return new ListenerRoutes(List.copyOf(rds), List.copyOf(inline), websocket);
  }

  private static boolean hcmRoutes(
      String listener,
      HttpConnectionManager hcm,
      String where,
      List<String> rds,
      List<RouteConfiguration> inline)
      throws XdsException {
    switch (hcm.getRouteSpecifierCase()) {
      case RDS -> rds.add(hcm.getRds().getRouteConfigName());
      case ROUTE_CONFIG -> {
        // An inline route configuration is named after its listener, and served as RDS ones are.
        var rc = hcm.getRouteConfig();
        var name = "listener " + listener + " #" + inline.size();
        rds.add(name);
        inline.add(rc.toBuilder().setName(name).build());
      }
      default ->
          throw new XdsException(
              where
                  + ": "
                  + (hcm.hasScopedRoutes() ? "scoped_routes" : "route_specifier")
                  + " not supported (expected: rds or route_config)");
    }
    boolean routerLast = false;
    for (int i = 0; i < hcm.getHttpFiltersCount(); i++) {
      var f = hcm.getHttpFilters(i);
      var w = where + ": http_filters[" + i + "] (" + f.getName() + ")";
      routerLast = false;
      if (ROUTER.equals(f.getName())) {
        routerLast = true;
      } else if (FAULT.equals(f.getName())) {
        if (f.hasTypedConfig()) {
          var fault = unpack(f.getTypedConfig(), HTTPFault.class, w);
          if (fault.hasAbort() || fault.hasDelay()) {
            throw new XdsException(
                w + ": abort or delay on the filter itself not supported (expected: per route)");
          }
        }
      } else if (!INERT_HTTP_FILTERS.contains(f.getName())
          && !f.getIsOptional()
          && !f.getDisabled()) {
        throw new XdsException(
            w
                + ": HTTP filter not supported (expected: "
                + ROUTER
                + ", "
                + FAULT
                + ", or one of "
                + String.join(", ", new java.util.TreeSet<>(INERT_HTTP_FILTERS))
                + ")");
      }
    }
    if (!routerLast) {
      throw new XdsException(
          where + ": http_filters: " + ROUTER + " missing or not last (expected: last)");
    }
    for (var u : hcm.getUpgradeConfigsList()) {
      if (!"websocket".equalsIgnoreCase(u.getUpgradeType())) {
        throw new XdsException(
            where
                + ": upgrade_configs: "
                + q(u.getUpgradeType())
                + " not supported (expected: websocket)");
      }
    }
    return hcm.getUpgradeConfigsList().stream()
        .anyMatch(u -> !u.hasEnabled() || u.getEnabled().getValue());
  }

  // ---------------------------------------------------------------------------------- routes

  /**
   * A cluster as one route uses it: with the route's retry policy or hash policy, it becomes an
   * upstream of its own (the cluster's, with these fields replaced).
   */
  record Variant(String cluster, ObjectNode retry, ObjectNode hash) {}

  /** The routes of one route configuration, as model JSON, and the upstream variants they use. */
  record RouteSet(String name, List<ObjectNode> routes, Map<String, Variant> variants) {}

  static RouteSet routes(RouteConfiguration rc) throws XdsException {
    var where = "route configuration " + q(rc.getName());
    only(
        rc,
        where,
        "name",
        "virtual_hosts",
        "request_headers_to_add",
        "request_headers_to_remove",
        "response_headers_to_add",
        "response_headers_to_remove",
        "validate_clusters",
        "ignore_port_in_host_matching",
        "max_direct_response_body_size_bytes",
        "metadata");
    var out = new ArrayList<ObjectNode>();
    var variants = new TreeMap<String, Variant>();
    var vhostNames = new LinkedHashSet<String>();
    for (var vh : rc.getVirtualHostsList()) {
      var vw = where + ": virtual host " + q(vh.getName());
      if (!vhostNames.add(vh.getName())) {
        throw new XdsException(vw + ": name: used twice (expected: unique)");
      }
      only(
          vh,
          vw,
          "name",
          "domains",
          "routes",
          "request_headers_to_add",
          "request_headers_to_remove",
          "response_headers_to_add",
          "response_headers_to_remove",
          "include_request_attempt_count",
          "include_attempt_count_in_response",
          "metadata");
      var hosts = hosts(vh, vw);
      int n = vh.getRoutesCount();
      for (int j = 0; j < n; j++) {
        var route = vh.getRoutes(j);
        var rw =
            vw
                + ": routes["
                + j
                + "]"
                + (route.getName().isEmpty() ? "" : " " + q(route.getName()));
        out.add(route(rc, vh, route, j, n, hosts, rw, variants));
      }
    }
    return new RouteSet(rc.getName(), List.copyOf(out), Map.copyOf(variants));
  }

  private static ArrayNode hosts(VirtualHost vh, String where) throws XdsException {
    var hosts = new LinkedHashSet<String>();
    for (var d : vh.getDomainsList()) {
      if (d.equals("*")) {
        return null;
      }
      // Archway matches the host without its port (Istio's ignore_port_in_host_matching).
      var host = d.replaceFirst(":(\\*|[0-9]+)$", "").toLowerCase(Locale.ROOT);
      if (host.endsWith("*") || host.contains("[")) {
        throw new XdsException(
            where
                + ": domains: "
                + q(d)
                + " not supported (expected: a host name, *.suffix, or * alone)");
      }
      hosts.add(host);
    }
    if (hosts.isEmpty()) {
      throw new XdsException(where + ": domains: empty (expected: at least one)");
    }
    var arr = J.arrayNode();
    hosts.forEach(arr::add);
    return arr;
  }

  private static ObjectNode route(
      RouteConfiguration rc,
      VirtualHost vh,
      Route route,
      int index,
      int count,
      ArrayNode hosts,
      String where,
      Map<String, Variant> variants)
      throws XdsException {
    only(
        route,
        where,
        "name",
        "match",
        "route",
        "redirect",
        "direct_response",
        "request_headers_to_add",
        "request_headers_to_remove",
        "response_headers_to_add",
        "response_headers_to_remove",
        "typed_per_filter_config",
        "decorator",
        "metadata");
    var r = J.objectNode();
    r.put("id", id(rc.getName() + "/" + vh.getName() + "/" + index));
    var name = route.getName().isEmpty() ? vh.getName() : route.getName();
    if (!name.isEmpty()) {
      r.put("name", name.length() > 100 ? name.substring(0, 100) : name);
    }
    var desc = "xds " + rc.getName() + " " + vh.getName() + " #" + index;
    r.put("desc", desc.length() > 256 ? desc.substring(0, 256) : desc);
    r.put("uri", "/*");
    if (hosts != null) {
      r.set("hosts", hosts.deepCopy());
    }
    r.put("priority", count - index);
    var vars = match(route.getMatch(), where + ": match");
    if (!vars.isEmpty()) {
      r.set("vars", vars);
    }
    var plugins = r.putObject("plugins");
    var request = new HeaderOps();
    var response = new HeaderOps();
    request.add(rc.getRequestHeadersToAddList(), rc.getRequestHeadersToRemoveList(), where);
    request.add(vh.getRequestHeadersToAddList(), vh.getRequestHeadersToRemoveList(), where);
    request.add(route.getRequestHeadersToAddList(), route.getRequestHeadersToRemoveList(), where);
    response.add(rc.getResponseHeadersToAddList(), rc.getResponseHeadersToRemoveList(), where);
    response.add(vh.getResponseHeadersToAddList(), vh.getResponseHeadersToRemoveList(), where);
    response.add(
        route.getResponseHeadersToAddList(), route.getResponseHeadersToRemoveList(), where);
    var proxyRewrite = J.objectNode();
    if (!request.isEmpty()) {
      proxyRewrite.set("headers", request.toJson());
    }
    if (!response.isEmpty()) {
      plugins.putObject("response-rewrite").set("headers", response.toJson());
    }
    switch (route.getActionCase()) {
      case ROUTE -> routeAction(route.getRoute(), where + ": route", r, proxyRewrite, variants);
      case REDIRECT -> plugins.set("redirect", redirect(route.getRedirect(), where + ": redirect"));
      case DIRECT_RESPONSE -> {
        var d = route.getDirectResponse();
        var abort = J.objectNode().put("http_status", d.getStatus());
        if (d.hasBody()) {
          var body = d.getBody();
          switch (body.getSpecifierCase()) {
            case INLINE_STRING -> abort.put("body", body.getInlineString());
            case INLINE_BYTES -> abort.put("body", body.getInlineBytes().toStringUtf8());
            default ->
                throw new XdsException(
                    where
                        + ": direct_response.body: "
                        + body.getSpecifierCase().name().toLowerCase(Locale.ROOT)
                        + " not supported (expected: inline_string or inline_bytes)");
          }
        }
        if (d.getStatus() < 200 || d.getStatus() > 599) {
          throw new XdsException(
              where + ": direct_response.status: " + d.getStatus() + " (expected: 200..599)");
        }
        plugins.putObject("fault-injection").set("abort", abort);
      }
      default ->
          throw new XdsException(
              where
                  + ": action "
                  + route.getActionCase().name().toLowerCase(Locale.ROOT)
                  + " not supported (expected: route, redirect or direct_response)");
    }
    if (!proxyRewrite.isEmpty()) {
      plugins.set("proxy-rewrite", proxyRewrite);
    }
    for (var e : route.getTypedPerFilterConfigMap().entrySet()) {
      var fw = where + ": typed_per_filter_config." + e.getKey();
      if (!FAULT.equals(e.getKey())) {
        throw new XdsException(fw + ": not supported (expected: " + FAULT + " only)");
      }
      if (plugins.has("fault-injection")) {
        throw new XdsException(fw + ": with direct_response (expected: one of them)");
      }
      var fault = fault(unpack(e.getValue(), HTTPFault.class, fw), fw);
      if (!fault.isEmpty()) {
        plugins.set("fault-injection", fault);
      }
    }
    if (plugins.isEmpty()) {
      r.remove("plugins");
    }
    check(Kind.ROUTES, r, where);
    return r;
  }

  /** The route's match as a {@code vars} expression over the path, headers and query. */
  static ArrayNode match(RouteMatch m, String where) throws XdsException {
    only(
        m,
        where,
        "prefix",
        "path",
        "safe_regex",
        "path_separated_prefix",
        "case_sensitive",
        "headers",
        "query_parameters");
    var vars = J.arrayNode();
    boolean ci = m.hasCaseSensitive() && !m.getCaseSensitive().getValue();
    var regexOp = ci ? "~*" : "~~";
    switch (m.getPathSpecifierCase()) {
      case PREFIX -> {
        if (!m.getPrefix().isEmpty() && !m.getPrefix().equals("/")) {
          vars.add(term("uri", regexOp, "^" + quote(m.getPrefix())));
        }
      }
      case PATH ->
          vars.add(
              ci
                  ? term("uri", "~*", "^" + quote(m.getPath()) + "$")
                  : term("uri", "==", m.getPath()));
      case SAFE_REGEX ->
          vars.add(
              term(
                  "uri",
                  regexOp,
                  "^(?:" + regex(m.getSafeRegex().getRegex(), where + ": safe_regex") + ")$"));
      case PATH_SEPARATED_PREFIX ->
          vars.add(term("uri", regexOp, "^" + quote(m.getPathSeparatedPrefix()) + "(?:/|$)"));
      default ->
          throw new XdsException(
              where
                  + ": path_specifier "
                  + m.getPathSpecifierCase().name().toLowerCase(Locale.ROOT)
                  + " not supported (expected: prefix, path, safe_regex or path_separated_prefix)");
    }
    for (int i = 0; i < m.getHeadersCount(); i++) {
      vars.add(header(m.getHeaders(i), where + ": headers[" + i + "]"));
    }
    for (int i = 0; i < m.getQueryParametersCount(); i++) {
      vars.add(query(m.getQueryParameters(i), where + ": query_parameters[" + i + "]"));
    }
    return vars;
  }

  private static ArrayNode header(HeaderMatcher h, String where) throws XdsException {
    only(
        h,
        where,
        "name",
        "exact_match",
        "safe_regex_match",
        "present_match",
        "prefix_match",
        "suffix_match",
        "contains_match",
        "string_match",
        "invert_match",
        "treat_missing_header_as_empty");
    var name = h.getName().toLowerCase(Locale.ROOT);
    var var =
        switch (name) {
          case ":method" -> "request_method";
          case ":authority" -> "host";
          case ":path" -> "request_uri";
          case ":scheme" -> "scheme";
          default -> {
            if (name.startsWith(":")) {
              throw new XdsException(
                  where
                      + ": name: "
                      + q(h.getName())
                      + " (expected: a header, :method, :authority, :path or :scheme)");
            }
            yield "http_" + name.replace('-', '_');
          }
        };
    ArrayNode t =
        switch (h.getHeaderMatchSpecifierCase()) {
          case EXACT_MATCH -> term(var, "==", h.getExactMatch());
          case SAFE_REGEX_MATCH ->
              term(var, "~~", "^(?:" + regex(h.getSafeRegexMatch().getRegex(), where) + ")$");
          case PRESENT_MATCH -> term(var, "~~", "");
          case PREFIX_MATCH -> term(var, "~~", "^" + quote(h.getPrefixMatch()));
          case SUFFIX_MATCH -> term(var, "~~", quote(h.getSuffixMatch()) + "$");
          case CONTAINS_MATCH -> term(var, "~~", quote(h.getContainsMatch()));
          case STRING_MATCH -> string(var, h.getStringMatch(), where + ": string_match");
          default -> term(var, "~~", "");
        };
    boolean invert =
        h.getInvertMatch()
            ^ (h.getHeaderMatchSpecifierCase()
                    == HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH
                && !h.getPresentMatch());
    return invert ? not(t) : t;
  }

  private static ArrayNode query(QueryParameterMatcher p, String where) throws XdsException {
    only(p, where, "name", "string_match", "present_match");
    var var = "arg_" + p.getName();
    if (!p.getName().matches("[A-Za-z0-9_-]+")) {
      throw new XdsException(
          where + ": name: " + q(p.getName()) + " (expected: letters, digits, _ and -)");
    }
    return switch (p.getQueryParameterMatchSpecifierCase()) {
      case STRING_MATCH -> string(var, p.getStringMatch(), where + ": string_match");
      case PRESENT_MATCH -> p.getPresentMatch() ? term(var, "~~", "") : not(term(var, "~~", ""));
      default -> term(var, "~~", "");
    };
  }

  private static ArrayNode string(String var, StringMatcher m, String where) throws XdsException {
    only(m, where, "exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case");
    var op = m.getIgnoreCase() ? "~*" : "~~";
    return switch (m.getMatchPatternCase()) {
      case EXACT ->
          m.getIgnoreCase()
              ? term(var, op, "^" + quote(m.getExact()) + "$")
              : term(var, "==", m.getExact());
      case PREFIX -> term(var, op, "^" + quote(m.getPrefix()));
      case SUFFIX -> term(var, op, quote(m.getSuffix()) + "$");
      case CONTAINS -> term(var, op, quote(m.getContains()));
      case SAFE_REGEX ->
          term(var, op, "^(?:" + regex(m.getSafeRegex().getRegex(), where + ": safe_regex") + ")$");
      default ->
          throw new XdsException(
              where
                  + ": "
                  + m.getMatchPatternCase().name().toLowerCase(Locale.ROOT)
                  + " not supported (expected: exact, prefix, suffix, contains or safe_regex)");
    };
  }

  private static void routeAction(
      RouteAction a,
      String where,
      ObjectNode r,
      ObjectNode proxyRewrite,
      Map<String, Variant> variants)
      throws XdsException {
    only(
        a,
        where,
        "cluster",
        "weighted_clusters",
        "prefix_rewrite",
        "regex_rewrite",
        "host_rewrite_literal",
        "timeout",
        "idle_timeout",
        "retry_policy",
        "hash_policy",
        "max_stream_duration",
        "max_grpc_timeout",
        "cluster_not_found_response_code");
    if (a.hasMaxStreamDuration()
        && (a.getMaxStreamDuration().hasMaxStreamDuration()
                && seconds(a.getMaxStreamDuration().getMaxStreamDuration()) > 0
            || a.getMaxStreamDuration().hasGrpcTimeoutHeaderOffset())) {
      throw new XdsException(
          where + ": max_stream_duration: not supported (expected: unset or 0s, as Istio sends)");
    }
    var retry = a.hasRetryPolicy() ? retry(a.getRetryPolicy(), where + ": retry_policy") : null;
    var hash = hash(a, where);
    switch (a.getClusterSpecifierCase()) {
      case CLUSTER -> r.put("upstream_id", upstreamId(a.getCluster(), retry, hash, variants));
      case WEIGHTED_CLUSTERS -> {
        var wc = a.getWeightedClusters();
        only(wc, where + ": weighted_clusters", "clusters", "total_weight");
        var entries = J.arrayNode();
        for (int i = 0; i < wc.getClustersCount(); i++) {
          var c = wc.getClusters(i);
          var cw = where + ": weighted_clusters.clusters[" + i + "]";
          only(
              c,
              cw,
              "name",
              "weight",
              "request_headers_to_add",
              "request_headers_to_remove",
              "response_headers_to_add",
              "response_headers_to_remove");
          var id = upstreamId(c.getName(), retry, hash, variants);
          var entry = J.objectNode().put("upstream_id", id).put("weight", c.getWeight().getValue());
          var req = new HeaderOps();
          req.add(c.getRequestHeadersToAddList(), c.getRequestHeadersToRemoveList(), cw);
          var resp = new HeaderOps();
          resp.add(c.getResponseHeadersToAddList(), c.getResponseHeadersToRemoveList(), cw);
          if (!req.isEmpty() || !resp.isEmpty()) {
            var p = entry.putObject("plugins");
            if (!req.isEmpty()) {
              p.putObject("proxy-rewrite").set("headers", req.toJson());
            }
            if (!resp.isEmpty()) {
              p.putObject("response-rewrite").set("headers", resp.toJson());
            }
          }
          if (i == 0) {
            r.put("upstream_id", id);
          }
          entries.add(entry);
        }
        if (entries.isEmpty()) {
          throw new XdsException(
              where + ": weighted_clusters.clusters: empty (expected: at least one)");
        }
        var rule = J.objectNode();
        rule.set("weighted_upstreams", entries);
        ((ObjectNode) r.get("plugins")).putObject("traffic-split").putArray("rules").add(rule);
      }
      default ->
          throw new XdsException(
              where
                  + ": "
                  + a.getClusterSpecifierCase().name().toLowerCase(Locale.ROOT)
                  + " not supported (expected: cluster or weighted_clusters)");
    }
    if (!a.getPrefixRewrite().isEmpty()) {
      proxyRewrite
          .putArray("regex_uri")
          .add("^" + quote(pathPrefix(r)) + "(.*)")
          .add(a.getPrefixRewrite().replace("$", "\\$") + "$1");
    } else if (a.hasRegexRewrite()) {
      var rr = a.getRegexRewrite();
      proxyRewrite
          .putArray("regex_uri")
          .add(regex(rr.getPattern().getRegex(), where + ": regex_rewrite.pattern"))
          .add(rr.getSubstitution().replaceAll("\\\\([0-9])", "\\$$1"));
    }
    if (!a.getHostRewriteLiteral().isEmpty()) {
      proxyRewrite.put("host", a.getHostRewriteLiteral());
    }
    if (a.hasTimeout() && seconds(a.getTimeout()) > 0) {
      // Envoy's route timeout bounds the whole response; the closest of Archway's is read.
      r.putObject("timeout").put("read", seconds(a.getTimeout()));
    }
  }

  /** The prefix a route's path match has, for prefix_rewrite. */
  private static String pathPrefix(ObjectNode r) throws XdsException {
    var vars = r.get("vars");
    if (vars != null) {
      for (var t : vars) {
        if (t.size() == 3 && "uri".equals(t.get(0).asText()) && t.get(2).asText().startsWith("^")) {
          var re = t.get(2).asText();
          if (re.startsWith("^\\Q") && re.endsWith("\\E")) {
            return re.substring(3, re.length() - 2);
          }
        }
        if (t.size() == 3 && "uri".equals(t.get(0).asText()) && "==".equals(t.get(1).asText())) {
          return t.get(2).asText();
        }
      }
    }
    return "/";
  }

  private static ObjectNode retry(io.envoyproxy.envoy.config.route.v3.RetryPolicy p, String where)
      throws XdsException {
    only(
        p,
        where,
        "retry_on",
        "num_retries",
        "per_try_timeout",
        "retriable_status_codes",
        "retry_host_predicate",
        "host_selection_retry_max_attempts",
        "retry_back_off");
    var statuses = new java.util.TreeSet<Integer>();
    for (var on : p.getRetryOn().split(",")) {
      switch (on.trim()) {
        case "5xx" -> {
          for (int s = 500; s <= 599; s++) {
            statuses.add(s);
          }
        }
        case "gateway-error" -> statuses.addAll(List.of(502, 503, 504));
        case "retriable-4xx" -> statuses.add(409);
        case "retriable-status-codes" -> statuses.addAll(p.getRetriableStatusCodesList());
        // Connection failures are what Archway retries anyway; the gRPC conditions are what Istio
        // sends by default and are accepted without effect (docs/xds.md).
        case "connect-failure",
            "refused-stream",
            "reset",
            "reset-before-request",
            "cancelled",
            "unavailable",
            "deadline-exceeded",
            "resource-exhausted",
            "internal",
            "" -> {}
        default ->
            throw new XdsException(
                where
                    + ": retry_on: "
                    + q(on.trim())
                    + " not supported (expected: 5xx, gateway-error, retriable-4xx,"
                    + " retriable-status-codes, connect-failure, refused-stream, reset, or gRPC"
                    + " conditions)");
      }
    }
    for (var pred : p.getRetryHostPredicateList()) {
      if (!pred.getName().equals("envoy.retry_host_predicates.previous_hosts")) {
        throw new XdsException(
            where
                + ": retry_host_predicate: "
                + q(pred.getName())
                + " not supported (expected: envoy.retry_host_predicates.previous_hosts; Archway"
                + " retries on another node)");
      }
    }
    var out = J.objectNode();
    out.put("retries", p.hasNumRetries() ? p.getNumRetries().getValue() : 1);
    if (p.hasPerTryTimeout() && seconds(p.getPerTryTimeout()) > 0) {
      out.put("retry_timeout", seconds(p.getPerTryTimeout()));
    }
    if (!statuses.isEmpty()) {
      var arr = out.putArray("retry_on_status");
      for (var s : statuses) {
        if (s < 400 || s > 599) {
          throw new XdsException(
              where + ": retriable_status_codes: " + s + " (expected: 400..599)");
        }
        arr.add(s);
      }
    }
    if (p.hasRetryBackOff() && p.getRetryBackOff().hasBaseInterval()) {
      out.put("retry_backoff", seconds(p.getRetryBackOff().getBaseInterval()));
    }
    return out;
  }

  private static ObjectNode hash(RouteAction a, String where) throws XdsException {
    if (a.getHashPolicyCount() == 0) {
      return null;
    }
    if (a.getHashPolicyCount() > 1) {
      throw new XdsException(
          where + ": hash_policy: " + a.getHashPolicyCount() + " policies (expected: one)");
    }
    var h = a.getHashPolicy(0);
    var hw = where + ": hash_policy[0]";
    var out = J.objectNode();
    switch (h.getPolicySpecifierCase()) {
      case HEADER -> out.put("hash_on", "header").put("key", h.getHeader().getHeaderName());
      case COOKIE -> {
        if (h.getCookie().hasTtl()) {
          throw new XdsException(
              hw + ": cookie.ttl: generated cookies not supported (expected: unset)");
        }
        out.put("hash_on", "cookie").put("key", h.getCookie().getName());
      }
      case CONNECTION_PROPERTIES -> out.put("hash_on", "vars").put("key", "remote_addr");
      case QUERY_PARAMETER ->
          out.put("hash_on", "vars").put("key", "arg_" + h.getQueryParameter().getName());
      default ->
          throw new XdsException(
              hw
                  + ": "
                  + h.getPolicySpecifierCase().name().toLowerCase(Locale.ROOT)
                  + " not supported (expected: header, cookie, connection_properties or"
                  + " query_parameter)");
    }
    return out;
  }

  private static String upstreamId(
      String cluster, ObjectNode retry, ObjectNode hash, Map<String, Variant> variants) {
    if (retry == null && hash == null) {
      return clusterId(cluster);
    }
    var variant = new Variant(cluster, retry, hash);
    var id = id("v:" + cluster + "/" + retry + "/" + hash);
    variants.put(id, variant);
    return id;
  }

  private static ObjectNode redirect(RedirectAction a, String where) throws XdsException {
    only(
        a,
        where,
        "https_redirect",
        "scheme_redirect",
        "host_redirect",
        "port_redirect",
        "path_redirect",
        "prefix_rewrite",
        "response_code",
        "strip_query");
    var out = J.objectNode();
    int code =
        switch (a.getResponseCode()) {
          case MOVED_PERMANENTLY -> 301;
          case FOUND -> 302;
          case SEE_OTHER -> 303;
          case TEMPORARY_REDIRECT -> 307;
          case PERMANENT_REDIRECT -> 308;
          default -> throw new XdsException(where + ": response_code: " + a.getResponseCodeValue());
        };
    out.put("ret_code", code);
    var scheme = a.getHttpsRedirect() ? "https" : a.getSchemeRedirect();
    var host = a.getHostRedirect();
    if (a.getPortRedirect() != 0) {
      host = (host.isEmpty() ? "$host" : host) + ":" + a.getPortRedirect();
    }
    if (!a.getPrefixRewrite().isEmpty()) {
      throw new XdsException(
          where + ": prefix_rewrite: not supported in redirects (expected: path_redirect)");
    }
    var path = a.getPathRedirect();
    if (a.getHttpsRedirect() && host.isEmpty() && path.isEmpty()) {
      out.put("http_to_https", true);
      return out;
    }
    var uri = new StringBuilder();
    if (!scheme.isEmpty() || !host.isEmpty()) {
      uri.append(scheme.isEmpty() ? "$scheme" : scheme)
          .append("://")
          .append(host.isEmpty() ? "$host" : host);
    }
    uri.append(path.isEmpty() ? "$uri" : path);
    out.put("uri", uri.toString());
    out.put("append_query_string", !a.getStripQuery() && !path.contains("?"));
    return out;
  }

  private static ObjectNode fault(HTTPFault f, String where) throws XdsException {
    only(f, where, "delay", "abort");
    var out = J.objectNode();
    if (f.hasDelay()) {
      var d = f.getDelay();
      only(d, where + ": delay", "fixed_delay", "percentage");
      if (!d.hasFixedDelay()) {
        throw new XdsException(where + ": delay: fixed_delay missing (expected: a duration)");
      }
      out.putObject("delay")
          .put("duration", seconds(d.getFixedDelay()))
          .put("percentage", percent(d.getPercentage(), d.hasPercentage()));
    }
    if (f.hasAbort()) {
      var a = f.getAbort();
      only(a, where + ": abort", "http_status", "percentage");
      if (a.getHttpStatus() < 200 || a.getHttpStatus() > 599) {
        throw new XdsException(
            where
                + ": abort: "
                + (a.getErrorTypeCase().name().toLowerCase(Locale.ROOT))
                + " not supported (expected: http_status 200..599)");
      }
      out.putObject("abort")
          .put("http_status", a.getHttpStatus())
          .put("body", "fault filter abort")
          .put("percentage", percent(a.getPercentage(), a.hasPercentage()));
    }
    return out;
  }

  private static int percent(FractionalPercent p, boolean set) {
    if (!set) {
      return 100;
    }
    double denominator =
        switch (p.getDenominator()) {
          case TEN_THOUSAND -> 10_000;
          case MILLION -> 1_000_000;
          default -> 100;
        };
    return (int) Math.min(100, Math.round(p.getNumerator() * 100.0 / denominator));
  }

  // -------------------------------------------------------------------------------- clusters

  /**
   * One cluster as an upstream without its nodes: {@code edsName} names the load assignment that
   * gives them, or {@code nodes} holds them (static and DNS clusters).
   */
  record ClusterPart(String name, String edsName, ObjectNode upstream, ArrayNode nodes) {}

  static ClusterPart cluster(Cluster c) throws XdsException {
    var where = "cluster " + q(c.getName());
    only(
        c,
        where,
        "name",
        "type",
        "eds_cluster_config",
        "load_assignment",
        "connect_timeout",
        "lb_policy",
        "ring_hash_lb_config",
        "maglev_lb_config",
        "least_request_lb_config",
        "round_robin_lb_config",
        "outlier_detection",
        "circuit_breakers",
        "common_lb_config",
        "typed_extension_protocol_options",
        "transport_socket_matches",
        "dns_lookup_family",
        "dns_refresh_rate",
        "respect_dns_ttl",
        "per_connection_buffer_limit_bytes",
        "cleanup_interval",
        "upstream_connection_options",
        "track_cluster_stats",
        "alt_stat_name",
        "metadata",
        "filters");
    if (c.hasTransportSocket()) {
      throw new XdsException(
          where
              + ": transport_socket: TLS to the endpoints configured by xDS (SDS, Istio mTLS) is"
              + " not supported (expected: plaintext)");
    }
    var up = J.objectNode();
    up.put("id", clusterId(c.getName()));
    var desc = "xds cluster " + c.getName();
    up.put("desc", desc.length() > 256 ? desc.substring(0, 256) : desc);
    switch (c.getLbPolicy()) {
      case ROUND_ROBIN -> up.put("type", "roundrobin");
      case LEAST_REQUEST -> up.put("type", "least_conn");
      // Envoy hashes on the route's hash_policy; a route without one hashes the client address.
      case RING_HASH, MAGLEV ->
          up.put("type", "chash").put("hash_on", "vars").put("key", "remote_addr");
      default ->
          throw new XdsException(
              where
                  + ": lb_policy: "
                  + c.getLbPolicy()
                  + " not supported (expected: ROUND_ROBIN, LEAST_REQUEST, RING_HASH or MAGLEV)");
    }
    if (c.hasConnectTimeout() && seconds(c.getConnectTimeout()) > 0) {
      up.putObject("timeout").put("connect", seconds(c.getConnectTimeout()));
    }
    if (c.hasCircuitBreakers()) {
      circuitBreakers(c.getCircuitBreakers(), where + ": circuit_breakers");
    }
    if (c.hasOutlierDetection()) {
      up.set("checks", outlier(c.getOutlierDetection(), where + ": outlier_detection"));
    }
    for (var e : c.getTypedExtensionProtocolOptionsMap().entrySet()) {
      var ow = where + ": typed_extension_protocol_options." + e.getKey();
      if (!e.getValue()
          .getTypeUrl()
          .endsWith("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")) {
        throw new XdsException(ow + ": not supported (expected: HttpProtocolOptions)");
      }
      var o = unpack(e.getValue(), HttpProtocolOptions.class, ow);
      if (o.hasExplicitHttpConfig() && o.getExplicitHttpConfig().hasHttp2ProtocolOptions()) {
        up.put("http2", true);
      }
    }
    String eds = null;
    ArrayNode nodes = null;
    switch (c.getClusterDiscoveryTypeCase()) {
      case TYPE -> {
        switch (c.getType()) {
          case EDS ->
              eds =
                  c.getEdsClusterConfig().getServiceName().isEmpty()
                      ? c.getName()
                      : c.getEdsClusterConfig().getServiceName();
          case STATIC, STRICT_DNS, LOGICAL_DNS ->
              nodes = nodes(c.getLoadAssignment(), where + ": load_assignment");
          // Istio's PassthroughCluster: the original destination is unknown here; no nodes (503).
          case ORIGINAL_DST -> nodes = J.arrayNode();
          default ->
              throw new XdsException(
                  where
                      + ": type: "
                      + c.getType()
                      + " not supported (expected: EDS, STATIC, STRICT_DNS or LOGICAL_DNS)");
        }
      }
      default ->
          throw new XdsException(
              where + ": cluster_type: custom cluster types not supported (expected: type)");
    }
    var probe = up.deepCopy();
    probe.set("nodes", nodes == null ? J.arrayNode() : nodes);
    check(Kind.UPSTREAMS, probe, where);
    return new ClusterPart(c.getName(), eds, up, nodes);
  }

  private static void circuitBreakers(CircuitBreakers cb, String where) throws XdsException {
    // Istio sends "unlimited" thresholds on every cluster; real limits are not served.
    for (var t : cb.getThresholdsList()) {
      for (var v :
          List.of(
              t.getMaxConnections(),
              t.getMaxPendingRequests(),
              t.getMaxRequests(),
              t.getMaxRetries())) {
        if (v.getValue() != 0 && v.getValue() < (1 << 30)) {
          throw new XdsException(
              where
                  + ": thresholds: "
                  + v.getValue()
                  + " not supported (expected: unset or unlimited; Archway has no circuit"
                  + " breakers per cluster)");
        }
      }
    }
  }

  private static ObjectNode outlier(OutlierDetection o, String where) throws XdsException {
    only(
        o,
        where,
        "consecutive_5xx",
        "consecutive_gateway_failure",
        "interval",
        "base_ejection_time",
        "max_ejection_percent",
        "enforcing_consecutive_5xx",
        "enforcing_consecutive_gateway_failure",
        "enforcing_success_rate",
        "split_external_local_origin_errors",
        "consecutive_local_origin_failure");
    int failures = o.hasConsecutive5Xx() ? o.getConsecutive5Xx().getValue() : 5;
    boolean gatewayOnly = !o.hasConsecutive5Xx() && o.hasConsecutiveGatewayFailure();
    if (gatewayOnly) {
      failures = o.getConsecutiveGatewayFailure().getValue();
    }
    int eject = o.hasBaseEjectionTime() ? (int) Math.max(1, seconds(o.getBaseEjectionTime())) : 30;
    var checks = J.objectNode();
    // A node ejected by passive checks comes back through an active probe: a TCP connect every
    // base_ejection_time, the nearest to Envoy's ejection for that long.
    var active = checks.putObject("active").put("type", "tcp");
    active.putObject("healthy").put("interval", eject).put("successes", 1);
    active.putObject("unhealthy").put("interval", eject).put("tcp_failures", 1);
    var passive = checks.putObject("passive").put("type", "http");
    var unhealthy = passive.putObject("unhealthy");
    var statuses = unhealthy.putArray("http_statuses");
    if (gatewayOnly) {
      statuses.add(502).add(503).add(504);
    } else {
      for (int s = 500; s <= 599; s++) {
        statuses.add(s);
      }
    }
    unhealthy.put("http_failures", Math.max(1, Math.min(254, failures)));
    unhealthy.put("tcp_failures", Math.max(1, Math.min(254, failures)));
    passive.putObject("healthy").putArray("http_statuses").add(200);
    return checks;
  }

  // ------------------------------------------------------------------------------- endpoints

  /**
   * The nodes of a load assignment. Envoy's priority 0 is tried first, Archway's highest: the
   * priority is negated. Unhealthy and draining endpoints are left out.
   */
  static ArrayNode nodes(ClusterLoadAssignment cla, String where) throws XdsException {
    var out = J.arrayNode();
    for (int i = 0; i < cla.getEndpointsCount(); i++) {
      var loc = cla.getEndpoints(i);
      for (int k = 0; k < loc.getLbEndpointsCount(); k++) {
        var lb = loc.getLbEndpoints(k);
        var ew = where + ": endpoints[" + i + "].lb_endpoints[" + k + "]";
        if (lb.getHealthStatus() == HealthStatus.UNHEALTHY
            || lb.getHealthStatus() == HealthStatus.DRAINING
            || lb.getHealthStatus() == HealthStatus.TIMEOUT) {
          continue;
        }
        if (!lb.hasEndpoint()) {
          throw new XdsException(
              ew + ": endpoint missing (named endpoints are not supported; expected: endpoint)");
        }
        var addr = lb.getEndpoint().getAddress();
        if (!addr.hasSocketAddress()) {
          throw new XdsException(
              ew + ": endpoint.address: not a socket address (expected: socket_address)");
        }
        var sa = addr.getSocketAddress();
        if (sa.getPortSpecifierCase()
            != io.envoyproxy.envoy.config.core.v3.SocketAddress.PortSpecifierCase.PORT_VALUE) {
          throw new XdsException(
              ew + ": endpoint.address.socket_address: named port (expected: port_value)");
        }
        var node = out.addObject().put("host", sa.getAddress()).put("port", sa.getPortValue());
        node.put(
            "weight", lb.hasLoadBalancingWeight() ? lb.getLoadBalancingWeight().getValue() : 1);
        if (loc.getPriority() != 0) {
          node.put("priority", -loc.getPriority());
        }
        if (loc.hasLocality()) {
          var l = loc.getLocality();
          node.putObject("metadata")
              .put("region", l.getRegion())
              .put("zone", l.getZone())
              .put("sub_zone", l.getSubZone());
        }
      }
    }
    var probe = J.objectNode().put("id", "probe");
    probe.set("nodes", out);
    check(Kind.UPSTREAMS, probe, where);
    return out;
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
    var out = new TreeMap<Key, ConfigObject>();
    var upstreams = new TreeMap<String, ObjectNode>();
    for (var c : clusters.values()) {
      var up = c.upstream().deepCopy();
      var nodes = c.nodes() != null ? c.nodes() : endpoints.get(c.edsName());
      up.set("nodes", nodes == null ? J.arrayNode() : nodes.deepCopy());
      upstreams.put(up.get("id").asText(), up);
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
  private static ObjectNode missing(String cluster) {
    var up = J.objectNode();
    var desc = "xds cluster " + cluster + " (not sent by the management server)";
    up.put("desc", desc.length() > 256 ? desc.substring(0, 256) : desc);
    up.put("type", "roundrobin");
    up.set("nodes", J.arrayNode());
    return up;
  }

  private static List<String> upstreamIds(ObjectNode route) {
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

  private static void put(Map<Key, ConfigObject> out, Kind kind, ObjectNode json) {
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

  private static String hash(String s) {
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

  private static <T extends Message> T unpack(Any any, Class<T> type, String where)
      throws XdsException {
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

  private static void check(Kind kind, ObjectNode json, String where) throws XdsException {
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

  private static String regex(String regex, String where) throws XdsException {
    var why = UserRegex.problem(regex);
    if (why != null) {
      throw new XdsException(where + ": regex: " + q(regex) + " (expected: " + why + ")");
    }
    return regex;
  }

  private static String quote(String s) {
    return com.google.re2j.Pattern.quote(s);
  }

  private static ArrayNode term(String var, String op, String value) {
    return J.arrayNode().add(var).add(op).add(value);
  }

  private static ArrayNode not(ArrayNode term) {
    return J.arrayNode().add(term.get(0)).add("!").add(term.get(1)).add(term.get(2));
  }

  static double seconds(Duration d) {
    return d.getSeconds() + d.getNanos() / 1e9;
  }

  private static String q(String s) {
    return "\"" + s + "\"";
  }

  /** Header changes in proxy-rewrite's and response-rewrite's {@code {set, add, remove}} shape. */
  private static final class HeaderOps {
    private final Map<String, String> set = new TreeMap<>();
    private final Map<String, String> add = new TreeMap<>();
    private final Set<String> remove = new java.util.TreeSet<>();

    void add(List<HeaderValueOption> adds, List<String> removes, String where) throws XdsException {
      for (var o : adds) {
        var h = o.getHeader();
        var name = h.getKey().toLowerCase(Locale.ROOT);
        var value = h.getValue().isEmpty() ? h.getRawValue().toStringUtf8() : h.getValue();
        if (ENVOY_FORMAT.matcher(value).find() || value.contains("$")) {
          throw new XdsException(
              where
                  + ": header "
                  + q(name)
                  + ": value "
                  + q(value)
                  + ": Envoy's %COMMAND% formatting and $ not supported (expected: a literal)");
        }
        boolean append =
            o.hasAppend()
                ? o.getAppend().getValue()
                : o.getAppendAction()
                    == HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD;
        if (o.getAppendAction() == HeaderValueOption.HeaderAppendAction.ADD_IF_ABSENT
            || o.getAppendAction() == HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS) {
          throw new XdsException(
              where
                  + ": header "
                  + q(name)
                  + ": append_action "
                  + o.getAppendAction()
                  + " not supported (expected: APPEND_IF_EXISTS_OR_ADD or"
                  + " OVERWRITE_IF_EXISTS_OR_ADD)");
        }
        if (append) {
          add.put(name, value);
          set.remove(name);
        } else {
          set.put(name, value);
          add.remove(name);
        }
        remove.remove(name);
      }
      for (var r : removes) {
        var name = r.toLowerCase(Locale.ROOT);
        remove.add(name);
        set.remove(name);
        add.remove(name);
      }
    }

    boolean isEmpty() {
      return set.isEmpty() && add.isEmpty() && remove.isEmpty();
    }

    JsonNode toJson() {
      var out = J.objectNode();
      if (!set.isEmpty()) {
        var s = out.putObject("set");
        set.forEach(s::put);
      }
      if (!add.isEmpty()) {
        var a = out.putObject("add");
        add.forEach(a::put);
      }
      if (!remove.isEmpty()) {
        var r = out.putArray("remove");
        remove.forEach(r::add);
      }
      return out;
    }
  }
}
