package io.archway.bench;

import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The Admin API benchmark (issue 22): with N routes present, the time from an Admin API {@code PUT}
 * of a new route to the first 200 through it on the data port, p50 and p99 (target p99 < 50 ms).
 * The dataplane is its jar, as its own process.
 *
 * <ul>
 *   <li><b>etcd mode</b> ({@code --etcd}, a real etcd on random loopback ports): the Admin API's
 *       PUT, interleaved with the APISIX-style baseline, the same route JSON put straight into etcd
 *       by a jetcd client and timed until the dataplane serves it (its watch applies it). A bare
 *       jetcd watcher in this process gives the floor: put → watch event.
 *   <li><b>standalone mode</b> ({@code --standalone FILE} with the admin port on): the Admin API's
 *       PUT only (there is no etcd to compare with).
 * </ul>
 *
 * <p>Each iteration creates a new route, polls {@code GET} on the data port back to back until it
 * answers 200 (the first GET is sent as soon as the write's answer is in), then deletes the route
 * through the Admin API (untimed), so every PUT meets the same N routes. Every tenth PUT, the
 * dataplane's {@code archway_config_compile_seconds} is read after it (its metrics page is heavy
 * with 10,000 routes, so not after each).
 *
 * <p>{@code bench/run admin [routes] [puts] [modes]}: defaults 10,000 routes, 1,000 puts per
 * measure, {@code etcd,standalone}.
 */
public final class AdminBench {

  private static final String KEY = "bench-admin-key-0123456789abcdef";
  private static final Pattern ROUTES_ITEMS =
      Pattern.compile("archway_config_items\\{kind=\"routes\"} (\\d+)");
  private static final Pattern COMPILE =
      Pattern.compile("archway_config_compile_seconds ([0-9.Ee-]+)");

  private AdminBench() {}

  public static void main(String[] args) {
    BenchSupport.main(args, AdminBench::run);
  }

  private static void run(String[] args) throws Exception {
    int routes = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int puts = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
    var modes = List.of((args.length > 2 ? args[2] : "etcd,standalone").split(","));
    int warmup = Math.min(100, Math.max(10, puts / 10));
    var dir = Files.createTempDirectory("archway-admin-bench-");
    var upstream = BenchSupport.okUpstream();
    int up = upstream.getAddress().getPort();
    System.out.printf(
        "%d routes present, %d puts per measure after %d warm-up puts, modes %s, %d cores%n",
        routes, puts, warmup, modes, Runtime.getRuntime().availableProcessors());
    try {
      if (modes.contains("etcd")) {
        etcdMode(dir, routes, puts, warmup, up);
      }
      if (modes.contains("standalone")) {
        standaloneMode(dir, routes, puts, warmup, up);
      }
    } finally {
      upstream.stop(0);
    }
    // Kept after a failure: the dataplanes' logs are there.
    BenchSupport.deleteTree(dir);
  }

  // ---- the two modes ------------------------------------------------------------------------

