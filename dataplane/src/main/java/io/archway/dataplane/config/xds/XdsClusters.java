package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsTranslator.*;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.List;

/** Clusters and load assignments to upstreams and their nodes. */
final class XdsClusters {

  private XdsClusters() {}

  static ClusterPart cluster(Cluster c, boolean agent) throws XdsException {
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
        "transport_socket",
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
    var tls = tls(c, up, where, agent);
    var probe = up.deepCopy();
    probe.set("nodes", nodes == null ? J.arrayNode() : nodes);
    if (tls != null) {
      probe.set("tls", tls.tls());
    }
    check(Kind.UPSTREAMS, probe, where);
    return new ClusterPart(c.getName(), eds, up, nodes, tls);
  }

  /**
   * The cluster's TLS: its {@code transport_socket}, or the TLS one of Istio's {@code
   * transport_socket_matches} (for the endpoints whose metadata it names); {@code null}: plaintext.
   */
  private static XdsTls.UpstreamTls tls(Cluster c, ObjectNode up, String where, boolean agent)
      throws XdsException {
    var tls =
        c.hasTransportSocket()
            ? XdsTls.upstream(c.getTransportSocket(), where + ": transport_socket", agent)
            : null;
    var matched = XdsTls.matches(c.getTransportSocketMatchesList(), where, agent);
    if (matched != null && tls != null) {
      throw new XdsException(
          where
              + ": transport_socket: TLS with a TLS socket in transport_socket_matches too"
              + " (expected: plaintext, or no TLS match)");
    }
    tls = matched != null ? matched : tls;
    if (tls == null) {
      return null;
    }
    up.put("scheme", "https");
    var alpn = tls.tls().path("alpn");
    if (up.path("http2").asBoolean(false)) {
      tls.tls().remove("alpn"); // HTTP/2 to a node is agreed by ALPN h2 alone
    } else if (alpn.toString().contains("\"istio")) {
      // What Istio's istio.alpn filter does on the way out: the protocol the sidecar is spoken to.
      tls.tls().set("alpn", J.arrayNode().add("istio-http/1.1"));
    }
    return tls;
  }

  static void circuitBreakers(CircuitBreakers cb, String where) throws XdsException {
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

  static ObjectNode outlier(OutlierDetection o, String where) throws XdsException {
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
        // What transport_socket_matches match on (Istio's tlsMode: istio).
        var match = lb.getMetadata().getFilterMetadataMap().get("envoy.transport_socket_match");
        if (match != null) {
          for (var f : match.getFieldsMap().entrySet()) {
            if (f.getValue().hasStringValue()) {
              var meta =
                  node.has("metadata")
                      ? (ObjectNode) node.get("metadata")
                      : node.putObject("metadata");
              meta.put(f.getKey(), f.getValue().getStringValue());
            }
          }
        }
      }
    }
    var probe = J.objectNode().put("id", "probe");
    probe.set("nodes", out);
    check(Kind.UPSTREAMS, probe, where);
    return out;
  }
}
