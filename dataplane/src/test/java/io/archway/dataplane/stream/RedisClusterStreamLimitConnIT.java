package io.archway.dataplane.stream;

import static io.archway.dataplane.stream.StreamPluginsIT.connect;
import static io.archway.dataplane.stream.StreamPluginsIT.readOrEnd;
import static io.archway.dataplane.stream.StreamPluginsIT.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisCluster;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream limit-conn with {@code policy: redis-cluster}: two dataplanes count one client's
 * connections in a real three-master Redis Cluster; a connection held open on one pod leaves none
 * on the other until it closes.
 */
class RedisClusterStreamLimitConnIT {

  // How long to wait for a state before giving up: a slow (loaded) machine only waits longer.
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  static String config(int port, int echo, String nodes) {
    // redis_timeout is generous: the test counts slots, a loaded machine must not time Redis out.
    return """
        stream_routes:
          - id: limited
            server_port: %d
            plugins:
              limit-conn:
                conn: 1
                burst: 0
                default_conn_delay: 0.1
                key: remote_addr
                policy: redis-cluster
                redis_cluster_nodes: %s
                redis_cluster_name: stream
                redis_timeout: 5000
            upstream: {nodes: {"127.0.0.1:%d": 1}}
        """
        .formatted(port, nodes, echo);
  }

  /** No node of the cluster holds a slot: every take was given back. */
  private static boolean noSlotHeld(RedisCluster cluster) throws IOException {
    for (var node : cluster.servers()) {
      if (!node.call("KEYS", "archway:limit-conn:*").isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether a connection through {@code port} is let by and echoed; not when it is refused (closed,
   * or reset with its bytes unread) or not answered in time (a cold link still connecting).
   */
  private static boolean served(int port) {
    try (var s = connect(port)) {
      return roundTrip(s, "warm").equals("warm");
    } catch (IOException refused) {
      return false;
    }
  }

  @Test
  void twoDataplanesShareTheConnectionCount() throws Exception {
    try (var cluster = new RedisCluster(Files.createDirectories(dir.resolve("cluster")), 3);
        var echo = new StreamPluginsIT.Echo()) {
      // Picked once the cluster is up, so no port its nodes and their handshakes take.
      int portA = Ports.free();
      int portB = Ports.free();
      try (var a =
              Gateways.start(
                  Files.createDirectories(dir.resolve("a")),
                  config(portA, echo.port(), cluster.nodesYaml()),
                  StreamSettings.DEFAULTS.withPorts(List.of(portA)));
          var b =
              Gateways.start(
                  Files.createDirectories(dir.resolve("b")),
                  config(portB, echo.port(), cluster.nodesYaml()),
                  StreamSettings.DEFAULTS.withPorts(List.of(portB)))) {
        // Each pod's link to the cluster is up (a pod reads the slot map on its first connection,
        // which a cold link may not finish in time), and every slot those took is back.
        await().atMost(WAIT).until(() -> served(portA));
        await().atMost(WAIT).until(() -> served(portB));
        await().atMost(WAIT).until(() -> noSlotHeld(cluster));
        try (var first = connect(portA)) {
          assertThat(roundTrip(first, "one")).isEqualTo("one");
          try (var second = connect(portB)) {
            assertThat(readOrEnd(second)).as("pod b sees pod a's slot taken").isEqualTo(-1);
          }
        }
        // The slot comes back when the first connection closes (asynchronously): pod b gets it.
        await().atMost(WAIT).until(() -> noSlotHeld(cluster));
        try (var third = connect(portB)) {
          assertThat(roundTrip(third, "three")).isEqualTo("three");
        }
      }
    }
  }
}
