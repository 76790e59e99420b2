package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.e2e.KubeStack;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 2, rolling update (docs/chaos.md): under a steady load on a route to a Service,
 * the Deployment behind it rolls pod by pod for the whole fault, with terminating endpoints,
 * readiness flaps and pod IPs reused, and nothing may be sent to a pod that is gone: not one
 * request fails, the dataplane never has a connection to a node refused or closed, and no pod gets
 * a request before it is ready or longer than the grace after it stopped being ready.
 *
 * <p>Real components: etcd, the operator's and the dataplane's jars as processes, each pod a real
 * HTTP server on its own loopback IP ({@link Deployment}). The Kubernetes API server is fabric8's
 * mock server in CRUD mode, the one stand-in (no real API server can run here); the test writes the
 * EndpointSlices into it as the EndpointSlice controller would. Both discovery modes run, one per
 * test, each on a Service of its own, as they are chosen per upstream: the dataplane watching the
 * EndpointSlices itself ({@code discovery_type: kubernetes}), and the operator resolving them into
 * the nodes it writes into etcd (control-plane discovery, the ApisixUpstream marked {@code
 * discovery: {type: controlplane}}).
 *
 * <p>The grace is a deleted pod's preStop sleep ({@link #GRACE}): Kubernetes marks the endpoint
 * terminating when the pod is deleted and runs the preStop hook, and the process gets SIGTERM once
 * the hook is done. A gateway needs that window to learn of the change; within it a pod may still
 * get requests, after it none may. Each test then rolls once more with pods that have no preStop
 * hook (their process exits before the gateway can know): there requests do reach a gone pod, and
 * the bound is still 0 failed requests, because a GET refused by a node is retried on another.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RollingUpdateChaosE2E {

  /** A deleted pod's preStop sleep: {@code lifecycle.preStop.sleep.seconds: 5}. */
  static final Duration GRACE = Duration.ofSeconds(5);

  /** The pause between two steps of the rollout, once the new pod is ready. */
  private static final Duration PAUSE = Duration.ofMillis(500);

  /** What a node refusing or closing a connection is counted as by the dataplane. */
  private static final Set<String> GONE_NODE =
      Set.of("upstream_connect_failed", "upstream_closed", "upstream_retry");

  @TempDir static Path dir;

  KubeStack stack;
  Deployment deployment;

  @BeforeAll
  void startStack() throws Exception {
    // marked: the operator resolves the Services whose ApisixUpstream says so, and only those.
    stack = KubeStack.start(dir, "marked");
  }

  @AfterEach
  void stopDeployment() {
    if (deployment != null) {
      deployment.close();
    }
  }

  @AfterAll
  void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void dataplaneDiscoverySendsNothingToAGonePod() throws Exception {
    // The operator writes discovery_type: kubernetes; the dataplane watches the EndpointSlices.
    roll("web-a", 10, false, "dataplane discovery");
  }

  @Test
  void controlPlaneDiscoverySendsNothingToAGonePod() throws Exception {
    // The operator resolves the EndpointSlices and writes the nodes into etcd.
    roll("web-b", 110, true, "control-plane discovery");
  }

  @Test
  void dataplaneDiscoveryServesOneReplicaThroughItsPreStop() throws Exception {
    rollOneReplica("web-c", 210, false, "dataplane discovery");
  }

  @Test
  void controlPlaneDiscoveryServesOneReplicaThroughItsPreStop() throws Exception {
    rollOneReplica("web-d", 230, true, "control-plane discovery");
  }

  /**
   * An ApisixRoute on {@code /SERVICE/*} to the Service, resolved by the operator when {@code
   * controlPlane}; returns once it is served. Returns the path the load is sent to.
   */
  private String route(String service, boolean controlPlane) {
    if (controlPlane) {
      stack.apply(
          ApisixUpstream.class,
          "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\n"
              + "metadata: {name: "
              + service
              + ", namespace: default}\nspec: {discovery: {type: controlplane}}\n");
    }
    stack.apply(
        ApisixRoute.class,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixRoute
        metadata: {name: SERVICE, namespace: default}
        spec:
          http:
          - name: main
            match: {paths: [/SERVICE/*]}
            backends: [{serviceName: SERVICE, servicePort: 80}]
        """
            .replace("SERVICE", service));
    var path = "/" + service + "/x";
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(() -> stack.get(path).body().startsWith(answer(service)));
    return path;
  }

  /** The start of the body every pod of the Service answers. */
  private static String answer(String service) {
    return PodBackend.BODY_PREFIX + service + "-";
  }

  private void roll(String service, int firstIp, boolean controlPlane, String mode)
      throws Exception {
    deployment = Deployment.create(stack.client(), service, firstIp, 3, GRACE);
    var path = route(service, controlPlane);
    var answer = answer(service);

    // Rolling for the fault's duration, the realistic way: endpoints drained before pods stop.
    long seconds = EtcdDataplane.seconds();
    var errorsBefore = stack.errors();
    var load = load(path, answer);
    Load.Result result;
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      for (int i = 0; System.nanoTime() < end; i++) {
        deployment.step();
        if (i % 2 == 1) {
          deployment.flap();
        }
        Thread.sleep(PAUSE.toMillis());
      }
      // The last deleted pods finish their grace and go, and the last flaps end, under load.
      await().atMost(EtcdDataplane.WAIT).until(deployment::settled);
    } finally {
      result = load.stop();
    }
    var errors = since(errorsBefore);
    var pods = deployment.pods();
    long lastAfterUnready =
        pods.stream().mapToLong(PodBackend::lastAfterUnreadyNanos).max().orElse(0);
    ChaosReport.add(
        String.format(
            Locale.ROOT,
            "rolling update, %s: %d pods replaced, %d readiness flaps, %d IPs reused;"
                + " last request %.0f ms after a pod stopped being ready",
            mode,
            deployment.replaced(),
            deployment.flaps(),
            deployment.reusedIps(),
            lastAfterUnready / 1e6),
        seconds,
        result,
        null);

    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).as("requests sent").isGreaterThan(seconds * 50);
    // A connection refused or closed by a node is a request sent to a pod that was gone.
    assertThat(errors).as("dataplane errors during the rollout").isEmpty();
    for (var p : pods) {
      assertThat(p.early()).as("requests to %s before it was ready", p).isZero();
      assertThat(p.late())
          .as("requests to %s longer than %s after it stopped being ready", p, GRACE)
          .isZero();
    }
    assertThat(deployment.replaced()).as("pods replaced").isGreaterThanOrEqualTo(3);
    assertThat(deployment.flaps()).as("readiness flaps").isPositive();
    assertThat(deployment.reusedIps()).as("pod IPs reused").isPositive();
    assertThat(pods.stream().filter(p -> p.requests() > 0).count())
        .as("pods that served")
        .isGreaterThan(3);

    // One more rollout of the 3 pods, none with a preStop hook: each process exits before its
    // endpoint turns terminating, so requests do reach gone pods. Bound: still 0 failed
    // requests, every one of them refused before it was sent and retried on another node.
    int replacedBefore = deployment.replaced();
    errorsBefore = stack.errors();
    load = load(path, answer);
    long start = System.nanoTime();
    try {
      for (int i = 0; i < 3; i++) {
        deployment.stepWithoutPreStop();
        Thread.sleep(PAUSE.toMillis());
      }
    } finally {
      result = load.stop();
    }
    errors = since(errorsBefore);
    ChaosReport.add(
        String.format(
            Locale.ROOT,
            "rolling update without preStop, %s: %d pods replaced; dataplane retried %d"
                + " requests a gone pod refused",
            mode,
            deployment.replaced() - replacedBefore,
            errors.getOrDefault("upstream_retry", 0L)),
        Math.round((System.nanoTime() - start) / 1e9),
        result,
        null);
    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(errors.keySet()).as("dataplane errors: %s", errors).isSubsetOf(GONE_NODE);
  }

  /**
   * A Deployment of one replica rolled with {@code maxSurge: 0}: each old pod is deleted before its
   * replacement starts, so for a while its terminating endpoint (serving through the preStop sleep)
   * is the only one that serves. As kube-proxy does, the dataplane keeps sending to it until the
   * replacement is ready: 0 failed requests, and no request to a pod later than the grace after it
   * stopped being ready (the replacement is ready long before).
   */
  private void rollOneReplica(String service, int firstIp, boolean controlPlane, String mode)
      throws Exception {
    deployment = Deployment.create(stack.client(), service, firstIp, 1, GRACE);
    var path = route(service, controlPlane);
    var errorsBefore = stack.errors();
    var load = load(path, answer(service));
    long start = System.nanoTime();
    Load.Result result;
    try {
      for (int i = 0; i < 3; i++) {
        deployment.stepUnavailableFirst();
        Thread.sleep(PAUSE.toMillis());
      }
      await().atMost(EtcdDataplane.WAIT).until(deployment::settled);
    } finally {
      result = load.stop();
    }
    var errors = since(errorsBefore);
    ChaosReport.add(
        String.format(
            Locale.ROOT,
            "rolling update of one replica, maxSurge 0, %s: %d pods replaced, each serving"
                + " while terminating until its replacement was ready",
            mode,
            deployment.replaced()),
        Math.round((System.nanoTime() - start) / 1e9),
        result,
        null);
    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(errors).as("dataplane errors during the rollout").isEmpty();
    for (var p : deployment.pods()) {
      assertThat(p.early()).as("requests to %s before it was ready", p).isZero();
      assertThat(p.late())
          .as("requests to %s longer than %s after it stopped being ready", p, GRACE)
          .isZero();
    }
    assertThat(deployment.pods()).allSatisfy(p -> assertThat(p.requests()).isPositive());
  }

  /** The load of each part: 8 clients, half on keep-alive connections, 5 ms apart. */
  private Load load(String path, String answer) {
    return new Load(
            stack.uri(path),
            8,
            Duration.ofMillis(5),
            Duration.ofSeconds(5),
            (status, body) -> body.startsWith(answer) ? null : "not an answer of a pod")
        .start();
  }

  /** The dataplane's error counters that moved since {@code before}, by how much. */
  private Map<String, Long> since(Map<String, Long> before) throws Exception {
    var moved = new TreeMap<String, Long>();
    stack
        .errors()
        .forEach(
            (cause, n) -> {
              long delta = n - before.getOrDefault(cause, 0L);
              if (delta != 0) {
                moved.put(cause, delta);
              }
            });
    return moved;
  }
}
