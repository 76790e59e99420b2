package io.archway.dataplane.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dataplane following a Service's EndpointSlices on fabric8's mock API server, with a real HTTP
 * upstream per endpoint (each on its own loopback address, all on one port, as pods are).
 */
class DiscoveryIT {

  private static final Duration WAIT = Duration.ofSeconds(15);

  @TempDir Path dir;
  KubernetesMockServer server;
  KubernetesCrudDispatcher store;
  KubernetesClient kube;
  int port;
  final List<HttpServer> pods = new ArrayList<>();
  // A request to /slow is held in its pod until the test lets it go.
  final CountDownLatch slowArrived = new CountDownLatch(1);
  final CountDownLatch slowRelease = new CountDownLatch(1);
  Gateways gw;

  @BeforeEach
  void start() throws Exception {
    store = new KubernetesCrudDispatcher(List.of());
    server =
        new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), store, false);
    server.init();
    kube = server.createClient();
    try (var s = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.10"))) {
      port = s.getLocalPort();
    }
    for (int i = 0; i < 10; i++) {
      var address = address(i);
      var pod = HttpServer.create(new InetSocketAddress(address, port), 50);
      pod.setExecutor(Executors.newCachedThreadPool());
      pod.createContext(
          "/",
          ex -> {
            if (ex.getRequestURI().getPath().startsWith("/slow")) {
              slowArrived.countDown();
              try {
                slowRelease.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            var body = address.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (var out = ex.getResponseBody()) {
              out.write(body);
            }
          });
      pod.start();
      pods.add(pod);
    }
    service();
    gw =
        Gateways.withKubernetes(
            dir,
            """
            routes:
              - id: web
                uri: /*
                upstream:
                  discovery_type: kubernetes
                  service_name: default/web:http
            """,
            kube.getMasterUrl().toString());
  }

  @AfterEach
  void stop() {
    slowRelease.countDown();
    if (gw != null) {
      gw.close();
    }
    pods.forEach(p -> p.stop(0));
    kube.close();
    server.destroy();
  }

  private static String address(int i) {
    return "127.0.0." + (10 + i);
  }

  private void service() {
    kube.resource(
            Serialization.unmarshal(
                "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
                    + "spec: {ports: [{name: http, port: 80, targetPort: "
                    + port
                    + "}]}\n",
                Service.class))
        .createOr(e -> e.update());
  }

  /** The Service's one EndpointSlice, with these pods ready and these not (ready=false). */
  private void endpoints(Set<Integer> ready, Set<Integer> unready, Set<Integer> terminating) {
    var eps = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      if (ready.contains(i)) {
        eps.append("- {addresses: [").append(address(i)).append("], conditions: {ready: true}}\n");
      } else if (unready.contains(i)) {
        eps.append("- {addresses: [").append(address(i)).append("], conditions: {ready: false}}\n");
      } else if (terminating.contains(i)) {
        eps.append("- {addresses: [")
            .append(address(i))
            .append("], conditions: {ready: false, serving: true, terminating: true}}\n");
      }
    }
    slice(eps.toString());
  }

  /** The Service's one EndpointSlice, with these endpoints (YAML list items). */
  private void slice(String endpoints) {
    kube.resource(
            Serialization.unmarshal(
                "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
                    + "metadata: {name: web-abc, namespace: default, labels: {kubernetes.io/service-name: web}}\n"
                    + "addressType: IPv4\nports: [{name: http, port: "
                    + port
                    + "}]\nendpoints:\n"
                    + endpoints,
                EndpointSlice.class))
        .createOr(e -> e.update());
  }

  private static Set<Integer> range(int from, int to) {
    var out = new HashSet<Integer>();
    IntStream.range(from, to).forEach(out::add);
    return out;
  }

  /** Who answered 40 requests. */
  private Set<String> responders() throws Exception {
    var out = new HashSet<String>();
    for (int i = 0; i < 40; i++) {
      var res = gw.get("/who");
      if (res.statusCode() == 200) {
        out.add(res.body());
      } else {
        out.add("status " + res.statusCode());
      }
    }
    return out;
  }

  private static Set<String> addresses(Set<Integer> pods) {
    var out = new HashSet<String>();
    pods.forEach(i -> out.add(address(i)));
    return out;
  }

  @Test
  void followsTheServiceAsItScalesAndItsPodsTurnUnready() throws Exception {
    endpoints(range(0, 3), Set.of(), Set.of());
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(addresses(range(0, 3))));
    endpoints(range(0, 10), Set.of(), Set.of());
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(addresses(range(0, 10))));
    endpoints(Set.of(7), Set.of(), Set.of());
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(Set.of(address(7))));
    endpoints(Set.of(7, 8), Set.of(9), Set.of());
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(addresses(Set.of(7, 8))));
    assertThat(gw.dataplane().servers().discovery().status())
        .isEqualTo(new KubernetesDiscovery.Status(1, 1, null));
  }

  @Test
  void aTerminatingPodFinishesWhatItHasAndGetsNothingNew() throws Exception {
    endpoints(Set.of(0), Set.of(), Set.of());
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(Set.of(address(0))));
    var slow =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return gw.get("/slow");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await().atMost(WAIT).until(() -> slowArrived.getCount() == 0); // on pod 0 now
    endpoints(Set.of(1), Set.of(), Set.of(0));
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(Set.of(address(1))));
    assertThat(slow).isNotDone();
    slowRelease.countDown();
    var res = slow.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isEqualTo(address(0));
  }

  @Test
  void aDeletedServiceAnswers503AndComesBackWhenRecreated() throws Exception {
    endpoints(Set.of(2), Set.of(), Set.of());
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(Set.of(address(2))));
    kube.resources(EndpointSlice.class).inNamespace("default").withName("web-abc").delete();
    kube.services().inNamespace("default").withName("web").delete();
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(gw.get("/who").statusCode()).isEqualTo(503));
    assertThat(gw.get("/who").body()).contains("503");
    service();
    endpoints(Set.of(3), Set.of(), Set.of());
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(Set.of(address(3))));
  }

  @Test
  void portsByNumberResolveThroughTheServiceAndUnreferencedServicesAreNotWatched()
      throws Exception {
    endpoints(Set.of(4), Set.of(), Set.of());
    gw.reload(
        """
        routes:
          - id: web
            uri: /*
            upstream:
              discovery_type: kubernetes
              service_name: default/web:80
        """);
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(Set.of(address(4))));
    gw.reload(
        """
        routes:
          - id: other
            uri: /*
            upstream:
              nodes: {"%s:%d": 1}
        """
            .formatted(address(5), port));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(gw.dataplane().servers().discovery().status().services()).isZero());
    assertThat(responders()).isEqualTo(Set.of(address(5)));
    assertThat(
            gw.client()
                .send(
                    HttpRequest.newBuilder(URI.create(gw.url("/x"))).build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void keepsTheLastEndpointsWhileTheApiServerIsDownAndFollowsAgainAfter() throws Exception {
    endpoints(Set.of(0, 1), Set.of(), Set.of());
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(addresses(Set.of(0, 1))));
    int apiPort = server.getPort();
    server.destroy();
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(gw.status("/readyz")).contains("\"connected\" : false"));
    assertThat(responders()).isEqualTo(addresses(Set.of(0, 1)));
    assertThat(gw.status("/metrics")).contains("archway_discovery_services 1");

    // The same store behind a new server on the same port: an API server restart.
    server =
        new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), store, false);
    server.init(java.net.InetAddress.getByName("localhost"), apiPort);
    kube.close();
    kube = server.createClient();
    endpoints(Set.of(2), Set.of(), Set.of());
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(responders()).isEqualTo(Set.of(address(2))));
  }

  @Test
  void aRollingUpdateUnderLoadFailsNoRequest() throws Exception {
    var live = new HashSet<>(Set.of(0, 1, 2));
    endpoints(live, Set.of(), Set.of());
    await().atMost(WAIT).untilAsserted(() -> assertThat(responders()).isEqualTo(addresses(live)));
    var stop = new java.util.concurrent.atomic.AtomicBoolean();
    var ok = new java.util.concurrent.atomic.AtomicInteger();
    var failed = new java.util.concurrent.ConcurrentLinkedQueue<String>();
    var load = new ArrayList<Thread>();
    for (int t = 0; t < 4; t++) {
      load.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    while (!stop.get()) {
                      try {
                        var res = gw.get("/who");
                        if (res.statusCode() == 200) {
                          ok.incrementAndGet();
                        } else {
                          failed.add(res.statusCode() + " " + res.body());
                        }
                      } catch (Exception e) {
                        failed.add(e.toString());
                      }
                    }
                  }));
    }
    // Each step: a new pod ready; an old one terminating (drained), then stopped and gone.
    for (int i = 0; i < 3; i++) {
      var old = i;
      var fresh = 3 + i;
      live.add(fresh);
      live.remove(old);
      endpoints(live, Set.of(), Set.of(old));
      // Drained: new requests go to the live pods only; then the old pod stops.
      await().atMost(WAIT).untilAsserted(() -> assertThat(responders()).isEqualTo(addresses(live)));
      pods.get(old).stop(0);
      endpoints(live, Set.of(), Set.of());
      var served = ok.get();
      await().atMost(WAIT).until(() -> ok.get() >= served + 20);
    }
    var served = ok.get();
    await().atMost(WAIT).until(() -> ok.get() >= served + 50);
    stop.set(true);
    for (var t : load) {
      t.join();
    }
    assertThat(failed).isEmpty();
    assertThat(ok.get()).isGreaterThan(100);
    assertThat(responders()).isEqualTo(addresses(Set.of(3, 4, 5)));
  }

  @Test
  void aSubsetGetsTheEndpointsOfThePodsWithItsLabels() throws Exception {
    var eps = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      eps.append("- {addresses: [")
          .append(address(i))
          .append("], conditions: {ready: true}, targetRef: {kind: Pod, name: pod-")
          .append(i)
          .append("}}\n");
      kube.resource(
              Serialization.unmarshal(
                  "apiVersion: v1\nkind: Pod\nmetadata: {name: pod-"
                      + i
                      + ", namespace: default, labels: {app: web, version: v"
                      + (i < 2 ? 1 : 2)
                      + "}}\n",
                  io.fabric8.kubernetes.api.model.Pod.class))
          .create();
    }
    slice(eps.toString());
    gw.reload(
        """
        routes:
          - id: v2
            uri: /*
            upstream:
              discovery_type: kubernetes
              service_name: default/web:http
              discovery_args: {labels: {version: v2}}
        """);
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(responders()).isEqualTo(addresses(Set.of(2, 3))));
  }
}
