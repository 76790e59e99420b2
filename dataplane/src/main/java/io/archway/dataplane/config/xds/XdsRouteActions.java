package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsTranslator.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A route's action: clusters, weights, rewrites, timeouts, retry and hash policies. */
final class XdsRouteActions {

  private XdsRouteActions() {}

  static void routeAction(
      RouteAction a,
      RouteMatch match,
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
      var prefix =
          switch (match.getPathSpecifierCase()) {
            case PREFIX -> match.getPrefix();
            case PATH -> match.getPath();
            case PATH_SEPARATED_PREFIX -> match.getPathSeparatedPrefix();
            default ->
                throw new XdsException(
                    where
                        + ": prefix_rewrite: with a "
                        + match.getPathSpecifierCase().name().toLowerCase(Locale.ROOT)
                        + " match (expected: a prefix or path match; use regex_rewrite)");
          };
      proxyRewrite
          .putArray("regex_uri")
          .add("^" + quote(prefix) + "(.*)")
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

  static ObjectNode retry(io.envoyproxy.envoy.config.route.v3.RetryPolicy p, String where)
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

  static ObjectNode hash(RouteAction a, String where) throws XdsException {
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

  static String upstreamId(
      String cluster, ObjectNode retry, ObjectNode hash, Map<String, Variant> variants) {
    if (retry == null && hash == null) {
      return clusterId(cluster);
    }
    var variant = new Variant(cluster, retry, hash);
    var id = id("v:" + cluster + "/" + retry + "/" + hash);
    variants.put(id, variant);
    return id;
  }
}
