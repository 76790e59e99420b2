package io.archway.dataplane.cli;

import static io.archway.dataplane.cli.Values.port;
import static io.archway.dataplane.cli.Values.seconds;
import static io.archway.dataplane.cli.Values.sorted;
import static io.archway.dataplane.cli.Values.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.config.xds.XdsConfigSource;
import io.archway.dataplane.config.xds.XdsNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * {@code --xds}, {@code --xds-node-id}, {@code --xds-cluster}, {@code --xds-protocol}, {@code
 * --xds-initial-fetch-timeout} and the settings file's {@code xds:} section: the xDS management
 * server the config comes from instead of a file or etcd, and how.
 */
final class XdsOptions {

  private static final Set<String> FIELDS =
      Set.of("address", "node_id", "cluster", "protocol", "initial_fetch_timeout");

  private String address;
  private String nodeId;
  private String cluster;
  private XdsConfigSource.Protocol protocol = XdsConfigSource.Protocol.SOTW;
  private Duration initialFetchTimeout = Duration.ZERO;

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
    if (c.xdsInitialFetchTimeout != null) {
      initialFetchTimeout = seconds("--xds-initial-fetch-timeout", c.xdsInitialFetchTimeout);
    }
  }

  void read(Path file, JsonNode v) throws UsageException {
    if (!v.isObject()) {
      throw new UsageException(
          file
              + ": xds: expected a mapping (address, node_id, cluster, protocol, initial_fetch_timeout)");
    }
    for (var e : v.properties()) {
      var at = file + ": xds." + e.getKey();
      switch (e.getKey()) {
        case "address" -> address = address(at, text(at, e.getValue()));
        case "node_id" -> nodeId = text(at, e.getValue());
        case "cluster" -> cluster = text(at, e.getValue());
        case "protocol" -> protocol = protocol(at, text(at, e.getValue()));
        case "initial_fetch_timeout" -> initialFetchTimeout = seconds(at, e.getValue().asText());
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
      return null;
    }
    try {
      return XdsConfigSource.Settings.of(address, XdsNode.of(nodeId, cluster, System.getenv()))
          .with(protocol, initialFetchTimeout);
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
