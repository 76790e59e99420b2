package io.archway.bench;

import static io.archway.bench.GatewayApiProbes.at;
import static io.archway.bench.GatewayApiProbes.awaitStatus;
import static io.archway.bench.GatewayApiProbes.bytes;
import static io.archway.bench.GatewayApiProbes.count;
import static io.archway.bench.GatewayApiProbes.startDataplane;
import static io.archway.bench.GatewayApiProbes.until;

import io.archway.bench.GatewayApiProbes.Dataplane;
import io.archway.bench.GatewayApiProbes.EtcdWatch;
import io.archway.bench.GatewayApiProbes.Statuses;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.Ports;
import io.archway.operator.testing.KubeMock;
import io.archway.operator.translate.GatewayApi;
import io.archway.operator.translate.HTTPRouteTranslator;
import io.archway.operator.translate.Manifests;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * The Gateway API benchmark: N HTTPRoutes on one Gateway. The operator runs as its own process
 * ({@code archway-operator.jar run}, {@code -Xmx256m}, control-plane discovery) against fabric8's
 * mock API server in CRUD mode in this process (the Gateway API CRDs created in it) and a real
 * etcd; a real dataplane process ({@code archway-dataplane.jar}) watches the same etcd and opens
 * the Gateway's listeners; a real HTTP upstream in this process answers.
 *
 * <p>The Gateway {@code edge} has an HTTP listener and an HTTPS listener (its certificate a
 * Secret); every HTTPRoute names the HTTP listener ({@code sectionName: http}), with a hostname,
 * one path and one Service backend. Measured:
 *
 * <ol>
 *   <li>time to Programmed: the N routes created at once (8 client threads) until every route is in
 *       etcd, every route's {@code status.parents} says Accepted and ResolvedRefs for Archway's
 *       controller at its generation, and the listener's {@code attachedRoutes} is N;
 *   <li>a change with N present: one route's path changed, timed from the API write to its status
 *       for the new generation and to its route in etcd (both: "programmed"); and new routes
 *       created one at a time, timed the same way;
 *   <li>change → traffic: one route's path changed, timed from the API write to the first 200 from
 *       the dataplane on the listener's port for the new path;
 *   <li>the operator's heap with N routes, after a full GC.
 * </ol>
 *
 * <p>Peers in the same run: the same creates in the mock API server with no operator watching; the
 * same routes translated and written straight to etcd by the writer (8 threads); a bare etcd put
 * seen by a watch; a route put straight into etcd until the dataplane serves it.
 *
 * <p>{@code bench/run gateway-api [routes...] [--changes=N] [--traffic=N]}
 */
public final class GatewayApiBench {

  private static final String NS = "default";

  private GatewayApiBench() {}

  /** The mock API server logs every request: kept quiet (a strong reference keeps the level). */
  private static final java.util.logging.Logger MOCK_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  public static void main(String[] args) {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    // The routes have hostnames: the requests say which.
    System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    BenchSupport.main(args, GatewayApiBench::run);
  }

  private static void run(String[] args) throws Exception {
    var counts = new ArrayList<Integer>();
    int changes = 100;
    int traffic = 50;
    for (var a : args) {
      if (a.startsWith("--changes=")) {
        changes = Integer.parseInt(a.substring("--changes=".length()));
      } else if (a.startsWith("--traffic=")) {
        traffic = Integer.parseInt(a.substring("--traffic=".length()));
      } else {
        counts.add(Integer.parseInt(a));
      }
    }
    if (counts.isEmpty()) {
      counts.add(1_000);
    }
    for (int n : counts) {
      System.out.printf("== %d HTTPRoutes on one Gateway ==%n", n);
      once(n, changes, traffic);
    }
  }

