package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisCluster;
import io.archway.dataplane.testing.RedisServer;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rate limiters with {@code policy: redis-cluster} against a real three-master Redis Cluster:
 * two dataplanes share counts, buckets and connection slots through it, each counter's key lives on
 * the node serving its hash tag's slot, and a cluster out of reach answers as a lost Redis server
 * does.
 */
class RedisClusterLimitsIT {

  @TempDir static Path shared;
  @TempDir Path dir;

  static RedisCluster cluster;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = new RedisCluster(Files.createDirectories(shared.resolve("cluster")), 3);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  // How long to wait for a state before giving up: a loaded machine only waits longer.
  private static final Duration WAIT = Duration.ofSeconds(30);

  static String route(TestUpstream up, String id, String plugin, String conf, String nodes) {
    return """
          - id: %s
            uri: /%s/*
            upstream:
              nodes:
                "%s": 1
            plugins:
              %s:
                %s
                rejected_code: 429
                policy: redis-cluster
                redis_cluster_nodes: %s
                redis_cluster_name: test-cluster
                redis_timeout: 500
        """
        .formatted(id, id, up.node(), plugin, conf.strip().replace("\n", "\n        "), nodes);
  }

  static String config(String... routes) {
    return "routes:\n" + String.join("", routes);
  }

  /** Every key matching {@code pattern}, by the node that holds it. */
  static Map<String, List<String>> keysByNode(String pattern) throws IOException {
    var out = new HashMap<String, List<String>>();
    for (var s : cluster.servers()) {
      var keys = s.call("KEYS", pattern);
      out.put(s.node(), keys == null || keys.isEmpty() ? List.of() : List.of(keys.split("\n")));
    }
    return out;
  }

  @Test
  void twoDataplanesShareOneCount() throws Exception {
    try (var up = new TestUpstream("up")) {
      var yaml =
          config(
              route(up, "count", "limit-count", "count: 4\ntime_window: 60", cluster.nodesYaml()));
      try (var a = Gateways.start(Files.createDirectories(dir.resolve("a")), yaml);
          var b = Gateways.start(Files.createDirectories(dir.resolve("b")), yaml)) {
        var codes = new ArrayList<Integer>();
        for (int i = 0; i < 3; i++) {
          codes.add(a.get("/count/x").statusCode());
          codes.add(b.get("/count/x").statusCode());
        }
        assertThat(codes).containsExactly(200, 200, 200, 200, 429, 429);
        assertThat(b.get("/count/x").headers().firstValue("x-ratelimit-remaining")).hasValue("0");
        // One counter, with its hash tag, on one node.
        var keys =
            keysByNode("archway:limit-count:{routes/count:*").values().stream()
                .flatMap(List::stream)
                .toList();
        assertThat(keys).hasSize(1);
        assertThat(keys.get(0)).startsWith("archway:limit-count:{routes/count:").endsWith("}");
      }
    }
  }

  @Test
  void countersOfDifferentKeysSpreadOverTheNodes() throws Exception {
    try (var up = new TestUpstream("up")) {
      var yaml =
          config(
              route(
                  up,
                  "spread",
                  "limit-count",
                  "count: 1\ntime_window: 60\nkey: http_x_user",
                  cluster.nodesYaml()));
      try (var gw = Gateways.start(dir, yaml)) {
        for (int i = 0; i < 30; i++) {
          assertThat(gw.get("/spread/x", "x-user", "user-" + i).statusCode()).isEqualTo(200);
          assertThat(gw.get("/spread/x", "x-user", "user-" + i).statusCode()).isEqualTo(429);
        }
        var byNode = keysByNode("archway:limit-count:{routes/spread:*");
        assertThat(byNode.values().stream().mapToInt(List::size).sum()).isEqualTo(30);
        // Thirty keys over three masters: more than one node holds some.
        assertThat(byNode.values().stream().filter(k -> !k.isEmpty()).count())
            .isGreaterThanOrEqualTo(2);
        var slots = new java.util.HashSet<String>();
        for (var e : byNode.entrySet()) {
          for (var k : e.getValue()) {
            var slot = cluster.servers().get(0).call("CLUSTER", "KEYSLOT", k);
            slots.add(slot);
            // The key's slot is the one of its hash tag, the whole counter id.
            var tag = k.substring(k.indexOf('{') + 1, k.indexOf('}'));
            assertThat(cluster.servers().get(0).call("CLUSTER", "KEYSLOT", tag)).isEqualTo(slot);
          }
        }
        assertThat(slots).hasSizeGreaterThan(1);
      }
    }
  }

  @Test
  void limitReqRefusesOverTheRateAcrossDataplanes() throws Exception {
    try (var up = new TestUpstream("up")) {
      var yaml =
          config(
              route(
                  up,
                  "req",
                  "limit-req",
                  "rate: 0.5\nburst: 1\nnodelay: true\nkey: remote_addr",
                  cluster.nodesYaml()));
      try (var a = Gateways.start(Files.createDirectories(dir.resolve("a")), yaml);
          var b = Gateways.start(Files.createDirectories(dir.resolve("b")), yaml)) {
        var codes = new ArrayList<Integer>();
        codes.add(a.get("/req/x").statusCode());
        codes.add(b.get("/req/x").statusCode());
        codes.add(a.get("/req/x").statusCode());
        codes.add(b.get("/req/x").statusCode());
        // One at the rate and one of burst between both pods; the rest are refused.
        assertThat(codes).containsExactly(200, 200, 429, 429);
      }
    }
  }

