package io.archway.dataplane.stream;

import static io.archway.dataplane.stream.StreamPluginsIT.connect;
import static io.archway.dataplane.stream.StreamPluginsIT.readOrEnd;
import static io.archway.dataplane.stream.StreamPluginsIT.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisCluster;
import io.archway.model.testing.Ports;
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

  @TempDir Path dir;

  static String config(int port, int echo, String nodes) {
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
                redis_timeout: 500
            upstream: {nodes: {"127.0.0.1:%d": 1}}
        """
        .formatted(port, nodes, echo);
  }

  @Test
  void twoDataplanesShareTheConnectionCount() throws Exception {
    int portA = Ports.free();
    int portB = Ports.free();
    try (var cluster = new RedisCluster(Files.createDirectories(dir.resolve("cluster")), 3);
        var echo = new StreamPluginsIT.Echo();
        var a =
            Gateways.start(
                Files.createDirectories(dir.resolve("a")),
                config(portA, echo.port(), cluster.nodesYaml()),
                StreamSettings.DEFAULTS.withPorts(List.of(portA)));
        var b =
            Gateways.start(
                Files.createDirectories(dir.resolve("b")),
                config(portB, echo.port(), cluster.nodesYaml()),
                StreamSettings.DEFAULTS.withPorts(List.of(portB)))) {
      try (var first = connect(portA)) {
        assertThat(roundTrip(first, "one")).isEqualTo("one");
        try (var second = connect(portB)) {
          assertThat(readOrEnd(second)).as("pod b sees pod a's slot taken").isEqualTo(-1);
        }
      }
      // The slot comes back when the first connection closes: pod b gets it.
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                try (var third = connect(portB)) {
                  assertThat(roundTrip(third, "three")).isEqualTo("three");
                }
              });
    }
  }
}
