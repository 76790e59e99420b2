package io.archway.dataplane.cli;

import static io.archway.dataplane.cli.Values.port;
import static io.archway.dataplane.cli.Values.seconds;
import static io.archway.dataplane.cli.Values.sorted;
import static io.archway.dataplane.cli.Values.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.config.xds.XdsConfigSource;
import io.archway.dataplane.config.xds.XdsNode;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * {@code --xds}, {@code --xds-node-id}, {@code --xds-cluster}, {@code --xds-protocol}, {@code
 * --xds-initial-fetch-timeout}, {@code --xds-sds} and the settings file's {@code xds:} section: the
 * xDS management server the config comes from instead of a file or etcd, how, and Istio's agent's
 * SDS server.
 */
final class XdsOptions {

  private static final Set<String> FIELDS =
      Set.of("address", "node_id", "cluster", "protocol", "initial_fetch_timeout", "sds");

  private String address;
  private String nodeId;
  private String cluster;
  private XdsConfigSource.Protocol protocol = XdsConfigSource.Protocol.SOTW;
  private Duration initialFetchTimeout = Duration.ZERO;
  private String sds;

  /** Whether an address was given (the config comes from xDS). */
  boolean given() {
    return address != null;
  }

  /** Refuses xDS together with another config source. */
  void alone(boolean standalone, boolean etcd) throws UsageException {
    if (given() && (standalone || etcd)) {
      throw new UsageException(
          "--xds and "
              + (standalone ? "--standalone" : "--etcd")
              + " both given (expected: one config source)");
    }
  }

  void apply(DataplaneCommand c) throws UsageException {
    if (c.xds != null) {
      address = address("--xds", c.xds);
    }
    if (c.xdsNodeId != null) {
      nodeId = c.xdsNodeId;
    }
    if (c.xdsCluster != null) {
      cluster = c.xdsCluster;
    }
    if (c.xdsProtocol != null) {
      protocol = protocol("--xds-protocol", c.xdsProtocol);
    }
    if (c.xdsSds != null) {
      sds = sds("--xds-sds", c.xdsSds);
    }
    if (c.xdsInitialFetchTimeout != null) {
      initialFetchTimeout = seconds("--xds-initial-fetch-timeout", c.xdsInitialFetchTimeout);
    }
  }

  void read(Path file, JsonNode v) throws UsageException {
    if (!v.isObject()) {
      throw new UsageException(
          file
              + ": xds: expected a mapping (address, node_id, cluster, protocol,"
              + " initial_fetch_timeout, sds)");
    }
    for (var e : v.properties()) {
      var at = file + ": xds." + e.getKey();
      switch (e.getKey()) {
        case "address" -> address = address(at, text(at, e.getValue()));
        case "node_id" -> nodeId = text(at, e.getValue());
        case "cluster" -> cluster = text(at, e.getValue());
        case "protocol" -> protocol = protocol(at, text(at, e.getValue()));
        case "initial_fetch_timeout" -> initialFetchTimeout = seconds(at, e.getValue().asText());
        case "sds" -> sds = sds(at, text(at, e.getValue()));
        default ->
            throw new UsageException(
                at
                    + ": unknown setting (expected one of: "
                    + String.join(", ", sorted(FIELDS))
                    + ")");
      }
    }
  }

  /** The source's settings, or {@code null} when no address was given. */
  XdsConfigSource.Settings settings() throws UsageException {
    if (address == null) {
      if (sds != null) {
        throw new UsageException("--xds-sds without --xds (expected: both, or neither)");
      }
      return null;
    }
    try {
      return new XdsConfigSource.Settings(
          address,
          XdsNode.of(nodeId, cluster, System.getenv()),
          Duration.ofMillis(100),
          Duration.ofSeconds(5),
          protocol,
          initialFetchTimeout,
          sds);
    } catch (IllegalArgumentException e) {
      throw new UsageException("xds node metadata: " + e.getMessage());
    }
  }

  private static XdsConfigSource.Protocol protocol(String at, String v) throws UsageException {
    return switch (v) {
      case "sotw" -> XdsConfigSource.Protocol.SOTW;
      case "delta" -> XdsConfigSource.Protocol.DELTA;
      default ->
          throw new UsageException(
              at + ": \"" + v + "\" (expected: sotw, state of the world, or delta)");
    };
  }

  /** Istio's agent's SDS server: {@code unix:///PATH}, or {@code host:port}. */
  private static String sds(String at, String v) throws UsageException {
    if (v.startsWith("unix:")) {
      if (!v.startsWith("unix:///") || v.length() == "unix:///".length()) {
        throw new UsageException(
            at
                + ": \""
                + v
                + "\" (expected: unix:///PATH of the agent's socket, e.g."
                + " unix:///var/run/secrets/workload-spiffe-uds/socket, or HOST:PORT)");
      }
      if (!Epoll.isAvailable()) {
        throw new UsageException(
            at
                + ": \""
                + v
                + "\": Unix sockets need Netty's epoll transport, unavailable here ("
                + Epoll.unavailabilityCause()
                + "; expected: Linux, or HOST:PORT)");
      }
      return v;
    }
    return address(at, v);
  }

  /** {@code host:port} of an xDS server, as gRPC's target. */
  private static String address(String at, String v) throws UsageException {
    var address = v.startsWith("dns:///") ? v.substring("dns:///".length()) : v;
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || !address.substring(colon + 1).matches("[0-9]{1,5}")) {
      throw new UsageException(
          at
              + ": \""
              + v
              + "\" (expected: HOST:PORT of the management server, e.g."
              + " istiod.istio-system.svc:15010)");
    }
    port(at, address.substring(colon + 1));
    return address;
  }
}
