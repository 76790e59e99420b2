package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Backends.HttpEcho;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 4, dataplane crash (docs/chaos.md): two dataplane processes on one real etcd,
 * behind a Service modelled by {@link ServiceLoad} (requests only to dataplanes whose {@code
 * /readyz} says ready). Under that load, one is killed with {@code kill -9} and started again (a
 * container restart: same ports), then the other, for the duration. The survivor serves throughout;
 * the restarted one says ready only once its first complete snapshot is compiled: from the first
 * 200 of {@code /readyz}, polled tightly from the process's start, every one of the routes is
 * served.
 *
 * <p>The one failure window a {@code kill -9} has in Kubernetes too: requests in flight on the
 * killed process at that moment. They are counted apart and bounded: at most one per virtual client
 * (each has at most one request in flight), so at most {@code clients} per kill. Every other
 * request (before, during, after the kill and the restart) must succeed: the client's endpoint
 * removal delay is that of {@link ServiceLoad} (at most 600 ms), and a connection refused in that
 * window goes to the other dataplane, as nothing was sent.
 */
class DataplaneCrashChaosE2E {

  private static final int CLIENTS = 8;

  // Kept when the test fails: the dataplanes' logs are in it.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  Dataplanes planes;
  HttpEcho backend;

  @BeforeEach
  void start() throws Exception {
    backend = new HttpEcho("b");
    planes = new Dataplanes(dir);
  }

  @AfterEach
  void stop() {
    if (planes != null) {
      planes.close();
    }
    backend.close();
  }

  @Test
  void killingOneOfTwoDataplanesFailsOnlyItsRequestsInFlightAndTheRestartIsReadyWithItsConfig()
      throws Exception {
    int routes = EtcdDataplane.routes();
    planes.put(
        "upstreams/all",
        "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:" + backend.port() + "\":1}}");
    var keys = new LinkedHashMap<String, String>();
    for (int i = 0; i < routes; i++) {
      keys.put("routes/r" + i, "{\"uri\":\"/r/" + i + "\",\"upstream_id\":\"all\"}");
    }
    planes.putAll(keys, 64);
    var a = planes.node("a").start();
    var b = planes.node("b").start();
    a.awaitReady();
    b.awaitReady();
    a.warmUp("/r/" + routes / 2);
    b.warmUp("/r/" + routes / 2);

    var service =
        new ServiceLoad(
            "/r/" + routes / 2, CLIENTS, Duration.ofMillis(5), body -> body.contains("\"b\""));
    var ea = service.add("a", a.httpPort, a.statusPort);
    var eb = service.add("b", b.httpPort, b.statusPort);
    service.start();
    await().atMost(EtcdDataplane.WAIT).until(() -> service.serving(ea) && service.serving(eb));

    long seconds = EtcdDataplane.seconds();
    var restarts = new ArrayList<Duration>();
    var unservedAtReady = new ConcurrentLinkedQueue<String>();
    int kills = 0;
    ServiceLoad.Result result;
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      do {
        var node = kills % 2 == 0 ? a : b;
        var endpoint = kills % 2 == 0 ? ea : eb;
        var other = kills % 2 == 0 ? eb : ea;
        long servedBefore = other.served.get();
        service.kill(endpoint, node::kill);
        kills++;
        // Restarted at once on the same ports; /readyz polled tightly from the start.
        long restart = System.nanoTime();
        node.start();
        while (node.readyz() != 200) {
          assertThat(node.process().isAlive()).as("%s restarted", node).isTrue();
          assertThat(System.nanoTime() - restart)
              .as("%s ready in time", node)
              .isLessThan(Dataplanes.READY.toNanos());
          Thread.sleep(2);
        }
        restarts.add(Duration.ofNanos(System.nanoTime() - restart));
        unservedAtReady.addAll(unserved(node, routes));
        await().atMost(EtcdDataplane.WAIT).until(() -> service.serving(endpoint));
        assertThat(other.served.get()).as("%s served meanwhile", other).isGreaterThan(servedBefore);
        Thread.sleep(500);
      } while (System.nanoTime() < end);
    } finally {
      result = service.stop();
    }
    var load = result.load();
    ChaosReport.add(
        "dataplane crash: kill -9 one of two, "
            + kills
            + " kill(s), restart with "
            + routes
            + " routes (in flight at the kill, unavoidable: "
            + result.unavoidable()
            + ", bound "
            + CLIENTS
            + " a kill)",
        seconds,
        load,
        restarts.stream().max(Duration::compareTo).orElse(null));

    assertThat(load.failed()).as("failed requests: %s", load).isZero();
    assertThat(result.unavoidable())
        .as("failures of requests in flight at the kills (at most one a client a kill)")
        .isLessThanOrEqualTo((long) CLIENTS * kills);
    assertThat(unservedAtReady).as("routes not served when /readyz first said 200").isEmpty();
    assertThat(ea.served.get()).isPositive();
    assertThat(eb.served.get()).isPositive();
  }

  /** Every route GET on the node at once (8 at a time): those not answered 200 by the backend. */
  private static List<String> unserved(Dataplanes.Node node, int routes) throws Exception {
    var pool = Executors.newFixedThreadPool(8);
    try {
      var checks = new ArrayList<Future<String>>();
      IntStream.range(0, routes)
          .forEach(
              i ->
                  checks.add(
                      pool.submit(
                          () -> {
                            int status = node.get("/r/" + i);
                            return status == 200 ? null : "/r/" + i + ": " + status;
                          })));
      var bad = new ArrayList<String>();
      for (var c : checks) {
        var r = c.get(60, TimeUnit.SECONDS);
        if (r != null) {
          bad.add(r);
        }
      }
      return bad;
    } finally {
      pool.shutdownNow();
    }
  }
}
