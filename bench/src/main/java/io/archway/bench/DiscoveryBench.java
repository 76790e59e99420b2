package io.archway.bench;

import com.sun.net.httpserver.HttpServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * The discovery benchmark, as the discovery issue sets it: with S Services × E endpoints watched by
 * the dataplane (its jar, as its own process, against fabric8's mock API server in this process),
 * the time from an EndpointSlice change to the dataplane routing to the new node; and the
 * dataplane's heap per watched endpoint (after a full GC, against the same routes with static
 * nodes).
 *
 * <p>{@code bench/run discovery [services] [endpoints] [changes]}
 */
public final class DiscoveryBench {

  private DiscoveryBench() {}

  public static void main(String[] args) {
    BenchSupport.main(args, DiscoveryBench::run);
  }

  private static void run(String[] args) throws Exception {
    int services = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int endpoints = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int changes = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    var dir = Files.createTempDirectory("archway-discovery-bench-");
    var server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(List.of()),
            false);
    server.init();
    var kube = server.createClient();
    // Two real pods on one port; every other endpoint is an address nobody asks.
    int port;
    try (var s = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.2"))) {
      port = s.getLocalPort();
    }
    var pods = new ArrayList<HttpServer>();
    for (var address : List.of("127.0.0.2", "127.0.0.3")) {
      var pod = HttpServer.create(new InetSocketAddress(address, port), 100);
      pod.setExecutor(Executors.newFixedThreadPool(4));
      pod.createContext(
          "/",
          ex -> {
            var body = address.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (var out = ex.getResponseBody()) {
              out.write(body);
            }
          });
      pod.start();
      pods.add(pod);
    }
    long t0 = System.nanoTime();
    var pool = Executors.newFixedThreadPool(8);
    var futures =
        IntStream.range(0, services)
            .mapToObj(
                i ->
                    CompletableFuture.runAsync(
                        () -> {
                          kube.resource(service(i)).create();
                          kube.resource(slice(i, endpoints, port, "127.0.0.2")).create();
                        },
                        pool))
            .toList();
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get();
    pool.shutdown();
    System.out.printf(
        "%d Services × %d endpoints in the mock API server (%.1f s)%n",
        services, endpoints, (System.nanoTime() - t0) / 1e9);

    var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    // The same routes with static nodes first: the heap a dataplane has without discovery.
    long baseline = heapWith(dir, config(services, false, port), kube, http, null);
    System.out.printf(
        "dataplane heap, %d routes with static nodes: %.1f MB%n", services, baseline / 1048576.0);