  private static void once(int n, int changes, int traffic) throws Exception {
    var dir = Files.createTempDirectory("archway-gateway-api-bench-");
    var upstream = BenchSupport.okUpstream();
    try (var etcd = new EtcdServer().start();
        var kube = new KubeMock();
        var etcdClient = Client.builder().endpoints(etcd.endpoint()).build()) {
      var client = kube.client();
      for (var crd :
          KubeMock.gatewayApiCrds(GatewayApi.BUNDLE_VERSION, KubeMock.GATEWAY_API_STANDARD)) {
        client.resource(crd).create();
      }
      setup(client, upstream.getAddress().getPort());
      var kubeconfig = dir.resolve("kubeconfig");
      Files.writeString(kubeconfig, OperatorBench.kubeconfig(client.getMasterUrl().toString()));

      // Peer for the API side: the same creates with no operator watching, then removed.
      long b0 = System.nanoTime();
      create(client, "baseline", 0, n);
      double apiAlone = OperatorBench.secs(System.nanoTime() - b0);
      client.resources(HTTPRoute.class).inNamespace("baseline").delete();
      System.out.printf(
          "peer: %d HTTPRoutes created in the mock API server with no operator: %.2f s%n",
          n, apiAlone);

      int listenerPort = Ports.free();
      gateway(client, listenerPort, Ports.free());
      int metricsPort = Ports.free();
      var operator =
          OperatorBench.startOperator(
              kubeconfig, etcd.endpoint(), metricsPort, dir, "--control-plane-discovery", "all");
      var dataplane = startDataplane(etcd.endpoint(), dir);
      var statuses = new Statuses(client, NS);
      var routesInEtcd = new EtcdWatch(etcdClient, "/apisix/routes/");
      try {
        OperatorBench.awaitReady(metricsPort);
        awaitStatus(dataplane.statusPort);
        until(
            "the Gateway's listeners in etcd", () -> count(etcdClient, "/apisix/listeners/") >= 2);
        System.out.printf(
            "operator pid %d (-Xmx256m), dataplane pid %d, listener port %d, etcd %s, mock API server %s%n",
            operator.pid(),
            dataplane.process.pid(),
            listenerPort,
            etcd.endpoint(),
            client.getMasterUrl());

        // (1) N routes at once.
        long t0 = System.nanoTime();
        create(client, NS, 0, n);
        long created = System.nanoTime();
        var inEtcd = new CompletableFuture<Long>();
        var accepted = new CompletableFuture<Long>();
        var attached = new CompletableFuture<Long>();
        var waits =
            List.of(
                CompletableFuture.runAsync(
                    () -> inEtcd.complete(at(() -> count(etcdClient, "/apisix/routes/") >= n))),
                CompletableFuture.runAsync(
                    () -> accepted.complete(at(() -> statuses.programmed() >= n))),
                CompletableFuture.runAsync(
                    () -> attached.complete(at(() -> attachedRoutes(client) == n))));
        CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new)).get();
        long programmed = Math.max(inEtcd.get(), Math.max(accepted.get(), attached.get()));
        System.out.printf(
            "%d HTTPRoutes: created in the API %.2f s; all in etcd %.2f s; all Accepted+ResolvedRefs %.2f s;"
                + " attachedRoutes = %d %.2f s; time to Programmed %.2f s (%.1f ms per route)%n",
            n,
            secs(created - t0),
            secs(inEtcd.get() - t0),
            secs(accepted.get() - t0),
            n,
            secs(attached.get() - t0),
            secs(programmed - t0),
            (programmed - t0) / 1e6 / n);
        double direct = directWrites(etcdClient, n, listenerPort);
        System.out.printf(
            "peer: the same %d routes written straight to etcd by the writer (8 threads): %.2f s;"
                + " operator (all in etcd) / direct = %.1fx%n",
            n, direct, secs(inEtcd.get() - t0) / direct);
        System.out.println(OperatorBench.metric(metricsPort, "archway_operator_reconciles_total"));

        // (2) Changes with N present: updates of existing routes, then creates of new ones.
        var update = new ArrayList<Double>();
        var updateEtcd = new ArrayList<Double>();
        var updateStatus = new ArrayList<Double>();
        var updateApi = new ArrayList<Double>();
        for (int k = 0; k < changes; k++) {
          int i = (int) ((k * 7919L) % n);
          var path = "/upd-" + k;
          var c = change(client, statuses, routesInEtcd, i, path, () -> update(client, i, path));
          update.add(c[0]);
          updateEtcd.add(c[1]);
          updateStatus.add(c[2]);
          updateApi.add(c[3]);
        }
        report("update", n, update, updateEtcd, updateStatus, updateApi);
        var create = new ArrayList<Double>();
        var createEtcd = new ArrayList<Double>();
        var createStatus = new ArrayList<Double>();
        var createApi = new ArrayList<Double>();
        for (int k = 0; k < changes / 2; k++) {
          int i = n + k;
          var c =
              change(
                  client,
                  statuses,
                  routesInEtcd,
                  i,
                  "/r-" + i,
                  () -> client.resource(route(NS, i, "/r-" + i)).create());
          create.add(c[0]);
          createEtcd.add(c[1]);
          createStatus.add(c[2]);
          createApi.add(c[3]);
        }
        report("create", n, create, createEtcd, createStatus, createApi);
        var bare = OperatorBench.bareEtcd(etcdClient, changes);
        System.out.printf(
            "peer: bare etcd put → watch event: p50 %.2f ms, p99 %.2f ms%n",
            BenchSupport.pct(bare, 50), BenchSupport.pct(bare, 99));

        // (3) Change → traffic.
        var served = new ArrayList<Double>();
        for (int k = 0; k < traffic; k++) {
          int i = (int) ((k * 104729L + 1) % n);
          var path = "/t-" + k;
          long w0 = System.nanoTime();
          update(client, i, path);
          dataplane.awaitServed("h" + i + ".example.com", listenerPort, path);
          served.add((System.nanoTime() - w0) / 1e6);
        }
        var peerServed = dataplanePeer(etcdClient, dataplane, listenerPort, traffic);
        System.out.printf(
            "change → traffic with %d routes, %d changes: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
                + " (target p99 < 200 ms)%n",
            n,
            traffic,
            BenchSupport.pct(served, 50),
            BenchSupport.pct(served, 99),
            BenchSupport.pct(served, 100));
        System.out.printf(
            "peer: a route put straight into etcd → served by the dataplane: p50 %.1f ms, p99 %.1f ms;"
                + " ratio p50 %.1fx, p99 %.1fx%n",
            BenchSupport.pct(peerServed, 50),
            BenchSupport.pct(peerServed, 99),
            BenchSupport.pct(served, 50) / BenchSupport.pct(peerServed, 50),
            BenchSupport.pct(served, 99) / BenchSupport.pct(peerServed, 99));

        // (4) Heap.
        var heap = BenchSupport.heapAfterGc(operator.pid());
        System.out.printf(
            "operator heap with %d HTTPRoutes, after a full GC: %.1f MB used (it runs with -Xmx256m)%n",
            n + changes / 2, heap / 1048576.0);
        System.out.println(OperatorBench.metric(metricsPort, "archway_operator_reconciles_total"));
      } finally {
        statuses.close();
        routesInEtcd.close();
        dataplane.close();
        operator.destroy();
        operator.waitFor(10, TimeUnit.SECONDS);
      }
    } finally {
      upstream.stop(0);
      ((java.util.concurrent.ExecutorService) upstream.getExecutor()).shutdownNow();
    }
  }

  // ---- the cluster ----------------------------------------------------------------------------

  /** The backend Service, its EndpointSlice (the upstream), the HTTPS listener's Secret. */
  private static void setup(KubernetesClient client, int upstreamPort) throws IOException {
    apply(
        client,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
            + "spec: {ports: [{name: http, port: 80}]}\n");
    apply(
        client,
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
            + "metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name:"
            + " web}}\naddressType: IPv4\nports: [{name: http, port: "
            + upstreamPort
            + "}]\nendpoints:\n- {addresses: [127.0.0.1], conditions: {ready: true}}\n");
    apply(client, GATEWAY_CLASS);
    var secret = (Secret) null;
    // A certificate and key that match, from the translator fixtures.
    var fixture =
        Path.of("operator/src/test/resources/translate/gw-https-referencegrant/input.yaml");
    for (var doc : Files.readString(fixture).split("(?m)^---\\s*$")) {
      if (doc.matches("(?s).*(?m:^kind: Secret$).*")) {
        secret = Serialization.unmarshal(doc, Secret.class);
      }
    }
    secret.getMetadata().setNamespace(NS);
    client.resource(secret).create();
  }

  private static void gateway(KubernetesClient client, int httpPort, int httpsPort) {
    apply(client, gatewayYaml(httpPort, httpsPort));
  }

  /** The Gateway {@code edge}: an HTTP listener (every namespace's routes) and an HTTPS one. */
  private static String gatewayYaml(int httpPort, int httpsPort) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: default}
        spec:
          gatewayClassName: archway
          listeners:
          - {name: http, port: HPORT, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
          - name: https
            port: SPORT
            protocol: HTTPS
            hostname: app.example.com
            tls: {certificateRefs: [{name: app-tls}]}
        """
        .replace("HPORT", "" + httpPort)
        .replace("SPORT", "" + httpsPort);
  }

  private static final String GATEWAY_CLASS =
      "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
          + "metadata: {name: archway}\nspec: {controllerName: archway.io/gateway-controller}\n";

  private static void apply(KubernetesClient client, String yaml) {
    client.resource((HasMetadata) Serialization.unmarshal(yaml)).create();
  }

  static HTTPRoute route(String ns, int i, String path) {
    return Serialization.unmarshal(
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: route-I, namespace: NS}
        spec:
          parentRefs: [{name: edge, namespace: default, sectionName: http}]
          hostnames: [hI.example.com]
          rules:
          - matches: [{path: {type: PathPrefix, value: PATH}}]
            backendRefs: [{name: web, namespace: default, port: 80}]
        """
            .replace("NS", ns)
            .replace("I", String.valueOf(i))
            .replace("PATH", path),
        HTTPRoute.class);
  }

  private static void create(KubernetesClient client, String ns, int from, int to)
      throws Exception {
    BenchSupport.parallel(from, to, i -> client.resource(route(ns, i, "/r-" + i)).create());
  }

  /** Changes route {@code i}'s path; returns the new generation. */
  private static long update(KubernetesClient client, int i, String path) {
    var r = client.resources(HTTPRoute.class).inNamespace(NS).withName("route-" + i).get();
    r.getSpec().getRules().get(0).getMatches().get(0).getPath().setValue(path);
    return client.resource(r).update().getMetadata().getGeneration();
  }

  /**
   * One change of route {@code i} to {@code path}: milliseconds from the API write to both its
   * status for the new generation and its route with that path in etcd, to etcd, to the status.
   */
  private static double[] change(
      KubernetesClient client,
      Statuses statuses,
      EtcdWatch etcd,
      int i,
      String path,
      Runnable write)
      throws Exception {
    var name = "route-" + i;
    var inEtcd = etcd.await(v -> v.contains("\"" + path + "\""));
    long w0 = System.nanoTime();
    write.run();
    long generation =
        client
            .resources(HTTPRoute.class)
            .inNamespace(NS)
            .withName(name)
            .get()
            .getMetadata()
            .getGeneration();
    var status = statuses.await(name, generation);
    var api = statuses.awaitSeen(name, generation);
    long e = inEtcd.get(5, TimeUnit.MINUTES);
    long s = status.get(5, TimeUnit.MINUTES);
    long a = api.get(5, TimeUnit.MINUTES);
    return new double[] {
      (Math.max(e, s) - w0) / 1e6, (e - w0) / 1e6, (s - w0) / 1e6, (a - w0) / 1e6
    };
  }

  private static void report(
      String what,
      int n,
      List<Double> both,
      List<Double> etcd,
      List<Double> status,
      List<Double> api) {
    System.out.printf(
        "%s with %d routes, %d changes → status and etcd: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
            + " (target p99 < 100 ms); → etcd p50 %.1f / p99 %.1f ms; → status p50 %.1f / p99 %.1f ms%n",
        what,
        n,
        both.size(),
        BenchSupport.pct(both, 50),
        BenchSupport.pct(both, 99),
        BenchSupport.pct(both, 100),
        BenchSupport.pct(etcd, 50),
        BenchSupport.pct(etcd, 99),
        BenchSupport.pct(status, 50),
        BenchSupport.pct(status, 99));
    System.out.printf(
        "peer: the same %ss → the mock API server's own watch event: p50 %.1f ms, p99 %.1f ms%n",
        what, BenchSupport.pct(api, 50), BenchSupport.pct(api, 99));
  }

  private static int attachedRoutes(KubernetesClient client) {
    var gw = client.resources(Gateway.class).inNamespace(NS).withName("edge").get();
    if (gw == null || gw.getStatus() == null || gw.getStatus().getListeners() == null) {
      return -1;
    }
    return gw.getStatus().getListeners().stream()
        .filter(l -> "http".equals(l.getName()))
        .mapToInt(l -> l.getAttachedRoutes() == null ? -1 : l.getAttachedRoutes())
        .findFirst()
        .orElse(-1);
  }

  // ---- peers ----------------------------------------------------------------------------------

  /** The same routes translated here and written straight to etcd (another prefix). */
  private static double directWrites(Client etcd, int n, int listenerPort) throws Exception {
    var refs = new Manifests(NS);
    var file = Files.createTempFile("gateway", ".yaml");
    // The same Gateway (its HTTPS listener's Secret left out: the routes name the HTTP one).
    Files.writeString(
        file,
        GATEWAY_CLASS
            + "---\n"
            + gatewayYaml(listenerPort, Ports.free())
            + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
            + "spec: {ports: [{name: http, port: 80}]}\n");
    refs.read(file);
    var translated =
        IntStream.range(0, n)
            .mapToObj(
                i -> {
                  var r = route(NS, i, "/r-" + i);
                  r.getMetadata().setUid("u" + i);
                  r.getMetadata().setCreationTimestamp("2026-12-03T00:00:00Z");
                  return HTTPRouteTranslator.translate(r, refs);
                })
            .toList();
    var sink = new EtcdConfigSink(etcd, "/direct", Duration.ofSeconds(10));
    long t0 = System.nanoTime();
    BenchSupport.parallel(
        0,
        n,
        i -> {
          var owner = new Owner("HTTPRoute", NS, "route-" + i, "u" + i);
          try {
            for (var item : translated.get(i).items()) {
              sink.putIfChanged(item.kind(), item.object(), owner);
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    return OperatorBench.secs(System.nanoTime() - t0);
  }

  /**
   * The dataplane's own share: a copy of route 0's etcd value with a new id and path put straight
   * into etcd, timed until the dataplane serves it.
   */
  private static List<Double> dataplanePeer(
      Client etcd, Dataplane dataplane, int listenerPort, int n) throws Exception {
    var kvs =
        etcd.getKVClient()
            .get(bytes("/apisix/routes/"), GetOption.builder().isPrefix(true).withLimit(50).build())
            .get()
            .getKvs();
    var template =
        kvs.stream()
            .map(kv -> kv.getValue().toString(StandardCharsets.UTF_8))
            .filter(v -> v.contains("\"/r-0\""))
            .findFirst()
            .orElse(kvs.get(0).getValue().toString(StandardCharsets.UTF_8));
    var json = (com.fasterxml.jackson.databind.node.ObjectNode) mapper().readTree(template);
    var out = new ArrayList<Double>();
    for (int k = 0; k < n; k++) {
      var id = "peer-" + k;
      var path = "/p-" + k;
      json.put("id", id);
      json.putArray("uris").add(path).add(path + "/*");
      json.remove("uri");
      // Not the operator's: no owner labels.
      json.remove("labels");
      json.putArray("hosts").add("peer.example.com");
      var value = mapper().writeValueAsString(json);
      long t0 = System.nanoTime();
      etcd.getKVClient().put(bytes("/apisix/routes/" + id), bytes(value)).get();
      dataplane.awaitServed("peer.example.com", listenerPort, path);
      out.add((System.nanoTime() - t0) / 1e6);
    }
    return out;
  }

  private static com.fasterxml.jackson.databind.ObjectMapper mapper() {
    return io.archway.model.ModelJson.mapper();
  }

  private static double secs(long nanos) {
    return OperatorBench.secs(nanos);
  }
}
