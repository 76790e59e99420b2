package io.archway.operator.registry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.UpstreamNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ZooKeeper registry against a real ZooKeeper server (Curator's {@link TestingServer}: the
 * ZooKeeper server itself, in this JVM, on a random loopback port): apisix-seed's layout, instances
 * as ephemeral children, bad data, and an outage that keeps the last nodes.
 */
class ZooKeeperRegistryIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private TestingServer server;
  private CuratorFramework writer;
  private Registries registries;
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(true);
    writer = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
    writer.start();
    var zk =
        new ZooKeeperRegistry(
            new ZooKeeperRegistry.Settings(
                server.getConnectString(),
                "/zookeeper",
                Duration.ofSeconds(4),
                Duration.ofSeconds(2),
                100));
    registries =
        new Registries(
            List.of(zk),
            new Registries.Settings(
                Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofSeconds(10)));
    registries.metrics(
        new Registries.Metrics() {
          @Override
          public void updated(String registry) {
            counts.computeIfAbsent("updated", k -> new AtomicInteger()).incrementAndGet();
          }

          @Override
          public void failed(String registry) {
            counts.computeIfAbsent("failed", k -> new AtomicInteger()).incrementAndGet();
          }
        });
  }

  @AfterEach
  void stop() throws Exception {
    registries.close();
    writer.close();
    server.close();
  }

  private static UpstreamNode node(String host, int port, int weight) {
    return new UpstreamNode(host, port, weight, null, null);
  }

  @Test
  void followsApisixSeedsLayoutThroughAnOutage() throws Exception {
    var changes = new AtomicInteger();
    registries.onChange((type, name) -> changes.incrementAndGet());
    // No znode yet: the service has no nodes (known, empty).
    var first = registries.lookup("zookeeper", "APISIX-ZK");
    assertThat(first.known()).isTrue();
    assertThat(first.nodes()).isEmpty();

    writer
        .create()
        .creatingParentsIfNeeded()
        .forPath(
            "/zookeeper/APISIX-ZK",
            "[{\"host\":\"10.0.0.1\",\"port\":1980,\"weight\":50}]".getBytes(UTF_8));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(registries.lookup("zookeeper", "APISIX-ZK").nodes())
                    .containsExactly(node("10.0.0.1", 1980, 50)));

    // An instance that registers itself as an ephemeral child.
    writer
        .create()
        .withMode(CreateMode.EPHEMERAL)
        .forPath("/zookeeper/APISIX-ZK/i-2", "{\"host\":\"10.0.0.2:1980\"}".getBytes(UTF_8));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(registries.lookup("zookeeper", "APISIX-ZK").nodes())
                    .containsExactly(node("10.0.0.1", 1980, 50), node("10.0.0.2", 1980, 100)));

    // Bad data: named, and the last nodes stay.
    writer.setData().forPath("/zookeeper/APISIX-ZK", "{oops".getBytes(UTF_8));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var l = registries.lookup("zookeeper", "APISIX-ZK");
              assertThat(l.error())
                  .isEqualTo(
                      "zookeeper /zookeeper/APISIX-ZK: not JSON"
                          + " (expected: [{\"host\":...,\"port\":...,\"weight\":...}])");
              assertThat(l.nodes()).hasSize(2);
            });
    writer
        .setData()
        .forPath("/zookeeper/APISIX-ZK", "[{\"host\":\"10.0.0.1\",\"port\":1980}]".getBytes(UTF_8));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var l = registries.lookup("zookeeper", "APISIX-ZK");
              assertThat(l.error()).isNull();
              assertThat(l.nodes())
                  .containsExactly(node("10.0.0.1", 1980, 100), node("10.0.0.2", 1980, 100));
            });

    // One instance registers garbage: it is left out, the others' changes still go through.
    writer.create().forPath("/zookeeper/APISIX-ZK/i-3", "{oops".getBytes(UTF_8));
    writer.delete().forPath("/zookeeper/APISIX-ZK/i-2");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var l = registries.lookup("zookeeper", "APISIX-ZK");
              assertThat(l.error()).isNull();
              assertThat(l.nodes()).containsExactly(node("10.0.0.1", 1980, 100));
            });
    writer.delete().forPath("/zookeeper/APISIX-ZK/i-3");
    writer
        .create()
        .withMode(CreateMode.EPHEMERAL)
        .forPath("/zookeeper/APISIX-ZK/i-2", "{\"host\":\"10.0.0.2:1980\"}".getBytes(UTF_8));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(registries.lookup("zookeeper", "APISIX-ZK").nodes()).hasSize(2));

    // ZooKeeper goes away: the error is reported, the nodes stay; it comes back: it answers.
    server.stop();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var l = registries.lookup("zookeeper", "APISIX-ZK");
              assertThat(l.error()).startsWith("zookeeper " + server.getConnectString());
              assertThat(l.nodes()).hasSize(2);
            });
    server.restart();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(registries.lookup("zookeeper", "APISIX-ZK").error()).isNull());
    assertThat(counts.get("updated").get()).isGreaterThanOrEqualTo(3);
    assertThat(counts.get("failed").get()).isGreaterThanOrEqualTo(2);
    assertThat(changes.get()).isGreaterThanOrEqualTo(5);

    // No longer named: no longer followed.
    registries.retain(java.util.Set.of());
    assertThat(registries.followed()).isEmpty();
  }
}