  @Test
  void limitConnCountsRequestsInFlightAcrossDataplanes() throws Exception {
    try (var up = new TestUpstream("up")) {
      var yaml =
          config(
              route(
                  up,
                  "delay",
                  "limit-conn",
                  "conn: 1\nburst: 0\ndefault_conn_delay: 0.1\nkey: remote_addr",
                  cluster.nodesYaml()));
      try (var a = Gateways.start(Files.createDirectories(dir.resolve("a")), yaml);
          var b = Gateways.start(Files.createDirectories(dir.resolve("b")), yaml)) {
        // Each pod's link to the cluster is up (a first script on a cold link may time out on a
        // loaded machine), and every slot those first requests took is back.
        for (var pod : List.of(a, b)) {
          await().atMost(WAIT).until(() -> pod.get("/delay/0").statusCode() == 200);
        }
        var pattern = "archway:limit-conn:{routes/delay:*";
        await()
            .atMost(WAIT)
            .until(() -> keysByNode(pattern).values().stream().allMatch(List::isEmpty));
        // A request the upstream holds until released takes the only slot, through pod a.
        var held =
            a.client()
                .sendAsync(
                    HttpRequest.newBuilder(URI.create(a.url("/delay/hold"))).build(),
                    HttpResponse.BodyHandlers.ofString());
        await()
            .atMost(WAIT)
            .until(() -> held.isDone() || "GET /delay/hold".equals(up.lastRequest()));
        assertThat(held).as("the held request went upstream (was not answered)").isNotDone();
        // The slot pod a holds is counted in the cluster...
        var keys = keysByNode(pattern);
        var holder =
            keys.entrySet().stream().filter(e -> !e.getValue().isEmpty()).findFirst().orElseThrow();
        var server =
            cluster.servers().stream()
                .filter(s -> s.node().equals(holder.getKey()))
                .findFirst()
                .orElseThrow();
        assertThat(server.call("GET", holder.getValue().get(0))).isEqualTo("1");
        // ...so pod b finds none free.
        assertThat(b.get("/delay/0").statusCode()).isEqualTo(429);
        up.release();
        assertThat(held.get().statusCode()).isEqualTo(200);
        // Given back when the request ends (asynchronously): the key goes, and pod b gets it.
        await()
            .atMost(WAIT)
            .until(() -> server.call("EXISTS", holder.getValue().get(0)).equals("0"));
        assertThat(b.get("/delay/0").statusCode()).isEqualTo(200);
      }
    }
  }

  /** Clients connected to the cluster's nodes, besides the one asking. */
  static int clients() throws IOException {
    int n = 0;
    for (var s : cluster.servers()) {
      var info = s.call("INFO", "clients");
      var m = java.util.regex.Pattern.compile("connected_clients:(\\d+)").matcher(info);
      n += m.find() ? Integer.parseInt(m.group(1)) - 1 : 0;
    }
    return n;
  }

  @Test
  void theClientIsClosedOnceNoRouteNamesTheCluster() throws Exception {
    try (var up = new TestUpstream("up")) {
      int before = clients();
      var yaml =
          config(
              route(
                  up, "closing", "limit-count", "count: 5\ntime_window: 60", cluster.nodesYaml()));
      try (var gw = Gateways.start(dir, yaml)) {
        assertThat(gw.get("/closing/x").statusCode()).isEqualTo(200);
        assertThat(clients()).isGreaterThan(before);
        gw.reload(
            """
            routes:
              - id: closing
                uri: /closing/*
                upstream:
                  nodes:
                    "%s": 1
            """
                .formatted(up.node()));
        assertThat(gw.get("/closing/x").statusCode()).isEqualTo(200);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> {
                  System.gc();
                  return clients() == before;
                });
      }
    }
  }

  @Test
  void clusterOutOfReachAnswers500UnlessDegradationIsAllowed() throws Exception {
    var dead = List.of("127.0.0.1:" + Ports.free(), "127.0.0.1:" + Ports.free());
    var deadYaml = dead.stream().map(n -> "\"" + n + "\"").toList().toString();
    try (var up = new TestUpstream("up");
        var strict =
            Gateways.start(
                Files.createDirectories(dir.resolve("a")),
                config(route(up, "r", "limit-count", "count: 5\ntime_window: 60", deadYaml)));
        var lenient =
            Gateways.start(
                Files.createDirectories(dir.resolve("b")),
                config(
                    route(
                        up,
                        "r",
                        "limit-count",
                        "count: 5\ntime_window: 60\nallow_degradation: true",
                        deadYaml)))) {
      assertThat(strict.get("/r/x").statusCode()).isEqualTo(500);
      assertThat(lenient.get("/r/x").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void clusterLostAfterUseAnswers500UnlessDegradationIsAllowed() throws Exception {
    RedisServer.assumeInstalled();
    try (var own = new RedisCluster(Files.createDirectories(dir.resolve("own")), 3);
        var up = new TestUpstream("up")) {
      var yaml =
          config(
              route(
                  up,
                  "strict",
                  "limit-req",
                  "rate: 100\nburst: 100\nkey: remote_addr",
                  own.nodesYaml()),
              route(
                  up,
                  "lenient",
                  "limit-conn",
                  "conn: 5\nburst: 0\ndefault_conn_delay: 0.1\nkey: remote_addr\n"
                      + "allow_degradation: true",
                  own.nodesYaml()));
      try (var gw = Gateways.start(Files.createDirectories(dir.resolve("gw")), yaml)) {
        assertThat(gw.get("/strict/x").statusCode()).isEqualTo(200);
        assertThat(gw.get("/lenient/x").statusCode()).isEqualTo(200);
        own.close();
        assertThat(gw.get("/strict/x").statusCode()).isEqualTo(500);
        assertThat(gw.get("/lenient/x").statusCode()).isEqualTo(200);
      }
    }
  }
}