  private static void etcdMode(Path dir, int routes, int puts, int warmup, int up)
      throws Exception {
    try (var etcd = new EtcdServer().start();
        var client = Client.builder().endpoints(etcd.endpoint()).build()) {
      long s0 = System.nanoTime();
      seedEtcd(client, routes, up);
      System.out.printf(
          "%n== etcd mode: etcd %s, %d routes seeded in %.1f s%n",
          etcd.endpoint(), routes, (System.nanoTime() - s0) / 1e9);
      // The floor: a bare jetcd watch on the routes, timed from the same puts.
      Map<String, Long> watched = new ConcurrentHashMap<>();
      var prefix = bytes("/apisix/routes/");
      try (var watcher =
          client
              .getWatchClient()
              .watch(
                  prefix,
                  WatchOption.builder().isPrefix(true).build(),
                  Watch.listener(
                      res -> {
                        long now = System.nanoTime();
                        for (var ev : res.getEvents()) {
                          if (ev.getEventType() == WatchEvent.EventType.PUT) {
                            watched.putIfAbsent(
                                ev.getKeyValue().getKey().toString(StandardCharsets.UTF_8), now);
                          }
                        }
                      }))) {
        var dp = new Dataplane(dir, "etcd");
        dp.start(List.of("--etcd", etcd.endpoint()));
        try {
          dp.awaitRoutes(routes);
          var admin = new Samples("Admin API PUT -> served (first 200)");
          var answered = new Samples("  of which: the PUT's answer");
          var adminWatch = new Samples("  of which: etcd put -> bare watch event");
          var etcdServed = new Samples("etcd put -> served (APISIX-style baseline)");
          var etcdWatch = new Samples("etcd put -> bare jetcd watch event (floor)");
          var compile = new Samples("dataplane compile of a PUT (every 10th)");
          var stats = new Stats();
          var kv = client.getKVClient();
          for (int n = -warmup; n < puts; n++) {
            boolean timed = n >= 0;
            // Admin API PUT, then GETs until 200.
            var id = "a" + (n + warmup);
            long t0 = System.nanoTime();
            var put = dp.put(id, route(id, up));
            long t1 = System.nanoTime();
            int gets = dp.awaitServed(id, 200);
            long t2 = System.nanoTime();
            if (timed) {
              admin.add(t2 - t0);
              answered.add(t1 - t0);
              adminWatch.add(awaitWatched(watched, "/apisix/routes/" + id) - t0);
              stats.count(put, gets);
              if (n % 10 == 0) {
                compile.add(dp.lastCompileNanos());
              }
            }
            dp.delete(id);
            // The same route JSON straight into etcd, as APISIX's clients write it.
            var bid = "e" + (n + warmup);
            long e0 = System.nanoTime();
            kv.put(bytes("/apisix/routes/" + bid), bytes(stored(bid, up))).get();
            dp.awaitServed(bid, 200);
            long e2 = System.nanoTime();
            if (timed) {
              etcdServed.add(e2 - e0);
              var w = awaitWatched(watched, "/apisix/routes/" + bid);
              etcdWatch.add(w - e0);
            }
            dp.delete(bid);
          }
          System.out.println();
          admin.print();
          answered.print();
          adminWatch.print();
          etcdServed.print();
          etcdWatch.print();
          compile.print();
          stats.print(puts);
          verdict("etcd", admin, etcdServed);
        } finally {
          dp.close();
        }
      }
    }
  }

  private static void standaloneMode(Path dir, int routes, int puts, int warmup, int up)
      throws Exception {
    var file = dir.resolve("apisix.yaml");
    var yaml = new StringBuilder("routes:\n");
    for (int i = 0; i < routes; i++) {
      // JSON is YAML: one flow mapping per route.
      yaml.append("  - ").append(seedRoute(i, up)).append('\n');
    }
    Files.writeString(file, yaml.append("#END\n"));
    System.out.printf(
        "%n== standalone mode: %s, %d routes (%.1f MiB)%n",
        file, routes, Files.size(file) / 1048576.0);
    var dp = new Dataplane(dir, "standalone");
    dp.start(List.of("--standalone", file.toString()));
    try {
      dp.awaitRoutes(routes);
      var admin = new Samples("Admin API PUT -> served (first 200)");
      var answered = new Samples("  of which: the PUT's answer");
      var compile = new Samples("dataplane compile of a PUT (every 10th)");
      var stats = new Stats();
      for (int n = -warmup; n < puts; n++) {
        var id = "a" + (n + warmup);
        long t0 = System.nanoTime();
        var put = dp.put(id, route(id, up));
        long t1 = System.nanoTime();
        int gets = dp.awaitServed(id, 200);
        long t2 = System.nanoTime();
        if (n >= 0) {
          admin.add(t2 - t0);
          answered.add(t1 - t0);
          stats.count(put, gets);
          if (n % 10 == 0) {
            compile.add(dp.lastCompileNanos());
          }
        }
        dp.delete(id);
      }
      System.out.println();
      admin.print();
      answered.print();
      compile.print();
      stats.print(puts);
      verdict("standalone", admin, null);
    } finally {
      dp.close();
    }
  }

