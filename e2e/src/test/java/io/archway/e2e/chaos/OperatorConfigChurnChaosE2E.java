package io.archway.e2e.chaos;

import static io.archway.e2e.chaos.OperatorResources.pluginConfig;
import static io.archway.e2e.chaos.OperatorResources.route;
import static io.archway.e2e.chaos.OperatorResources.service;
import static io.archway.e2e.chaos.OperatorResources.upstream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Backends.HttpEcho;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 1, config churn through the whole control plane (docs/chaos.md): the resources
 * change on the API server, the operator's jar (a process) reconciles them into a real etcd, and
 * the dataplane's jar serves from it under a steady load (keep-alive and new connections) on real
 * HTTP backends. fabric8's mock Kubernetes API server in CRUD mode stands in for the API server (no
 * real one can run here). One stack for both tests (it takes a while to start).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorConfigChurnChaosE2E {

  private static final Duration EVERY = Duration.ofMillis(100);

  /** How many ApisixRoutes the full re-apply writes at once (as a GitOps tool's workers). */
  private static final int APPLIERS = 8;

  @TempDir static Path dir;

  OperatorStack stack;
  HttpEcho a;
  HttpEcho b;

  @BeforeAll
  void start() throws Exception {
    a = new HttpEcho("a");
    b = new HttpEcho("b");
    stack = OperatorStack.start(dir);
    service(stack, "svc-a", a.port());
    stack.startOperator("a", List.of());
  }

  @AfterAll
  void stop() {
    if (stack != null) {
      stack.close();
    }
    a.close();
    b.close();
  }

  /**
   * Every 100 ms one of these changes, in turn: the ApisixRoute (a request header), its Service
   * (the port, so that its node swaps between the two backends), the Service's ApisixUpstream
   * (retries and a timeout) and the route's ApisixPluginConfig (a response header, {@code cors}
   * added and removed). No request may fail, and at the end etcd holds exactly what the last
   * version of each translates to, the dataplane serves it, and every status caught up.
   */
  @Test
  @Order(1)
  void aRouteItsServiceItsUpstreamAndItsPluginConfigChangingEvery100MillisecondsFailNoRequest()
      throws Exception {
    service(stack, "churn", a.port());
    upstream(stack, "churn", 0);
    pluginConfig(stack, "churn", 0);
    route(stack, "churn", "/churn", "churn", 0, "churn");
    await()
        .atMost(OperatorStack.WAIT)
        .ignoreExceptions()
        .until(() -> stack.get("/churn/x").headers().firstValue("X-Plugin-Version").isPresent());
    OperatorResources.awaitConverged(
        stack, OperatorStack.WAIT, OperatorResources.WITH_PLUGIN_CONFIGS);

    long seconds = EtcdDataplane.seconds();
    int routeVersion = 0;
    int pluginVersion = 0;
    int retries = 0;
    boolean onA = true;
    int changes = 0;
    // One writer per resource, so that a slow update of one (the API server, the operator putting
    // its finalizer back: a conflict, sent again) does not hold back the others' cadence, while
    // each resource's versions land in order.
    var writers = new ArrayList<java.util.concurrent.ExecutorService>();
    for (int w = 0; w < 4; w++) {
      writers.add(Executors.newSingleThreadExecutor());
    }
    var writes = new ArrayList<Future<?>>();
    var load = stack.load("/churn/x", List.of("a", "b")).start();
    Load.Result result;
    Duration converged;
    try {
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(seconds);
      for (int i = 1; System.nanoTime() < end; i++) {
        Runnable change;
        switch (i % 4) {
          case 0 -> {
            int v = ++routeVersion;
            change = () -> route(stack, "churn", "/churn", "churn", v, "churn");
          }
          case 1 -> {
            onA = !onA;
            int port = (onA ? a : b).port();
            change = () -> service(stack, "churn", port);
          }
          case 2 -> {
            int r = ++retries % 3;
            change = () -> upstream(stack, "churn", r);
          }
          default -> {
            int v = ++pluginVersion;
            change = () -> pluginConfig(stack, "churn", v);
          }
        }
        writes.add(writers.get(i % 4).submit(change));
        changes++;
        long wait = start + i * EVERY.toNanos() - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
      }
      for (var w : writes) {
        w.get(2, TimeUnit.MINUTES);
      }
      long last = System.nanoTime();
      OperatorResources.awaitConverged(
          stack, OperatorStack.WAIT, OperatorResources.WITH_PLUGIN_CONFIGS);
      var backend = onA ? "a" : "b";
      var lastRoute = "" + routeVersion;
      var lastPlugin = "" + pluginVersion;
      boolean cors = pluginVersion % 2 == 1;
      await()
          .atMost(OperatorStack.WAIT)
          .untilAsserted(
              () -> {
                var r = stack.get("/churn/x");
                assertThat(r.body())
                    .contains("\"backend\":\"" + backend + "\"")
                    .contains("\"x-version\":[\"" + lastRoute + "\"]");
                assertThat(r.headers().firstValue("X-Plugin-Version")).contains(lastPlugin);
                assertThat(r.headers().firstValue("Access-Control-Allow-Origin").isPresent())
                    .as("cors in the last plugin config")
                    .isEqualTo(cors);
              });
      converged = Duration.ofNanos(System.nanoTime() - last);
    } finally {
      result = load.stop();
      writers.forEach(java.util.concurrent.ExecutorService::shutdownNow);
    }
    var label =
        "config churn through the operator: ApisixRoute, Service, ApisixUpstream,"
            + " ApisixPluginConfig every 100 ms ("
            + changes
            + " changes)";
    ChaosReport.add(label, seconds, result, converged);
    System.out.printf(
        "%s: %s; converged %d ms after the last%n", label, result, converged.toMillis());

    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).as("requests sent").isGreaterThan(seconds * 20);
    assertThat(a.seen()).as("backend a reached").isNotEmpty();
    assertThat(b.seen()).as("backend b reached").isNotEmpty();
  }

  /**
   * N ApisixRoutes ({@code archway.chaos.routes}) are applied at once while the load runs on a
   * route already served; then all of them are applied again (as a GitOps tool re-applying its
   * whole tree), one in ten changed, under load on a route that stays and one that changes. No
   * request fails; the re-apply puts exactly the changed keys into etcd (an unchanged value is
   * never written again) and deletes none; the time until every route is Programmed, caught up and
   * served is measured for both.
   */
  @Test
  @Order(2)
  void aFullApplyAndReApplyOfEveryRouteFailNoRequestAndRewriteNoUnchangedValue() throws Exception {
    int routes = EtcdDataplane.routes();
    route(stack, "served", "/served", "svc-a", 0);
    await()
        .atMost(OperatorStack.WAIT)
        .ignoreExceptions()
        .until(() -> stack.get("/served/x").statusCode() == 200);

    // The first apply, under load on a route already served.
    var load = stack.load("/served/x").start();
    Load.Result applyResult;
    Duration applied;
    long applyStart = System.nanoTime();
    try {
      applyAll(routes, n -> route(stack, "r-" + n, "/r/" + n, "svc-a", 0));
      OperatorResources.awaitConverged(
          stack, Duration.ofMinutes(10), OperatorResources.WITH_PLUGIN_CONFIGS);
      awaitServed(routes, n -> 0);
      applied = Duration.ofNanos(System.nanoTime() - applyStart);
    } finally {
      applyResult = load.stop();
    }
    long applySeconds = Math.max(1, Math.round(applied.toMillis() / 1000.0));
    ChaosReport.add(
        "config churn through the operator: " + routes + " ApisixRoutes applied at once",
        applySeconds,
        applyResult,
        applied);

    // The re-apply: every route again, one in ten changed.
    var before = stack.etcdContent();
    long revision = stack.revision();
    var steady = stack.load("/r/1/x").start();
    var changing = stack.load("/r/0/x").start();
    Load.Result steadyResult;
    Load.Result changingResult;
    Duration reapplied;
    long reapplyStart = System.nanoTime();
    try {
      applyAll(routes, n -> route(stack, "r-" + n, "/r/" + n, "svc-a", n % 10 == 0 ? 1 : 0));
      OperatorResources.awaitConverged(
          stack, Duration.ofMinutes(10), OperatorResources.WITH_PLUGIN_CONFIGS);
      awaitServed(routes, n -> n % 10 == 0 ? 1 : 0);
      reapplied = Duration.ofNanos(System.nanoTime() - reapplyStart);
    } finally {
      steadyResult = steady.stop();
      changingResult = changing.stop();
    }
    var history = stack.history(revision);
    var puts = new TreeMap<String, Integer>();
    var deletes = new TreeMap<String, Integer>();
    for (var e : history) {
      (e.type().equals("PUT") ? puts : deletes).merge(e.key(), 1, Integer::sum);
    }
    int changed = (routes + 9) / 10;
    long reapplySeconds = Math.max(1, Math.round(reapplied.toMillis() / 1000.0));
    var label =
        "config churn through the operator: full re-apply of "
            + routes
            + " ApisixRoutes, "
            + changed
            + " changed ("
            + puts.values().stream().mapToInt(Integer::intValue).sum()
            + " etcd puts, "
            + deletes.size()
            + " deletes)";
    ChaosReport.add(label + ", unchanged route", reapplySeconds, steadyResult, reapplied);
    ChaosReport.add(label + ", changed route", reapplySeconds, changingResult, reapplied);
    System.out.printf(
        "%d routes applied in %d ms: %s%nre-applied in %d ms: %s%n unchanged: %s%n changed: %s%n",
        routes,
        applied.toMillis(),
        applyResult,
        reapplied.toMillis(),
        label,
        steadyResult,
        changingResult);

    assertThat(applyResult.failed()).as("failed requests: %s", applyResult).isZero();
    assertThat(steadyResult.failed()).as("failed requests: %s", steadyResult).isZero();
    assertThat(changingResult.failed()).as("failed requests: %s", changingResult).isZero();
    assertThat(deletes).as("deletes").isEmpty();
    var expectedPuts = new TreeMap<String, Integer>();
    for (int n = 0; n < routes; n += 10) {
      expectedPuts.put("routes/ar_default_r-" + n + "_main", 1);
    }
    assertThat(puts).as("puts (each changed key once, no other)").isEqualTo(expectedPuts);
    var after = stack.etcdContent();
    assertThat(after.keySet()).isEqualTo(before.keySet());
  }

  /** Applies ApisixRoute {@code 0 .. n-1} with {@link #APPLIERS} at once. */
  private static void applyAll(int n, IntConsumer apply) throws Exception {
    var pool = Executors.newFixedThreadPool(APPLIERS);
    try {
      var done = new ArrayList<Future<?>>();
      for (int i = 0; i < n; i++) {
        int k = i;
        done.add(pool.submit(() -> apply.accept(k)));
      }
      for (var f : done) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Waits until every route {@code r-N} is served in its version (each asked until it is). */
  private void awaitServed(int routes, java.util.function.IntUnaryOperator version) {
    var waiting = new java.util.TreeSet<Integer>();
    for (int i = 0; i < routes; i++) {
      waiting.add(i);
    }
    await()
        .atMost(OperatorStack.WAIT)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              for (var it = waiting.iterator(); it.hasNext(); ) {
                int n = it.next();
                try {
                  if (stack
                      .get("/r/" + n + "/x")
                      .body()
                      .contains("\"x-version\":[\"" + version.applyAsInt(n) + "\"]")) {
                    it.remove();
                  }
                } catch (java.io.IOException e) {
                  // Asked again on the next round.
                }
              }
              return waiting.isEmpty();
            });
  }
}
