package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Backends.HttpEcho;
import io.archway.model.testing.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
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

  /** Stops what it started; the dataplane's log stays in target/ (etcd-outage-TEST.log). */
  @AfterEach
  void stop(TestInfo info) throws Exception {
    if (stack != null) {
      stack.close();
      Files.copy(
          stack.log(),
          Path.of("target", "etcd-outage-" + info.getTestMethod().orElseThrow().getName() + ".log"),
          StandardCopyOption.REPLACE_EXISTING);
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

  /**
   * The dataplane, reaching each member through a proxy the test can cut (so that it is cut off
   * while etcd is up); the test writes to the members straight.
   */
  private void startBehindProxies() throws Exception {
    var endpoints = new ArrayList<String>();
    for (int i = 0; i < EtcdCluster.SIZE; i++) {
      var proxy = new TcpProxy(cluster.clientPort(i));
      proxies.add(proxy);
      endpoints.add(proxy.endpoint());
    }
    stack = ClusterDataplane.start(dir, endpoints, cluster.endpoints());
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long wait = nanoTime - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  private long logLines() throws Exception {
    try (var lines = Files.lines(stack.log())) {
      return lines.count();
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
    long outageLogLines;
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
      long logged = logLines();
      awaitReadyButDisconnected();
      sleepUntil(start + 3 * third);
      outageLogLines = logLines() - logged;

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
    // No hot reconnect loop: with every member down, the source retries with a backoff (up to 2
    // s apart) and logs the loss once; jetcd logs each retry in two lines. 10 lines a second of
    // outage is several times that; a loop without a backoff writes thousands.
    assertThat(outageLogLines)
        .as("dataplane log lines while etcd was down")
        .isLessThan(10 * third / 1_000_000_000L + 20);
  }

  @Test
  void aCompactionPastTheDataplanesRevisionWhileItIsCutOffIsReadAgainWholeAndExact()
      throws Exception {
    startBehindProxies();
    stack.put("upstreams/u", upstream());
    stack.put("routes/load", route("/etcd/*", 0));
    int kept = 20;
    for (int i = 0; i < kept; i++) {
      stack.put("routes/c" + i, route("/c/" + i, 0));
      stack.put("routes/d" + i, route("/d/" + i, 0));
    }
    awaitServed("/d/" + (kept - 1), 0);

    long seconds = EtcdDataplane.seconds();
    Duration recovery;
    int rounds = 0;
    int created = 0;
    long compactedAt;
    var load = load("/etcd/x").start();
    Load.Result result;
    try {
      proxies.forEach(TcpProxy::cut);
      awaitReadyButDisconnected();
      // While the dataplane cannot see etcd: many revisions (new routes, every c route rewritten
      // each round), the d routes deleted, then a compaction past all of them.
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      do {
        rounds++;
        for (int k = 0; k < 5; k++, created++) {
          stack.put("routes/n" + created, route("/n/" + created, rounds));
        }
        for (int i = 0; i < kept; i++) {
          stack.put("routes/c" + i, route("/c/" + i, rounds));
        }
        TimeUnit.MILLISECONDS.sleep(50);
      } while (System.nanoTime() < end);
      for (int i = 0; i < kept; i++) {
        stack.delete("routes/d" + i);
      }
      compactedAt = stack.revision();
      stack.compact(compactedAt);

      proxies.forEach(TcpProxy::restore);
      long back = System.nanoTime();
      int last = rounds;
      await()
          .atMost(EtcdDataplane.WAIT)
          .ignoreExceptions()
          .until(() -> served("/c/" + (kept - 1), last) && stack.get("/d/0").statusCode() == 404);
      recovery = since(back);
    } finally {
      result = load.stop();
    }
    ChaosReport.add(
        "etcd outage: cut off, " + (rounds * (kept + 5) + kept) + " revisions, compacted past them",
        seconds,
        result,
        recovery);

    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).as("requests sent").isGreaterThan(seconds * 50);
    // Nothing lost, nothing stale: every route written is served in its last version, every
    // deleted one is gone, and it took one full read.
    for (int i = 0; i < created; i++) {
      assertThat(served("/n/" + i, i / 5 + 1)).as("/n/%s served", i).isTrue();
    }
    for (int i = 0; i < kept; i++) {
      assertThat(served("/c/" + i, rounds)).as("/c/%s in its last version", i).isTrue();
      assertThat(stack.get("/d/" + i).statusCode()).as("/d/%s deleted", i).isEqualTo(404);
    }
    assertThat(stack.metric("archway_config_full_loads_total")).isEqualTo(2);
    assertThat(stack.metric("archway_config_revision")).isGreaterThanOrEqualTo(compactedAt);
    awaitConnected();
  }

  private static final int SNAPSHOT_ROUTES = 10;

  /**
   * What changes after the snapshot: half the s routes changed (version 2), the other half deleted,
   * new routes created; returns once the dataplane serves it.
   */
  private void changeAfterSnapshot() throws Exception {
    int n = SNAPSHOT_ROUTES;
    for (int i = 0; i < n; i++) {
      if (i < n / 2) {
        stack.put("routes/s" + i, route("/s/" + i, 2));
      } else {
        stack.delete("routes/s" + i);
      }
      stack.put("routes/after" + i, route("/after/" + i, 2));
    }
    awaitServed("/after/" + (n - 1), 2);
    assertThat(stack.get("/s/" + (n - 1)).statusCode()).isEqualTo(404);
  }

  /** Whether the dataplane serves the snapshot's routes exactly (and {@code more} new ones). */
  private boolean servesTheSnapshot(int more) throws Exception {
    for (int i = 0; i < SNAPSHOT_ROUTES; i++) {
      if (!served("/s/" + i, 1) || stack.get("/after/" + i).statusCode() != 404) {
        return false;
      }
    }
    for (int i = 0; i < more; i++) {
      if (!served("/re/" + i, 1)) {
        return false;
      }
    }
    return true;
  }

  @Test
  void aRestoreFromAnEarlierSnapshotIsDetectedAndServedExactlyEvenOnceWrittenPast()
      throws Exception {
    startBehindProxies();
    stack.put("upstreams/u", upstream());
    stack.put("routes/load", route("/etcd/*", 0));
    for (int i = 0; i < SNAPSHOT_ROUTES; i++) {
      stack.put("routes/s" + i, route("/s/" + i, 1));
    }
    awaitServed("/s/" + (SNAPSHOT_ROUTES - 1), 1);
    var snapshot = cluster.snapshot(cluster.leader());
    changeAfterSnapshot();

    // 1. Every member killed for the fault, then the cluster restored from the snapshot: its
    // revision went back.
    long seconds = EtcdDataplane.seconds();
    Duration recovery;
    var load = load("/etcd/x").start();
    Load.Result result;
    try {
      long start = System.nanoTime();
      cluster.killAll();
      awaitReadyButDisconnected();
      sleepUntil(start + TimeUnit.SECONDS.toNanos(seconds));
      cluster.restore(snapshot);
      long back = System.nanoTime();
      await().atMost(EtcdDataplane.WAIT).ignoreExceptions().until(() -> servesTheSnapshot(0));
      recovery = since(back);
    } finally {
      result = load.stop();
    }
    ChaosReport.add(
        "etcd outage: all 3 killed, restored from an earlier snapshot", seconds, result, recovery);
    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).as("requests sent").isGreaterThan(seconds * 50);
    assertThat(stack.metric("archway_config_full_loads_total")).isEqualTo(2);
    awaitConnected();

    // 2. The same restore while the dataplane is cut off, and etcd written past the dataplane's
    // revision (an operator re-applying its objects) before the dataplane sees it again: the
    // revision alone no longer tells that etcd went back.
    changeAfterSnapshot();
    long followed = stack.metric("archway_config_revision");
    int written = 0;
    load = load("/etcd/x").start();
    long start = System.nanoTime();
    try {
      proxies.forEach(TcpProxy::cut);
      awaitReadyButDisconnected();
      cluster.restore(snapshot);
      do {
        putEventually("routes/re" + written, route("/re/" + written, 1));
        written++;
      } while (stack.revision() <= followed);
      proxies.forEach(TcpProxy::restore);
      long back = System.nanoTime();
      int more = written;
      await().atMost(EtcdDataplane.WAIT).ignoreExceptions().until(() -> servesTheSnapshot(more));
      recovery = since(back);
    } finally {
      result = load.stop();
    }
    long cutFor = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start - recovery.toNanos());
    ChaosReport.add(
        "etcd outage: cut off, restored from the snapshot, written past the dataplane",
        cutFor,
        result,
        recovery);
    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(stack.metric("archway_config_full_loads_total")).isEqualTo(3);
    awaitConnected();
    // And it watches the restored etcd: a change written now is served.
    putEventually("routes/s0", route("/s/0", 3));
    awaitServed("/s/0", 3);
  }
}
