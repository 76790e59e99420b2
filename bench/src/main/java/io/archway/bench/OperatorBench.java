package io.archway.bench;

import io.archway.crds.apisix.ApisixRoute;
import io.archway.model.Kind;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.archway.operator.testing.KubeMock;
import io.archway.operator.translate.ApisixRouteTranslator;
import io.archway.operator.translate.Manifests;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * The operator benchmark, as the operator issue sets it: (1) N ApisixRoutes applied at once until
 * all are in etcd and {@code Programmed=True}; (2) the latency of one route update to etcd with N
 * routes present; (3) the operator's heap with M routes. The operator runs as its own process
 * ({@code archway-operator.jar run}, {@code -Xmx256m}) against fabric8's mock API server in this
 * process and a real etcd.
 *
 * <p>Peers in the same run: the same N routes written straight to etcd by the operator's own writer
 * from 8 threads (what the operator adds over writing), and a bare etcd put observed by a watch
 * (what any update costs at least).
 *
 * <p>{@code bench/run operator [routes] [updates] [heapRoutes]}
 */
public final class OperatorBench {

  private OperatorBench() {}

  public static void main(String[] args) {
    BenchSupport.main(args, OperatorBench::run);
  }

  private static void run(String[] args) throws Exception {
    int routes = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
    int updates = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int heapRoutes = args.length > 2 ? Integer.parseInt(args[2]) : 5_000;
    var dir = Files.createTempDirectory("archway-operator-bench-");
    try (var etcd = new EtcdServer().start();
        var kube = new KubeMock();
        var etcdClient = Client.builder().endpoints(etcd.endpoint()).build()) {
      var client = kube.client();
      var kubeconfig = dir.resolve("kubeconfig");
      Files.writeString(kubeconfig, kubeconfig(client.getMasterUrl().toString()));
      createWebService(client);
      // Peer for the API side: the same creates with no operator watching (the mock API server's
      // own cost on this machine), before the operator starts, in a namespace of their own, then
      // removed.
      long b0 = System.nanoTime();
      create(client, "baseline", 0, routes);
      double apiAlone = secs(System.nanoTime() - b0);
      client.resources(ApisixRoute.class).inNamespace("baseline").delete();
      System.out.printf(
          "peer: %d ApisixRoutes created in the mock API server with no operator: %.2f s%n",
          routes, apiAlone);
      int metricsPort = Ports.free();
      var operator = startOperator(kubeconfig, etcd.endpoint(), metricsPort, dir);
      try {
        awaitReady(metricsPort);
        System.out.printf(
            "operator pid %d, -Xmx256m; etcd %s; mock API server %s%n",
            operator.pid(), etcd.endpoint(), client.getMasterUrl());

        // (1) N routes at once.
        long t0 = System.nanoTime();
        create(client, "default", 0, routes);
        long created = System.nanoTime();
        awaitEtcd(etcdClient, "/apisix/routes/", routes);
        long inEtcd = System.nanoTime();
        awaitProgrammed(client, routes);
        long programmed = System.nanoTime();
        System.out.printf(
            "%d ApisixRoutes: created in the API %.2f s; all in etcd %.2f s; all Programmed=True %.2f s (target < 10 s)%n",
            routes, secs(created - t0), secs(inEtcd - t0), secs(programmed - t0));
        double direct = directWrites(etcdClient, routes);
        System.out.printf(
            "peer: the same %d routes written straight to etcd by the writer (8 threads): %.2f s; operator/direct = %.1fx%n",
            routes, direct, secs(inEtcd - t0) / direct);

        // (2) One update with N present.
        var lat = updates(client, etcdClient, routes, updates);
        var peer = bareEtcd(etcdClient, updates);
        System.out.printf(
            "update → etcd with %d routes, %d updates: p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 100 ms)%n",
            routes,
            updates,
            BenchSupport.pct(lat, 50),
            BenchSupport.pct(lat, 99),
            BenchSupport.pct(lat, 100));
        System.out.printf(
            "peer: bare etcd put → watch event: p50 %.2f ms, p99 %.2f ms%n",
            BenchSupport.pct(peer, 50), BenchSupport.pct(peer, 99));

        // (3) Heap with M routes.
        if (heapRoutes > routes) {
          long h0 = System.nanoTime();
          create(client, "default", routes, heapRoutes);
          awaitEtcd(etcdClient, "/apisix/routes/", heapRoutes);
          awaitProgrammed(client, heapRoutes);
          System.out.printf(
              "%d more routes programmed in %.2f s%n",
              heapRoutes - routes, secs(System.nanoTime() - h0));
        }
        var heap = BenchSupport.heapAfterGc(operator.pid());
        System.out.printf(
            "operator heap with %d routes, after a full GC: %s (target < 256 MB; it runs with -Xmx256m)%n",
            Math.max(routes, heapRoutes), String.format("%.1f MB used", heap / 1048576.0));
        System.out.println(metric(metricsPort, "archway_operator_reconciles_total"));
        System.out.println(metric(metricsPort, "archway_operator_reconcile_duration_seconds_sum"));
        System.out.println(
            metric(metricsPort, "archway_operator_reconcile_duration_seconds_count"));
      } finally {
        operator.destroy();
        operator.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  static String kubeconfig(String url) {
    return """
        apiVersion: v1
        kind: Config
        clusters: [{name: mock, cluster: {server: "URL"}}]
        users: [{name: bench, user: {}}]
        contexts: [{name: mock, context: {cluster: mock, user: bench, namespace: default}}]
        current-context: mock
        """
        .replace("URL", url);
  }

  static Process startOperator(
      Path kubeconfig, String etcd, int metricsPort, Path dir, String... extra) throws IOException {
    var args =
        new ArrayList<>(
            List.of(
                "run",
                "--kubeconfig",
                kubeconfig.toString(),
                "--etcd",
                etcd,
                "--metrics-port",
                String.valueOf(metricsPort)));
    args.addAll(List.of(extra));
    return JarProcess.start(
        Path.of("operator/target/archway-operator.jar"),
        dir.resolve("operator.log"),
        BenchSupport.jvm(
            "-Xmx256m", "-XX:+UseG1GC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"),
        args);
  }

  static void create(KubernetesClient client, String ns, int from, int to) throws Exception {
    BenchSupport.parallel(
        from,
        to,
        i -> {
          var r = route(i, "/");
          // The mock store matches names across namespaces: prefix them.
          r.getMetadata().setName(ns + "-" + i);
          r.getMetadata().setNamespace(ns);
          client.resource(r).create();
        });
  }

  static ApisixRoute route(int i, String path) {
    return Serialization.unmarshal(
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixRoute
        metadata: {name: route-I, namespace: default}
        spec:
          http:
          - name: main
            match: {hosts: [hI.example.com], paths: ["PATH*"], methods: [GET, POST]}
            backends: [{serviceName: web, servicePort: 80}]
            plugins: [{name: limit-count, config: {count: 100, time_window: 60}}]
        """
            .replace("I", String.valueOf(i))
            .replace("PATH", path),
        ApisixRoute.class);
  }

  static void awaitEtcd(Client etcd, String dir, int n) throws Exception {
    var key = ByteSequence.from(dir, StandardCharsets.UTF_8);
    var opt = GetOption.builder().isPrefix(true).withCountOnly(true).build();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (etcd.getKVClient().get(key, opt).get().getCount() < n) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not all routes reached etcd in 5 minutes");
      }
      Thread.sleep(20);
    }
  }

  static void awaitProgrammed(KubernetesClient client, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (true) {
      long l0 = System.nanoTime();
      long ok =
          client.resources(ApisixRoute.class).inNamespace("default").list().getItems().stream()
              .filter(
                  r ->
                      r.getStatus() != null
                          && r.getStatus().conditions.stream()
                              .anyMatch(
                                  c ->
                                      c.getType().equals("Programmed")
                                          && c.getStatus().equals("True")
                                          && c.getObservedGeneration()
                                              .equals(r.getMetadata().getGeneration())))
              .count();
      if (ok >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(ok + " of " + n + " routes programmed after 5 minutes");
      }
      // A list of 10,000 routes is work for the API server: poll at most half of its time.
      Thread.sleep(Math.max(50, (System.nanoTime() - l0) / 1_000_000));
    }
  }

  /** The peer: the same translated routes written straight to etcd with the operator's writer. */
  private static double directWrites(Client etcd, int n) throws Exception {
    var refs = new Manifests("default");
    var svc = Files.createTempFile("svc", ".yaml");
    Files.writeString(
        svc,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n");
    refs.read(svc);
    var items =
        IntStream.range(0, n)
            .mapToObj(
                i -> {
                  var r = route(i, "/");
                  r.getMetadata().setUid("u" + i);
                  return r;
                })
            .map(r -> ApisixRouteTranslator.translate(r, refs))
            .toList();
    var sink = new EtcdConfigSink(etcd, "/direct", Duration.ofSeconds(10));
    var pool = Executors.newFixedThreadPool(8);
    long t0 = System.nanoTime();
    try {
      var futures = new ArrayList<CompletableFuture<Void>>();
      for (int i = 0; i < n; i++) {
        var item = items.get(i).items().get(0);
        var owner = new Owner("ApisixRoute", "default", "route-" + i, "u" + i);
        futures.add(
            CompletableFuture.runAsync(
                () -> {
                  try {
                    sink.putIfChanged(Kind.ROUTES, item.object(), owner);
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                },
                pool));
      }
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get();
      return secs(System.nanoTime() - t0);
    } finally {
      pool.shutdown();
    }
  }

  private static List<Double> updates(KubernetesClient client, Client etcd, int routes, int updates)
      throws Exception {
    var out = new ArrayList<Double>();
    for (int k = 0; k < updates; k++) {
      int i = (k * 7919) % routes;
      var path = "/v" + k + "/";
      var current =
          client.resources(ApisixRoute.class).inNamespace("default").withName("default-" + i).get();
      current.getSpec().http.get(0).match.paths = List.of(path + "*");
      out.add(
          changeToWatchMs(
              etcd,
              "/apisix/routes/ar_default_default-" + i + "_main",
              v -> v.contains(path),
              () -> client.resource(current).update()));
    }
    return out;
  }

  static List<Double> bareEtcd(Client etcd, int n) throws Exception {
    var out = new ArrayList<Double>();
    var key = ByteSequence.from("/peer/key", StandardCharsets.UTF_8);
    for (int k = 0; k < n; k++) {
      var value = "v" + k;
      out.add(
          changeToWatchMs(
              etcd,
              "/peer/key",
              value::equals,
              () ->
                  etcd.getKVClient()
                      .put(key, ByteSequence.from(value, StandardCharsets.UTF_8))
                      .join()));
    }
    return out;
  }

  /**
   * Milliseconds from starting {@code change} to a watch on {@code key} seeing a value {@code seen}
   * accepts.
   */
  static double changeToWatchMs(
      Client etcd, String key, java.util.function.Predicate<String> seen, Runnable change)
      throws Exception {
    var at = new CompletableFuture<Long>();
    var k = ByteSequence.from(key, StandardCharsets.UTF_8);
    try (var w =
        etcd.getWatchClient()
            .watch(
                k,
                WatchOption.DEFAULT,
                resp ->
                    resp.getEvents()
                        .forEach(
                            e -> {
                              if (seen.test(
                                  e.getKeyValue().getValue().toString(StandardCharsets.UTF_8))) {
                                at.complete(System.nanoTime());
                              }
                            }))) {
      Thread.sleep(5); // the watch is registered before the change
      long t0 = System.nanoTime();
      change.run();
      return (at.get(30, TimeUnit.SECONDS) - t0) / 1e6;
    }
  }

  /** "used 123456K" from {@code GC.heap_info}, in MB. */
  static String metric(int port, String name) throws Exception {
    var body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return String.join("\n", body.lines().filter(l -> l.startsWith(name)).toList());
  }

  static void awaitReady(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    var http = HttpClient.newHttpClient();
    while (true) {
      try {
        if (http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode()
            == 200) {
          return;
        }
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("operator not ready in 60 s", e);
        }
      }
      Thread.sleep(100);
    }
  }

  static double secs(long nanos) {
    return nanos / 1e9;
  }

  /** The Service {@code default/web} (port 80) that the benchmarks' routes point at. */
  static void createWebService(io.fabric8.kubernetes.client.KubernetesClient client) {
    client
        .resource(
            Serialization.unmarshal(
                "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n",
                Service.class))
        .create();
  }
}
