package io.archway.operator.seed;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.source.EtcdConfigSource;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.registry.Registries;
import io.archway.operator.registry.ZooKeeperRegistry;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The seed against a real etcd and a real ZooKeeper (Curator's {@link TestingServer}: the ZooKeeper
 * server itself, in this JVM, on a random loopback port): objects written as APISIX's Admin API
 * writes them, with {@code discovery_type: zookeeper}, get their nodes as apisix-seed writes them,
 * and follow the registry; a write made meanwhile is never lost.
 */
class SeederIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String NODE_1 = "{\"host\":\"10.0.0.1\",\"port\":1980,\"weight\":100}";
  private static final String NODE_2 = "{\"host\":\"10.0.0.2\",\"port\":1980,\"weight\":100}";

  private TestingServer server;
  private CuratorFramework zk;
  private Registries registries;
  private EtcdConfigSink sink;
  private Seeder seeder;
  private String prefix;

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(true);
    zk = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
    zk.start();
    registries =
        new Registries(
            List.of(
                new ZooKeeperRegistry(
                    new ZooKeeperRegistry.Settings(
                        server.getConnectString(),
                        "/zookeeper",
                        Duration.ofSeconds(4),
                        Duration.ofSeconds(2),
                        100))),
            new Registries.Settings(
                Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofSeconds(2)));
    prefix = "/seed-" + System.nanoTime();
    sink =
        new EtcdConfigSink(
            Client.builder().endpoints(etcd.endpoint()).build(), prefix, Duration.ofSeconds(10));
    seeder =
        new Seeder(
            new EtcdConfigSource(EtcdConfigSource.Settings.of(List.of(etcd.endpoint()), prefix)),
            sink,
            registries);
  }

  @AfterEach
  void stop() throws Exception {
    seeder.close();
    registries.close();
    sink.close();
    zk.close();
    server.close();
  }

  private void put(String item, String json) throws Exception {
    etcd.client()
        .getKVClient()
        .put(bytes(prefix + "/" + item), ByteSequence.from(json, UTF_8))
        .get();
  }

  private void delete(String item) throws Exception {
    etcd.client().getKVClient().delete(bytes(prefix + "/" + item)).get();
  }

  private JsonNode get(String item) throws Exception {
    var kvs = etcd.client().getKVClient().get(bytes(prefix + "/" + item)).get().getKvs();
    return kvs.isEmpty() ? null : ModelJson.mapper().readTree(kvs.get(0).getValue().getBytes());
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  private static JsonNode json(String s) throws Exception {
    return ModelJson.mapper().readTree(s);
  }

  private void register(String service, String data) throws Exception {
    zk.create().creatingParentsIfNeeded().forPath("/zookeeper/" + service, data.getBytes(UTF_8));
  }

  /** The upstream as apisix-seed leaves it: the nodes, the renamed marks, nothing else changed. */
  private static void assertSeeded(JsonNode up, String service, String nodes) throws Exception {
    assertThat(up.get("nodes")).isEqualTo(json(nodes));
    assertThat(up.path("_discovery_type").asText()).isEqualTo("zookeeper");
    assertThat(up.path("_service_name").asText()).isEqualTo(service);
    assertThat(up.has("discovery_type")).isFalse();
    assertThat(up.has("service_name")).isFalse();
  }

  /** Waits until the route is seeded with APISIX-ZK's one node and has {@code desc}. */
  private void awaitSeeded(String route, String desc) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var value = get(route);
              assertSeeded(value.get("upstream"), "APISIX-ZK", "[" + NODE_1 + "]");
              assertThat(value.path("desc").asText()).isEqualTo(desc);
            });
  }

  @Test
  void upstreamsRoutesAndServicesGetTheRegistrysNodesAndFollowThem() throws Exception {
    register("APISIX-ZK", "[" + NODE_1 + "]");
    put(
        "upstreams/1",
        "{\"id\":\"1\",\"type\":\"roundrobin\",\"desc\":\"kept\",\"discovery_type\":\"zookeeper\","
            + "\"service_name\":\"APISIX-ZK\",\"create_time\":1700000000}");
    put(
        "routes/1",
        "{\"id\":\"1\",\"uri\":\"/zk\",\"plugins\":{\"proxy-rewrite\":{\"uri\":\"/x\"}},"
            + "\"upstream\":{\"type\":\"roundrobin\",\"discovery_type\":\"zookeeper\","
            + "\"service_name\":\"APISIX-ZK\"}}");
    put(
        "services/1",
        "{\"id\":\"1\",\"upstream\":{\"discovery_type\":\"zookeeper\","
            + "\"service_name\":\"APISIX-ZK\"}}");
    // Archway's own (written from a custom resource), and one that names no registry: untouched.
    var owned =
        "{\"id\":\"own\",\"uri\":\"/own\",\"labels\":{\"managed-by\":\"archway\","
            + "\"archway.io/owner-kind\":\"ApisixRoute\",\"archway.io/owner-namespace\":\"shop\","
            + "\"archway.io/owner-name\":\"web\",\"archway.io/owner-uid\":\"u1\"},"
            + "\"upstream\":{\"discovery_type\":\"zookeeper\",\"service_name\":\"APISIX-ZK\"}}";
    put("routes/own", owned);
    var plain = "{\"id\":\"plain\",\"uri\":\"/p\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}";
    put("routes/plain", plain);
    seeder.start();

    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var up = get("upstreams/1");
              assertSeeded(up, "APISIX-ZK", "[" + NODE_1 + "]");
              assertThat(up.path("desc").asText()).isEqualTo("kept");
              assertThat(up.path("create_time").asLong()).isEqualTo(1700000000L);
              var route = get("routes/1");
              assertSeeded(route.get("upstream"), "APISIX-ZK", "[" + NODE_1 + "]");
              assertThat(route.at("/plugins/proxy-rewrite/uri").asText()).isEqualTo("/x");
              assertSeeded(get("services/1").get("upstream"), "APISIX-ZK", "[" + NODE_1 + "]");
            });
    // What the seed wrote is what the dataplane compiles.
    ModelJson.read(Kind.ROUTES, get("routes/1"), "1", "routes/1");
    ModelJson.read(Kind.UPSTREAMS, get("upstreams/1"), "1", "upstreams/1");
    assertThat(seeder.objects()).isEqualTo(3);

    // An instance registers itself: every object follows (damped); it leaves: they follow again.
    zk.create()
        .withMode(CreateMode.EPHEMERAL)
        .forPath("/zookeeper/APISIX-ZK/i-2", "{\"host\":\"10.0.0.2:1980\"}".getBytes(UTF_8));
    var both = "[" + NODE_1 + "," + NODE_2 + "]";
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              assertSeeded(get("upstreams/1"), "APISIX-ZK", both);
              assertSeeded(get("routes/1").get("upstream"), "APISIX-ZK", both);
              assertSeeded(get("services/1").get("upstream"), "APISIX-ZK", both);
            });
    zk.delete().forPath("/zookeeper/APISIX-ZK/i-2");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              assertSeeded(get("upstreams/1"), "APISIX-ZK", "[" + NODE_1 + "]");
              assertSeeded(get("routes/1").get("upstream"), "APISIX-ZK", "[" + NODE_1 + "]");
              assertSeeded(get("services/1").get("upstream"), "APISIX-ZK", "[" + NODE_1 + "]");
            });

    // ZooKeeper goes away: the registry reports it, the last nodes stay written.
    long writes = seeder.writes();
    server.stop();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(registries.peek("zookeeper", "APISIX-ZK").error()).isNotNull());
    assertSeeded(get("routes/1").get("upstream"), "APISIX-ZK", "[" + NODE_1 + "]");
    assertSeeded(get("upstreams/1"), "APISIX-ZK", "[" + NODE_1 + "]");
    assertThat(seeder.writes()).isEqualTo(writes);

    assertThat(get("routes/own")).isEqualTo(json(owned));
    assertThat(get("routes/plain")).isEqualTo(json(plain));
  }

  @Test
  void aConcurrentWriteIsNotLostARewriteIsSeededAgainAndAGoneObjectIsUnfollowed() throws Exception {
    register("APISIX-ZK", "[" + NODE_1 + "]");
    var service = new Registries.Service("zookeeper", "APISIX-ZK");
    var first = new AtomicBoolean(true);
    // An Admin API write lands between the seed's read and its write.
    seeder.beforeWrite(
        key -> {
          if (first.getAndSet(false)) {
            put(
                "routes/c",
                "{\"id\":\"c\",\"uri\":\"/c\",\"desc\":\"concurrent\",\"upstream\":"
                    + "{\"discovery_type\":\"zookeeper\",\"service_name\":\"APISIX-ZK\"}}");
          }
        });
    seeder.start();
    put(
        "routes/c",
        "{\"id\":\"c\",\"uri\":\"/c\",\"upstream\":"
            + "{\"discovery_type\":\"zookeeper\",\"service_name\":\"APISIX-ZK\"}}");
    awaitSeeded("routes/c", "concurrent");
    assertThat(seeder.conflicts()).isGreaterThanOrEqualTo(1);

    // The user writes it again as before (discovery_type, no nodes): it is seeded again.
    put(
        "routes/c",
        "{\"id\":\"c\",\"uri\":\"/c\",\"desc\":\"again\",\"upstream\":"
            + "{\"type\":\"chash\",\"hash_on\":\"vars\",\"key\":\"remote_addr\","
            + "\"discovery_type\":\"zookeeper\",\"service_name\":\"APISIX-ZK\"}}");
    awaitSeeded("routes/c", "again");
    assertThat(get("routes/c").at("/upstream/type").asText()).isEqualTo("chash");
    assertThat(registries.followed()).contains(service);

    // It stops naming the registry: unfollowed, and left as written.
    var fixed = "{\"id\":\"c\",\"uri\":\"/c\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}";
    put("routes/c", fixed);
    await().atMost(WAIT).until(() -> !registries.followed().contains(service));
    assertThat(get("routes/c")).isEqualTo(json(fixed));

    // Named again, then deleted: unfollowed.
    put(
        "upstreams/u",
        "{\"id\":\"u\",\"discovery_type\":\"zookeeper\",\"service_name\":\"APISIX-ZK\"}");
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertSeeded(get("upstreams/u"), "APISIX-ZK", "[" + NODE_1 + "]"));
    assertThat(registries.followed()).contains(service);
    delete("upstreams/u");
    await().atMost(WAIT).until(() -> !registries.followed().contains(service));
    assertThat(get("upstreams/u")).isNull();
    assertThat(seeder.objects()).isZero();
  }

  @Test
  void dnsInControlPlaneModeIsSeededAndKubernetesIsLeftToTheDataplane() throws Exception {
    try (var dnsmasq = new io.archway.operator.testing.Dnsmasq(1)) {
      dnsmasq.hosts("shop", "10.0.1.1 api.shop.test\n");
      var dns =
          new Registries(
              List.of(
                  new io.archway.operator.registry.DnsRegistry(
                      new io.archway.operator.registry.DnsRegistry.Settings(
                          List.of(dnsmasq.address()),
                          Duration.ofMillis(200),
                          Duration.ofSeconds(5),
                          Duration.ofMillis(500)))),
              new Registries.Settings(
                  Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofSeconds(2)));
      var kubernetes =
          "{\"id\":\"k\",\"discovery_type\":\"kubernetes\","
              + "\"service_name\":\"shop/api:http\"}";
      put("upstreams/k", kubernetes);
      put(
          "upstreams/d",
          "{\"id\":\"d\",\"discovery_type\":\"dns\",\"service_name\":\"api.shop.test:9000\"}");
      try (var seed =
          new Seeder(
              new EtcdConfigSource(EtcdConfigSource.Settings.of(List.of(etcd.endpoint()), prefix)),
              sink,
              dns)) {
        seed.start();
        await()
            .atMost(WAIT)
            .untilAsserted(
                () -> {
                  var up = get("upstreams/d");
                  assertThat(up.get("nodes"))
                      .isEqualTo(json("[{\"host\":\"10.0.1.1\",\"port\":9000,\"weight\":1}]"));
                  assertThat(up.path("_discovery_type").asText()).isEqualTo("dns");
                  assertThat(up.path("_service_name").asText()).isEqualTo("api.shop.test:9000");
                });
        // A record changes: followed.
        dnsmasq.hosts("shop", "10.0.1.2 api.shop.test\n");
        await()
            .atMost(WAIT)
            .untilAsserted(
                () ->
                    assertThat(get("upstreams/d").get("nodes"))
                        .isEqualTo(json("[{\"host\":\"10.0.1.2\",\"port\":9000,\"weight\":1}]")));
        assertThat(get("upstreams/k")).isEqualTo(json(kubernetes));
      } finally {
        dns.close();
      }
    }
  }

  @Test
  void aFencedSeederWritesNothingNotEvenTheWriteItHadReadFor() throws Exception {
    register("APISIX-ZK", "[" + NODE_1 + "]");
    var unseeded = "{\"id\":\"f\",\"discovery_type\":\"zookeeper\",\"service_name\":\"APISIX-ZK\"}";
    put("upstreams/f", unseeded);
    var reached = new java.util.concurrent.CountDownLatch(1);
    // The Lease is lost between the seed's read and its compare-and-swap.
    seeder.beforeWrite(
        key -> {
          seeder.fence();
          reached.countDown();
        });
    seeder.start();
    assertThat(reached.await(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    seeder.close(); // waits for the seed's thread: the write it was making is over
    assertThat(seeder.writes()).isZero();
    assertThat(get("upstreams/f")).isEqualTo(json(unseeded));
  }

  @Test
  void aFailingWriteKeepsOneRetryPendingHoweverManyChangesCome() throws Exception {
    register("APISIX-ZK", "[" + NODE_1 + "]");
    put(
        "upstreams/r",
        "{\"id\":\"r\",\"discovery_type\":\"zookeeper\",\"service_name\":\"APISIX-ZK\"}");
    var refusing = new AtomicBoolean(true);
    var tries = new java.util.concurrent.atomic.AtomicInteger();
    seeder.beforeWrite(
        key -> {
          tries.incrementAndGet();
          if (refusing.get()) {
            throw new IllegalStateException("refused");
          }
        });
    seeder.start();
    await().atMost(WAIT).until(() -> tries.get() >= 1);
    // Each instance that registers is a registry change, and a failed try of the object.
    for (int i = 2; i <= 4; i++) {
      zk.create()
          .withMode(CreateMode.EPHEMERAL)
          .forPath(
              "/zookeeper/APISIX-ZK/i-" + i,
              ("{\"host\":\"10.0.0." + i + ":1980\"}").getBytes(UTF_8));
    }
    await().atMost(WAIT).until(() -> registries.peek("zookeeper", "APISIX-ZK").nodes().size() == 4);
    assertThat(seeder.pendingRetries()).isEqualTo(1);
    assertThat(seeder.writes()).isZero();

    // Writes are accepted again: the next change (or the retry) writes the nodes.
    refusing.set(false);
    zk.delete().forPath("/zookeeper/APISIX-ZK/i-4");
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(get("upstreams/r").get("nodes")).hasSize(3));
    assertThat(seeder.pendingRetries()).isZero();
  }
}