  private static void verdict(String mode, Samples admin, Samples baseline) {
    double p99 = admin.pct(99) / 1e6;
    System.out.printf(
        "%s: target p99 < 50 ms: %s (p99 %.2f ms)%n", mode, p99 < 50 ? "MET" : "MISSED", p99);
    if (baseline != null) {
      System.out.printf(
          "%s: Admin API / baseline: p50 %.2f, p99 %.2f%n",
          mode,
          (double) admin.pct(50) / baseline.pct(50),
          (double) admin.pct(99) / baseline.pct(99));
    }
  }

  private static long awaitWatched(Map<String, Long> watched, String key) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!watched.containsKey(key)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no watch event for " + key + " in 10 s");
      }
      Thread.onSpinWait();
    }
    return watched.get(key);
  }

  // ---- routes -------------------------------------------------------------------------------

  /**
   * The routes already present: a host, methods, a vars match, two plugins and an inline upstream,
   * as real configs have (no active health checks: 10,000 checkers would load the machine). About
   * 280 bytes each: the standalone file's YAML reader takes 3 MiB at most (10,000 routes fit).
   */
  static String seedRoute(int i, int up) {
    return """
        {"id":"s%d","uri":"/api/v1/svc%d/*","hosts":["svc%d.example.com"],"methods":["GET","POST"],\
        "vars":[["http_x_tenant","==","t%d"]],"plugins":{"limit-count":{"count":100,"time_window":60},\
        "proxy-rewrite":{"regex_uri":["^/api/(.*)","/$1"]}},"upstream":{"nodes":{"127.0.0.1:%d":1}}}"""
        .formatted(i, i, i, i % 50, up);
  }

  /** The route each iteration creates: a path of its own to one upstream. */
  static String route(String id, int up) {
    return """
        {"uri":"/bench/%s","methods":["GET"],"upstream":{"type":"roundrobin",\
        "nodes":{"127.0.0.1:%d":1}},"labels":{"bench":"admin"}}"""
        .formatted(id, up);
  }

  /** The same route as the Admin API stores it (id and times filled in). */
  static String stored(String id, int up) {
    long now = System.currentTimeMillis() / 1000;
    var json = route(id, up);
    return json.substring(0, json.length() - 1)
        + ",\"id\":\""
        + id
        + "\",\"create_time\":"
        + now
        + ",\"update_time\":"
        + now
        + "}";
  }

  private static void seedEtcd(Client client, int routes, int up) throws Exception {
    var kv = client.getKVClient();
    for (int start = 0; start < routes; start += 100) {
      var ops = new ArrayList<Op>();
      for (int i = start; i < Math.min(routes, start + 100); i++) {
        ops.add(Op.put(bytes("/apisix/routes/s" + i), bytes(seedRoute(i, up)), PutOption.DEFAULT));
      }
      kv.txn().Then(ops.toArray(Op[]::new)).commit().get();
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  // ---- the dataplane ------------------------------------------------------------------------

  /** The dataplane's jar as its own process, and the calls the benchmark makes to it. */
  private static final class Dataplane implements AutoCloseable {

    private final Path dir;
    private final String name;
    private final HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final int httpPort = Ports.free();
    private final int statusPort = Ports.free();
    private final int adminPort = Ports.free();
    private Process process;

    Dataplane(Path dir, String name) {
      this.dir = dir;
      this.name = name;
    }

    void start(List<String> source) throws IOException {
      var args = new ArrayList<>(source);
      args.addAll(BenchSupport.dataplaneListeners(httpPort, statusPort));
      args.addAll(List.of("--admin-port", "" + adminPort, "--admin-key", KEY));
      process =
          JarProcess.start(
              Path.of("dataplane/target/archway-dataplane.jar"),
              dir.resolve("dataplane-" + name + ".log"),
              BenchSupport.jvm("-Xms1g", "-Xmx1g", "-XX:+UseG1GC"),
              args);
    }

    /** Until the dataplane serves {@code routes} routes (its metrics say so). */
    void awaitRoutes(int routes) throws Exception {
      long t0 = System.nanoTime();
      long deadline = t0 + TimeUnit.MINUTES.toNanos(5);
      while (true) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "the dataplane exited; see " + dir.resolve("dataplane-" + name + ".log"));
        }
        try {
          var m = ROUTES_ITEMS.matcher(metrics());
          if (m.find() && Integer.parseInt(m.group(1)) >= routes) {
            System.out.printf(
                "dataplane (pid %d) serves %d routes, %.1f s after its start%n",
                process.pid(), routes, (System.nanoTime() - t0) / 1e9);
            return;
          }
        } catch (IOException e) {
          // not up yet
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the dataplane did not load " + routes + " routes");
        }
        Thread.sleep(100);
      }
    }

    String metrics() throws Exception {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statusPort + "/metrics"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }

    long lastCompileNanos() throws Exception {
      var m = COMPILE.matcher(metrics());
      return m.find() ? (long) (Double.parseDouble(m.group(1)) * 1e9) : 0;
    }

    HttpResponse<String> put(String id, String json) throws Exception {
      var res =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + adminPort + "/apisix/admin/routes/" + id))
                  .header("X-API-KEY", KEY)
                  .PUT(HttpRequest.BodyPublishers.ofString(json))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (res.statusCode() != 201) {
        throw new IllegalStateException("PUT " + id + ": " + res.statusCode() + " " + res.body());
      }
      return res;
    }

    void delete(String id) throws Exception {
      var res =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + adminPort + "/apisix/admin/routes/" + id))
                  .header("X-API-KEY", KEY)
                  .DELETE()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (res.statusCode() != 200) {
        throw new IllegalStateException(
            "DELETE " + id + ": " + res.statusCode() + " " + res.body());
      }
      // Gone from this node too before the next iteration (the answer waits for that in both
      // modes; this checks it, and catches a DELETE answered before it was applied).
      awaitServed(id, 404);
    }

    /** GETs back to back until {@code status}; how many it took. */
    int awaitServed(String id, int status) throws Exception {
      var req =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/bench/" + id))
              .timeout(Duration.ofSeconds(5))
              .build();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      for (int n = 1; ; n++) {
        if (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == status) {
          return n;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("/bench/" + id + " never answered " + status);
        }
      }
    }

    @Override
    public void close() throws Exception {
      if (process != null) {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    }
  }

  // ---- figures ------------------------------------------------------------------------------

  private static final class Samples {
    private final String name;
    private final List<Long> nanos = new ArrayList<>();

    Samples(String name) {
      this.name = name;
    }

    void add(long n) {
      nanos.add(n);
    }

    long pct(double p) {
      var s = nanos.stream().sorted().toList();
      int i = (int) Math.ceil(p / 100 * s.size()) - 1;
      return s.get(Math.max(0, Math.min(i, s.size() - 1)));
    }

    void print() {
      if (nanos.isEmpty()) {
        System.out.printf("%-44s (no samples)%n", name);
        return;
      }
      System.out.printf(
          "%-44s p50 %6.2f  p90 %6.2f  p99 %6.2f  max %7.2f ms  (n=%d)%n",
          name, pct(50) / 1e6, pct(90) / 1e6, pct(99) / 1e6, pct(100) / 1e6, nanos.size());
    }
  }

  /** How the Admin API's PUTs went: served on the answer, or marked not applied. */
  private static final class Stats {
    int servedOnFirstGet;
    int notApplied;
    int maxGets;

    void count(HttpResponse<String> put, int gets) {
      if (gets == 1) {
        servedOnFirstGet++;
      }
      maxGets = Math.max(maxGets, gets);
      if (put.headers().firstValue("X-Archway-Applied").orElse("").equals("false")) {
        notApplied++;
      }
    }

    void print(int puts) {
      System.out.printf(
          "Admin API PUTs served by the first GET after the answer: %d of %d (most GETs needed:"
              + " %d); answered with X-Archway-Applied: false: %d%n",
          servedOnFirstGet, puts, maxGets, notApplied);
    }
  }
}
