package io.archway.e2e.chaos;

import static io.archway.e2e.chaos.OperatorResources.deleteRoute;
import static io.archway.e2e.chaos.OperatorResources.route;
import static io.archway.e2e.chaos.OperatorResources.service;
import static io.archway.e2e.chaos.OperatorResources.upstream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Backends.HttpEcho;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 6, operator failover (docs/chaos.md): two operator replicas (the operator's jar,
 * twice) under leader election on a Lease, a real etcd, the dataplane's jar fed from it and a real
 * HTTP backend. fabric8's mock Kubernetes API server in CRUD mode stands in for the API server (no
 * real one can run here): it stores the Lease as a cluster does, so the election is the operator's
 * own. Under load on routes that stay up, a batch of ApisixRoute and ApisixUpstream creates,
 * updates and deletes is applied, and the leader is killed (SIGKILL) half-way through: the other
 * replica takes over, and etcd ends up holding exactly what the resources translate to, each key
 * written no more often than its resources changed, every status caught up, no request failed.
 */
class OperatorFailoverChaosE2E {

  /** The Lease's duration (the operator's {@code --lease-duration}, its smallest value is 3). */
  private static final int LEASE_SECONDS = 5;

  /**
   * How many ApisixRoutes the batch creates (it updates half and deletes a fifth of them): {@code
   * -Darchway.chaos.operator.routes}; 300 in the full pass (fault time 60 s and more), else 100.
   */
  static int batchRoutes() {
    return Integer.getInteger(
        "archway.chaos.operator.routes", EtcdDataplane.seconds() >= 60 ? 300 : 100);
  }

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
  void theLeaderKilledMidBatchLosesNoWriteAndRepeatsNone() throws Exception {
    var args = List.of("--leader-election", "--lease-duration", "" + LEASE_SECONDS);
    service(stack, "echo", backend.port());
    for (int s = 0; s < SERVICES; s++) {
      service(stack, "svc-" + s, backend.port());
    }
    route(stack, "stable", "/stable", "echo", 0);
    route(stack, "steady", "/steady", "echo", 0);
    stack.startOperator("a", args);
    await().atMost(OperatorStack.WAIT).until(() -> "a".equals(stack.leaseHolder()));
    stack.startOperator("b", args);
    await()
        .atMost(OperatorStack.WAIT)
        .ignoreExceptions()
        .until(
            () ->
                stack.get("/stable/x").statusCode() == 200
                    && stack.get("/steady/x").statusCode() == 200);
    OperatorResources.awaitConverged(stack, OperatorStack.WAIT);

    // The batch: each operation, and how many times each resource is written.
    int routes = batchRoutes();
    var ops = new ArrayList<Runnable>();
    var writes = new HashMap<String, Integer>();
    Map<String, Integer> upstreamWrites = new HashMap<>();
    int[] steady = {0};
    for (int i = 0; i < routes; i++) {
      int n = i;
      ops.add(() -> route(stack, "r-" + n, "/r/" + n, "svc-" + n % SERVICES, 0));
      writes.merge("r-" + n, 1, Integer::sum);
      if (i % 10 == 0) {
        ops.add(() -> route(stack, "steady", "/steady", "echo", ++steady[0]));
      }
    }
    for (int s = 0; s < SERVICES; s++) {
      int n = s;
      ops.add(() -> upstream(stack, "svc-" + n, 1));
      upstreamWrites.merge("svc-" + n, 1, Integer::sum);
    }
    for (int i = 0; i < routes; i += 2) {
      int n = i;
      ops.add(() -> route(stack, "r-" + n, "/r/" + n + "/v2", "svc-" + n % SERVICES, 1));
      writes.merge("r-" + n, 1, Integer::sum);
      if (i % 20 == 0) {
        ops.add(() -> route(stack, "steady", "/steady", "echo", ++steady[0]));
      }
    }
    for (int s = 0; s < SERVICES; s += 2) {
      int n = s;
      ops.add(() -> upstream(stack, "svc-" + n, 2));
      upstreamWrites.merge("svc-" + n, 1, Integer::sum);
    }
    var deleted = new ArrayList<String>();
    for (int i = 1; i < routes; i += 5) {
      int n = i;
      ops.add(() -> deleteRoute(stack, "r-" + n));
      deleted.add("r-" + n);
    }

    long before = stack.revision();
    var stable = stack.load("/stable/x").start();
    var updated = stack.load("/steady/x").start();
    Load.Result stableResult;
    Load.Result updatedResult;
    Duration failover;
    long faultStart = System.nanoTime();
    try {
      for (int i = 0; i < ops.size() / 2; i++) {
        ops.get(i).run();
      }
      // Mid-batch: the leader is busy with the first half when it dies.
      stack.kill("a");
      long killed = System.nanoTime();
      for (int i = ops.size() / 2; i < ops.size(); i++) {
        ops.get(i).run();
      }
      await().atMost(OperatorStack.WAIT).until(() -> "b".equals(stack.leaseHolder()));
      failover = Duration.ofNanos(System.nanoTime() - killed);
      OperatorResources.awaitConverged(stack, OperatorStack.WAIT);
    } finally {
      stableResult = stable.stop();
      updatedResult = updated.stop();
    }
    long faultSeconds = Math.round((System.nanoTime() - faultStart) / 1e9);
    var history = stack.history(before);
    long puts = history.stream().filter(e -> e.type().equals("PUT")).count();
    long deletes = history.stream().filter(e -> e.type().equals("DELETE")).count();
    var label =
        "operator failover: leader killed mid-batch of "
            + ops.size()
            + " CR changes (failover "
            + failover.toMillis()
            + " ms; "
            + puts
            + " etcd puts, "
            + deletes
            + " deletes)";
    ChaosReport.add(label + ", stable route", faultSeconds, stableResult, null);
    ChaosReport.add(label + ", route updated in the batch", faultSeconds, updatedResult, null);
    System.out.printf(
        "operator failover: %d ops, failover %d ms, %d puts, %d deletes%n stable: %s%n updated:"
            + " %s%n",
        ops.size(), failover.toMillis(), puts, deletes, stableResult, updatedResult);

    assertThat(stableResult.failed()).as("failed requests: %s", stableResult).isZero();
    assertThat(updatedResult.failed()).as("failed requests: %s", updatedResult).isZero();
    assertThat(stack.get("/steady/x").body()).contains("\"x-version\":[\"" + steady[0] + "\"]");

    // No write lost or repeated: each key was put at most as often as what it is made of changed
    // (its route, and the ApisixUpstream of its Service), a surviving key never deleted, a
    // deleted route's key deleted once.
    var putsByKey = new TreeMap<String, Integer>();
    var deletesByKey = new TreeMap<String, Integer>();
    for (var e : history) {
      (e.type().equals("PUT") ? putsByKey : deletesByKey).merge(e.key(), 1, Integer::sum);
    }
    var finalKeys = stack.etcdContent().keySet();
    for (int i = 0; i < routes; i++) {
      var key = "routes/ar_default_r-" + i + "_main";
      int bound = writes.get("r-" + i) + upstreamWrites.getOrDefault("svc-" + i % SERVICES, 0);
      int put = putsByKey.getOrDefault(key, 0);
      if (deleted.contains("r-" + i)) {
        // Created and deleted in the batch: maybe never written (gone before its reconcile), else
        // deleted once.
        assertThat(put).as("puts of %s", key).isBetween(0, bound);
        assertThat(finalKeys).doesNotContain(key);
        assertThat(deletesByKey.getOrDefault(key, 0))
            .as("deletes of %s", key)
            .isEqualTo(put > 0 ? 1 : 0);
      } else {
        assertThat(put).as("puts of %s", key).isBetween(1, bound);
        assertThat(finalKeys).contains(key);
        assertThat(deletesByKey).as("deletes").doesNotContainKey(key);
      }
    }
    assertThat(putsByKey.getOrDefault("routes/ar_default_steady_main", 0))
        .as("puts of the steady route")
        .isBetween(1, steady[0]);
    assertThat(putsByKey).as("puts").doesNotContainKey("routes/ar_default_stable_main");
    assertThat(deletesByKey.keySet())
        .as("deleted keys")
        .allMatch(
            k -> deleted.stream().anyMatch(d -> k.equals("routes/ar_default_" + d + "_main")));
  }
}
