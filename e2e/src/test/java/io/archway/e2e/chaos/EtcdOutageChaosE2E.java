package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Backends.HttpEcho;
import io.archway.model.testing.TcpProxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 3, etcd outage (docs/chaos.md): a real etcd cluster of three members ({@link
 * EtcdCluster}) loses members, all of them, its history (a compaction) and its present (a restore
 * from a snapshot), under a steady load on a route of the dataplane's jar ({@link
 * ClusterDataplane}, given all three endpoints). Not one request may fail: the dataplane serves its
 * last config while etcd is away, and afterwards it serves exactly what etcd holds.
 */
class EtcdOutageChaosE2E {

  @TempDir Path dir;

  HttpEcho a;
  EtcdCluster cluster;
  ClusterDataplane stack;
  final List<TcpProxy> proxies = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    a = new HttpEcho("a");
    cluster = new EtcdCluster().start();
  }

  @AfterEach
  void stop() {
    if (stack != null) {
      stack.close();
    }
    proxies.forEach(TcpProxy::close);
    cluster.close();
    a.close();
  }

  /** The load of every scenario here: 8 clients, half on keep-alive connections, 5 ms apart. */
  private Load load(String path) {
    return new Load(
        stack.uri(path),
        8,
        Duration.ofMillis(5),
        Duration.ofSeconds(5),
        (status, body) -> body.contains("\"backend\":\"a\"") ? null : "not an answer of backend a");
  }

  private String upstream() {
    return "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:" + a.port() + "\":1}}";
  }

  /** A route on {@code uri} whose version the backend sees as the request header X-V. */
  private static String route(String uri, int version) {
    return "{\"uri\":\""
        + uri
        + "\",\"upstream_id\":\"u\",\"plugins\":{\"proxy-rewrite\":{\"headers\":{\"set\":"
        + "{\"X-V\":\""
        + version
        + "\"}}}}}";
  }

  /** Whether {@code path} is served by this version of its route now. */
  private boolean served(String path, int version) throws Exception {
    var r = stack.get(path);
    return r.statusCode() == 200 && r.body().contains("\"x-v\":[\"" + version + "\"]");
  }

  private void awaitServed(String path, int version) {
    await().atMost(EtcdDataplane.WAIT).ignoreExceptions().until(() -> served(path, version));
  }

  /** Writes, retrying while etcd is still electing a leader or the client reconnecting. */
  private void putEventually(String key, String json) {
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              stack.put(key, json);
              return true;
            });
  }

  /** /readyz: still 200 (the last config serves), and it says etcd does not answer. */
  private void awaitReadyButDisconnected() {
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              var r = stack.status("/readyz");
              return r.statusCode() == 200
                  && r.body().contains("\"connected\" : false")
                  && r.body().contains("last_error")
                  && stack.metric("archway_config_source_connected") == 0;
            });
  }

  private void awaitConnected() throws Exception {
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(() -> stack.metric("archway_config_source_connected") == 1);
    assertThat(stack.status("/readyz").statusCode()).isEqualTo(200);
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long wait = nanoTime - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  private static Duration since(long nanoTime) {
    return Duration.ofNanos(System.nanoTime() - nanoTime);
  }

  @Test
  void aMemberThenTheLeaderThenAllKilledFailNoRequestAndAChangeAfterwardsIsServed()
      throws Exception {
    stack = ClusterDataplane.start(dir, cluster.endpoints(), cluster.endpoints());
    stack.put("upstreams/u", upstream());
    stack.put("routes/load", route("/etcd/*", 0));
    awaitServed("/etcd/x", 0);

    long seconds = EtcdDataplane.seconds();
    long third = TimeUnit.SECONDS.toNanos(seconds) / 3;
    Duration recovery;
    var load = load("/etcd/x").start();
    Load.Result result;
    try {
      long start = System.nanoTime();
      int leader = cluster.leader();
      cluster.kill((leader + 1) % EtcdCluster.SIZE);
      // Two of three still make a quorum: a change is written and served.
      putEventually("routes/load", route("/etcd/*", 1));
      awaitServed("/etcd/x", 1);
      sleepUntil(start + third);
      cluster.kill(cluster.leader());
      sleepUntil(start + 2 * third);
      cluster.killAll();
      awaitReadyButDisconnected();
      sleepUntil(start + 3 * third);

      cluster.start();
      long back = System.nanoTime();
      putEventually("routes/load", route("/etcd/*", 2));
      awaitServed("/etcd/x", 2);
      recovery = since(back);
    } finally {
      result = load.stop();
    }
    ChaosReport.add(
        "etcd outage: a member, the leader, then all 3 killed", seconds, result, recovery);

    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).as("requests sent").isGreaterThan(seconds * 50);
    awaitConnected();
    // The watch resumed where it was: nothing was compacted, so nothing was read again.
    assertThat(stack.metric("archway_config_full_loads_total")).isEqualTo(1);
  }
}
