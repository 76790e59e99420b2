package io.archway.e2e.chaos;

import static io.archway.e2e.chaos.OperatorResources.deleteRoute;
import static io.archway.e2e.chaos.OperatorResources.forceDeleteRoute;
import static io.archway.e2e.chaos.OperatorResources.route;
import static io.archway.e2e.chaos.OperatorResources.service;
import static io.archway.e2e.chaos.OperatorResources.upstream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.crds.apisix.ApisixUpstream;
import io.archway.e2e.Backends.HttpEcho;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 6, the operator down while resources change (docs/chaos.md): the operator's jar is
 * stopped, ApisixRoutes and ApisixUpstreams are changed, added and deleted (some deleted with their
 * finalizer taken off, so that only the start-up resync can find their keys), and after the
 * downtime the operator starts again. Its resync writes what changed and deletes only the keys of
 * deleted resources: etcd's events on the prefix show no DELETE of a key that stays and no PUT of
 * an unchanged value, and traffic on the unchanged routes sees no failure throughout. A real etcd,
 * the dataplane's jar fed from it, a real HTTP backend; fabric8's mock Kubernetes API server in
 * CRUD mode stands in for the API server (no real one can run here).
 */
class OperatorDownChaosE2E {

  /**
   * How long the operator stays down: {@code -Darchway.chaos.operator.down=SECONDS}; 5 minutes in
   * the full pass (whose fault time is 60 s and more), else the short pass's fault time.
   */
  static long downSeconds() {
    long fault = EtcdDataplane.seconds();
    return Long.getLong("archway.chaos.operator.down", fault >= 60 ? 300 : fault);
  }

  private static final int ROUTES = 60;
  private static final int SERVICES = 4;

  @TempDir Path dir;

  OperatorStack stack;
  HttpEcho backend;

  @BeforeEach
  void start() throws Exception {
    backend = new HttpEcho("a");
    stack = OperatorStack.start(dir);
  }

  @AfterEach
  void stop() {
    if (stack != null) {
      stack.close();
    }
    backend.close();
  }

  @Test
  void aRestartAfterChangesWritesWhatChangedAndDeletesOnlyWhatWent() throws Exception {
    for (int s = 0; s < SERVICES; s++) {
      service(stack, "svc-" + s, backend.port());
      upstream(stack, "svc-" + s, 1);
    }
    for (int i = 0; i < ROUTES; i++) {
      route(stack, "r-" + i, "/r/" + i, "svc-" + i % SERVICES, 0);
    }
    stack.startOperator("a", List.of());
    await()
        .atMost(OperatorStack.WAIT)
        .ignoreExceptions()
        .until(
            () ->
                stack.get("/r/0/x").statusCode() == 200
                    && stack.get("/r/" + (ROUTES - 1) + "/x").statusCode() == 200);
    var before = OperatorResources.awaitConverged(stack, OperatorStack.WAIT);
    long revision = stack.revision();

    // Routes 0 and 4 change in no way (their ApisixUpstream, svc-0, neither): the load runs there.
    var unchangedA = stack.load("/r/0/x").start();
    var unchangedB = stack.load("/r/4/x").start();
    Load.Result resultA;
    Load.Result resultB;
    long down = downSeconds();
    Duration converged;
    try {
      stack.stop("a");
      long stopped = System.nanoTime();
      for (int i = 0; i < ROUTES; i++) {
        switch (i % 6) {
          case 1 -> route(stack, "r-" + i, "/r/" + i + "/v2", "svc-" + i % SERVICES, 1);
          case 2 -> deleteRoute(stack, "r-" + i);
          case 3 -> forceDeleteRoute(stack, "r-" + i);
          default -> {}
        }
      }
      for (int i = ROUTES; i < ROUTES + 10; i++) {
        route(stack, "r-" + i, "/r/" + i, "svc-" + i % SERVICES, 0);
      }
      upstream(stack, "svc-1", 3);
      stack
          .client()
          .resources(ApisixUpstream.class)
          .inNamespace("default")
          .withName("svc-2")
          .delete();
      long rest = stopped + TimeUnit.SECONDS.toNanos(down) - System.nanoTime();
      if (rest > 0) {
        TimeUnit.NANOSECONDS.sleep(rest);
      }
      long started = System.nanoTime();
      stack.startOperator("a", List.of());
      OperatorResources.awaitConverged(stack, OperatorStack.WAIT);
      converged = Duration.ofNanos(System.nanoTime() - started);
    } finally {
      resultA = unchangedA.stop();
      resultB = unchangedB.stop();
    }
    var after = stack.etcdContent();
    var history = stack.history(revision);
    var puts = new TreeMap<String, Integer>();
    var deletes = new TreeMap<String, Integer>();
    for (var e : history) {
      (e.type().equals("PUT") ? puts : deletes).merge(e.key(), 1, Integer::sum);
    }
    long changedKeys =
        after.entrySet().stream().filter(e -> !e.getValue().equals(before.get(e.getKey()))).count();
    var label =
        "operator down "
            + down
            + " s while CRs change, then started (converged in "
            + converged.toMillis()
            + " ms; "
            + puts.values().stream().mapToInt(Integer::intValue).sum()
            + " etcd puts for "
            + changedKeys
            + " changed keys, "
            + deletes.size()
            + " deletes)";
    ChaosReport.add(label, down, resultA, null);
    System.out.printf("%s%n r-0: %s%n r-4: %s%n", label, resultA, resultB);

    assertThat(resultA.failed()).as("failed requests on /r/0: %s", resultA).isZero();
    assertThat(resultB.failed()).as("failed requests on /r/4: %s", resultB).isZero();
    for (var key : before.keySet()) {
      if (after.containsKey(key)) {
        assertThat(deletes).as("deletes of keys that stay").doesNotContainKey(key);
        if (after.get(key).equals(before.get(key))) {
          assertThat(puts).as("puts of unchanged values").doesNotContainKey(key);
        }
      } else {
        assertThat(deletes.get(key)).as("deletes of %s", key).isEqualTo(1);
      }
    }
    for (var e : after.entrySet()) {
      if (!e.getValue().equals(before.get(e.getKey()))) {
        assertThat(puts.get(e.getKey())).as("puts of %s", e.getKey()).isEqualTo(1);
      }
    }
    assertThat(deletes.keySet()).as("deleted keys").allMatch(k -> !after.containsKey(k));
    // What the changes were meant to do: 20 routes deleted (10 of them with no finalizer), 10
    // added, the routes of svc-1 and svc-2 and those updated changed.
    assertThat(deletes).hasSize(20);
    assertThat(after).hasSize(ROUTES - 20 + 10);
  }
}