    var file = dir.resolve("discovery.yaml");
    Files.writeString(file, config(services, true, port));
    int httpPort = Ports.free();
    int statusPort = Ports.free();
    var dp = start(file, kube, httpPort, statusPort, dir);
    try {
      long w0 = System.nanoTime();
      awaitWatching(http, statusPort, services);
      System.out.printf(
          "dataplane watching %d Services in %.1f s%n", services, (System.nanoTime() - w0) / 1e9);
      // Every route answers from pod 2 once its Service's endpoints are in.
      for (int i = 0; i < services; i += Math.max(1, services / 20)) {
        awaitFrom(http, httpPort, i, "127.0.0.2", 30_000);
      }
      var lat = new ArrayList<Double>();
      for (int k = 0; k < changes; k++) {
        int i = (k * 7919) % services;
        var current = get(http, httpPort, i);
        var next = current.equals("127.0.0.2") ? "127.0.0.3" : "127.0.0.2";
        kube.resource(slice(i, endpoints, port, next)).update();
        long c0 = System.nanoTime();
        awaitFrom(http, httpPort, i, next, 10_000);
        lat.add((System.nanoTime() - c0) / 1e6);
      }
      System.out.printf(
          "EndpointSlice change -> routed to the new node, %d changes: p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 200 ms)%n",
          changes,
          BenchSupport.pct(lat, 50),
          BenchSupport.pct(lat, 99),
          BenchSupport.pct(lat, 100));
      long used = BenchSupport.heapAfterGc(dp.pid());
      System.out.printf(
          "dataplane heap with %d Services × %d endpoints watched: %.1f MB; %.0f bytes per watched endpoint over static nodes%n",
          services,
          endpoints,
          used / 1048576.0,
          (used - baseline) / (double) (services * endpoints));
    } finally {
      dp.destroy();
      dp.waitFor(10, TimeUnit.SECONDS);
      pods.forEach(p -> p.stop(0));
      kube.close();
      server.destroy();
    }
  }

  private static Service service(int i) {
    return Serialization.unmarshal(
        "apiVersion: v1\nkind: Service\nmetadata: {name: svc-"
            + i
            + ", namespace: default}\n"
            + "spec: {ports: [{name: http, port: 80}]}\n",
        Service.class);
  }

  /** The Service's slice: {@code first} and then endpoints nobody asks (10.x addresses). */
  private static EndpointSlice slice(int i, int endpoints, int port, String first) {
    var eps = new StringBuilder("- {addresses: [" + first + "], conditions: {ready: true}}\n");
    for (int e = 1; e < endpoints; e++) {
      // Not ready: kept by the informer (memory), never sent a request.
      eps.append("- {addresses: [10.")
          .append(i / 250)
          .append('.')
          .append(i % 250)
          .append('.')
          .append(e)
          .append("], conditions: {ready: false}}\n");
    }
    return Serialization.unmarshal(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
            + "metadata: {name: svc-"
            + i
            + "-a, namespace: default, labels: {kubernetes.io/service-name: svc-"
            + i
            + "}}\n"
            + "addressType: IPv4\nports: [{name: http, port: "
            + port
            + "}]\nendpoints:\n"
            + eps,
        EndpointSlice.class);
  }

  private static String config(int services, boolean discovery, int port) {
    var sb = new StringBuilder("routes:\n");
    for (int i = 0; i < services; i++) {
      sb.append("  - id: r")
          .append(i)
          .append("\n    uri: /s/")
          .append(i)
          .append("\n    upstream:\n");
      if (discovery) {
        sb.append("      discovery_type: kubernetes\n      service_name: default/svc-")
            .append(i)
            .append(":http\n");
      } else {
        sb.append("      nodes: {\"127.0.0.2:").append(port).append("\": 1}\n");
      }
    }
    return sb.append("#END\n").toString();
  }

  private static long heapWith(
      Path dir, String yaml, KubernetesClient kube, HttpClient http, Object unused)
      throws Exception {
    var file = dir.resolve("static.yaml");
    Files.writeString(file, yaml);
    int httpPort = Ports.free();
    int statusPort = Ports.free();
    var p = start(file, kube, httpPort, statusPort, dir);
    try {
      awaitFrom(http, httpPort, 0, "127.0.0.2", 60_000);
      return BenchSupport.heapAfterGc(p.pid());
    } finally {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static Process start(
      Path file, KubernetesClient kube, int httpPort, int statusPort, Path dir) throws IOException {
    return JarProcess.start(
        Path.of("dataplane/target/archway-dataplane.jar"),
        dir.resolve("dataplane-" + httpPort + ".log"),
        BenchSupport.jvm("-Xmx512m", "-XX:+UseG1GC"),
        java.util.stream.Stream.of(
                List.of("--standalone", file.toString()),
                BenchSupport.dataplaneListeners(httpPort, statusPort),
                List.of("--kube-api", kube.getMasterUrl().toString()))
            .flatMap(List::stream)
            .toList());
  }

  private static void awaitWatching(HttpClient http, int statusPort, int services)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    var watching = Pattern.compile("archway_discovery_services_watching (\\d+)");
    while (true) {
      try {
        var body =
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + statusPort + "/metrics"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        var m = watching.matcher(body);
        if (m.find() && Integer.parseInt(m.group(1)) >= services) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the dataplane did not watch every Service in 5 minutes");
      }
      Thread.sleep(100);
    }
  }

  private static String get(HttpClient http, int port, int i) throws Exception {
    var res =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/s/" + i))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return res.statusCode() == 200 ? res.body() : "status " + res.statusCode();
  }

  private static void awaitFrom(HttpClient http, int port, int i, String pod, long millis)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (true) {
      try {
        if (get(http, port, i).equals(pod)) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "route " + i + " not answered by " + pod + " in " + millis + " ms");
      }
      Thread.sleep(1);
    }
  }
}
