package io.archway.bench;

import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.route.RouteEntry;
import io.archway.dataplane.route.Router;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The scale rows of the performance issue's table, one row per target:
 *
 * <ol>
 *   <li>{@code routes-rps}: RPS through a dataplane holding N routes (default 100,000) over RPS
 *       through one holding only the route measured (target >= 0.95). Both run standalone side by
 *       side and wrk alternates between them; the routes look like real ones (hosts and prefixes,
 *       exact paths, methods, vars, parameter paths) and the measured route is second on its path,
 *       after a higher-priority route that does not match. Plus the router's own match cost at 1
 *       and N routes, in this process.
 *   <li>{@code etcd-put}: with N routes in a real etcd, an etcd put of one changed route until the
 *       dataplane serves the change (a GET on the new path answers 200), p50/p99 (target p99 < 50
 *       ms).
 *   <li>{@code rss}: that etcd-fed dataplane's RSS with N routes (target < 1 GB), run with the
 *       chart's JVM options in a 1 GiB pod ({@code -XX:MaxRAM=1g -XX:MaxRAMPercentage=60
 *       -XX:+UseParallelGC}).
 *   <li>{@code idle-conns}: RSS growth of a dataplane while C (default 10,000) idle keep-alive
 *       connections, each having made one request, are open (target < 100 MB).
 *   <li>{@code start}: process start to {@code /readyz} 200 with S routes (default 10,000)
 *       standalone (target < 2 s), without and with an AppCDS archive, alternated.
 *   <li>{@code operator}: O ApisixRoutes (default 10,000) created at once until all are {@code
 *       Programmed=True} (target < 60 s), and the operator's RSS (target < 1 GB). The API server is
 *       fabric8's Kubernetes mock server in CRUD mode (no real kube-apiserver here); etcd is real.
 * </ol>
 *
 * <p>{@code bench/run scale [routes] [puts] [connections] [startRoutes] [operatorRoutes]
 * [--rows=routes-rps,etcd-put,idle-conns,start,operator] [--seconds=5] [--rounds=3] [--jar=PATH]}
 */
public final class ScaleBench {

  // The dataplane under test (--jar=PATH: another build's, for an A/B).
  private static Path jar = Path.of("dataplane/target/archway-dataplane.jar");

  /** The chart's {@code dataplane.javaOpts} in its {@code 1Gi} limit, and Jib's flag. */
  static final List<String> SHIPPED =
      List.of(
          "-XX:MaxRAM=1g",
          "-XX:MaxRAMPercentage=60",
          "-XX:+UseParallelGC",
          "-XX:+ExitOnOutOfMemoryError");

  private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");

  private final Map<String, String> rows = new LinkedHashMap<>();
  private Path dir;
  private int seconds = 5;
  private int rounds = 3;

  private ScaleBench() {}

  public static void main(String[] args) {
    // The probes send Host (set before java.net.http reads it).
    System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    BenchSupport.main(args, a -> new ScaleBench().run(a));
  }

  private void run(String[] args) throws Exception {
    var positional = new ArrayList<Integer>();
    var only = List.of("routes-rps", "etcd-put", "idle-conns", "start", "operator");
    for (var a : args) {
      if (a.startsWith("--rows=")) {
        only = List.of(a.substring(7).split(","));
      } else if (a.startsWith("--seconds=")) {
        seconds = Integer.parseInt(a.substring(10));
      } else if (a.startsWith("--jar=")) {
        jar = Path.of(a.substring(6));
      } else if (a.startsWith("--rounds=")) {
        rounds = Integer.parseInt(a.substring(9));
      } else if (a.matches("\\d+")) {
        positional.add(Integer.parseInt(a));
      } else {
        System.err.println(
            "usage: bench/run scale [routes] [puts] [connections] [startRoutes] [operatorRoutes]"
                + " [--rows=routes-rps,etcd-put,idle-conns,start,operator] [--seconds=5]"
                + " [--rounds=3] [--jar=PATH]");
        System.exit(2);
      }
    }
    int routes = arg(positional, 0, 100_000);
    int puts = arg(positional, 1, 200);
    int conns = arg(positional, 2, 10_000);
    int startRoutes = arg(positional, 3, 10_000);
    int operatorRoutes = arg(positional, 4, 10_000);
    if (routes < 10_000) {
      // The measured route is number 7,777 and the puts move routes from 1,000 to routes - 1,000.
      System.err.println("bench scale: routes must be at least 10000, not " + routes);
      System.exit(2);
    }
    dir = Files.createTempDirectory("archway-scale-bench-");
    System.out.printf(
        "scale bench: %d routes, %d puts, %d connections, start with %d routes, %d ApisixRoutes;"
            + " rows %s; %d cores; load %s%n",
        routes,
        puts,
        conns,
        startRoutes,
        operatorRoutes,
        only,
        Runtime.getRuntime().availableProcessors(),
        Files.readString(Path.of("/proc/loadavg")).trim());
    try (var upstream = Nginx.start(dir)) {
      if (only.contains("routes-rps")) {
        routesRps(upstream.port, routes);
      }
      if (only.contains("etcd-put")) {
        etcdPut(upstream.port, routes, puts);
      }
      if (only.contains("idle-conns")) {
        idleConnections(upstream.port, conns);
      }
      if (only.contains("start")) {
        start(upstream.port, startRoutes);
      }
    }
    if (only.contains("operator")) {
      ScaleOperator.run(dir, operatorRoutes, rows);
    }
    // Each row's value is "figure | target | met"; the harness (bench/run all) takes the ROW lines.
    System.out.printf("%n| scale row | figure | target | met |%n|---|---|---|---|%n");
    rows.forEach((k, v) -> System.out.printf("| %s | %s |%n", k, v));
    rows.forEach((k, v) -> System.out.println("ROW|" + k + "|" + v.replace(" | ", "|")));
    BenchSupport.deleteTree(dir);
  }

  private static int arg(List<Integer> xs, int i, int dflt) {
    return xs.size() > i ? xs.get(i) : dflt;
  }

  // ---- the routes ---------------------------------------------------------------------------

  /** The route every measured request hits: second on its path, on a host shared with others. */
  static final int TARGET = 7_777;

  static String host(int i) {
    return "h" + (i % 500) + ".example.com";
  }

  /**
   * Route {@code i} of a realistic mix: most are a host and a prefix; one in ten an exact path, a
   * prefix with methods, with vars, a parameter path, or a prefix on any host.
   */
  static String route(int i, String uri) {
    var common = "\"id\":\"r" + i + "\",\"upstream_id\":\"up\"";
    return switch (i % 10) {
      case 1 ->
          "{%s,\"uri\":\"%s\",\"host\":\"%s\"}"
              .formatted(common, uri == null ? "/svc" + i + "/status" : uri, host(i));
      case 2 ->
          "{%s,\"uri\":\"%s\",\"hosts\":[\"%s\"],\"methods\":[\"GET\",\"POST\"]}"
              .formatted(common, uri == null ? "/svc" + i + "/*" : uri, host(i));
      case 3 ->
          "{%s,\"uri\":\"%s\",\"host\":\"%s\",\"vars\":[[\"http_x_tenant\",\"==\",\"t%d\"]]}"
              .formatted(common, uri == null ? "/svc" + i + "/*" : uri, host(i), i % 50);
      case 4 ->
          "{%s,\"uri\":\"%s\",\"host\":\"%s\"}"
              .formatted(common, uri == null ? "/svc" + i + "/users/:id" : uri, host(i));
      case 5 ->
          "{%s,\"uri\":\"%s\",\"methods\":[\"GET\"]}"
              .formatted(common, uri == null ? "/any" + i + "/*" : uri);
      default ->
          "{%s,\"uri\":\"%s\",\"host\":\"%s\"}"
              .formatted(common, uri == null ? "/svc" + i + "/*" : uri, host(i));
    };
  }

  /**
   * The route set: {@code n} routes, of which the target (a plain host + prefix route) and, on the
   * same path and host, a higher-priority POST-only route that a GET passes over.
   */
  static List<String> routes(int n) {
    var out = new ArrayList<String>(n + 1);
    for (int i = 0; i < n; i++) {
      if (i != TARGET) {
        out.add(route(i, null));
      }
    }
    out.add(target());
    if (n > 1) {
      out.add(
          "{\"id\":\"shadow\",\"uri\":\"/svc%d/*\",\"host\":\"%s\",\"priority\":10,\"methods\":[\"POST\"],\"upstream_id\":\"up\"}"
              .formatted(TARGET, host(TARGET)));
    }
    return out;
  }

  static String target() {
    return "{\"id\":\"r%d\",\"uri\":\"/svc%d/*\",\"host\":\"%s\",\"upstream_id\":\"up\"}"
        .formatted(TARGET, TARGET, host(TARGET));
  }

  static final String TARGET_PATH = "/svc" + TARGET + "/items";

  static Path standalone(Path dir, String name, List<String> routes, int upstreamPort)
      throws IOException {
    var f = dir.resolve(name + ".yaml");
    try (var w = Files.newBufferedWriter(f)) {
      w.write("routes:\n");
      for (var r : routes) {
        w.write("  - ");
        w.write(r);
        w.write('\n');
      }
      w.write("upstreams:\n  - {\"id\":\"up\",\"nodes\":{\"127.0.0.1:" + upstreamPort + "\":1}}\n");
      w.write("#END\n");
    }
    return f;
  }

  // ---- 1: RPS with N routes / with 1 ---------------------------------------------------------

  private void routesRps(int upstream, int n) throws Exception {
    System.out.printf("%n== routes-rps: %d routes against 1, wrk -t1 -c50%n", n);
    matchCost(n);
    var one = standalone(dir, "one", List.of(target()), upstream);
    var many = standalone(dir, "many", routes(n), upstream);
    try (var a = Dataplane.start(dir, "one", SHIPPED, "--standalone", one.toString());
        var b = Dataplane.start(dir, "many", SHIPPED, "--standalone", many.toString())) {
      a.awaitReady(120);
      b.awaitReady(300);
      a.awaitServed(host(TARGET), TARGET_PATH, 200, 30);
      b.awaitServed(host(TARGET), TARGET_PATH, 200, 30);
      // Not pinned: on a shared 2-core machine, a proxy pinned with its JIT and GC threads to one
      // core served a tenth of what it serves unpinned; both proxies meet the same machine.
      var ratios = new ArrayList<Double>();
      for (int r = 0; r <= rounds; r++) {
        // Round 0 warms both up and is not counted; the order alternates.
        boolean oneFirst = r % 2 == 0;
        double first = wrk(oneFirst ? a : b, r == 0 ? 10 : seconds);
        double second = wrk(oneFirst ? b : a, r == 0 ? 10 : seconds);
        double rpsOne = oneFirst ? first : second;
        double rpsMany = oneFirst ? second : first;
        System.out.printf(
            "round %d%s: 1 route %.0f RPS, %d routes %.0f RPS, ratio %.3f%n",
            r, r == 0 ? " (warm-up)" : "", rpsOne, n, rpsMany, rpsMany / rpsOne);
        if (r > 0) {
          ratios.add(rpsMany / rpsOne);
        }
      }
      var s = ratios.stream().sorted().toList();
      rows.put(
          "%,d routes: RPS / 1 route".formatted(n),
          "%.3f (median of %d, spread %.3f–%.3f) | >= 0.95 | %s"
              .formatted(
                  BenchSupport.pct(s, 50),
                  s.size(),
                  s.get(0),
                  s.get(s.size() - 1),
                  BenchSupport.pct(s, 50) >= 0.95));
      System.out.printf("RSS: 1 route %d MB, %d routes %d MB%n", a.rssMb(), n, b.rssMb());
    }
  }

  private static double wrk(Dataplane d, int secs) throws Exception {
    var cmd =
        List.of(
            "wrk",
            "-t1",
            "-c50",
            "-d" + secs + "s",
            "-H",
            "Host: " + host(TARGET),
            "http://127.0.0.1:" + d.httpPort + TARGET_PATH);
    var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    var m = RPS.matcher(out);
    if (!m.find() || out.contains("Non-2xx")) {
      throw new IllegalStateException("wrk: " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  /** The router alone: ns per match of the measured request, 1 route against n. */
  private static void matchCost(int n) throws Exception {
    var small = router(List.of(target()));
    var entries = entries(routes(n));
    var large = Router.build(entries);
    var headers = new DefaultHttpHeaders().set("Host", host(TARGET));
    // Each match gets a fresh request, as the server makes one per request.
    Runnable one =
        () -> check(small.match(RequestVars.of("GET", TARGET_PATH, headers, "10.0.0.1")));
    Runnable many =
        () -> check(large.match(RequestVars.of("GET", TARGET_PATH, headers, "10.0.0.1")));
    // Alternated, the best of 10 rounds each (the machine is shared: the minimum is the cost).
    double a = Double.MAX_VALUE;
    double b = Double.MAX_VALUE;
    for (int r = 0; r < 10; r++) {
      a = Math.min(a, nsPerOp(one));
      b = Math.min(b, nsPerOp(many));
    }
    System.out.printf(
        "router match of the measured request (building it included), best of 10: 1 route %.0f ns,"
            + " %d routes %.0f ns, ratio %.2f%n",
        a, n, b, b / a);
    // One changed route at n: Router.update against build.
    var changed = entry(route(TARGET + 10, "/moved/*"));
    var old = entries.stream().filter(e -> e.id().equals(changed.id())).toList();
    long u = 0;
    for (int r = 0; r < 50; r++) {
      long t0 = System.nanoTime();
      large.update(old, List.of(changed));
      u = r == 0 ? Long.MAX_VALUE : Math.min(u, System.nanoTime() - t0);
    }
    long t0 = System.nanoTime();
    Router.build(entries);
    System.out.printf(
        "router update of 1 route at %d routes: %.2f ms (best of 50); full build %.0f ms%n",
        n, u / 1e6, (System.nanoTime() - t0) / 1e6);
  }

  private static void check(RouteEntry<String> hit) {
    if (hit == null || !hit.target().equals("r" + TARGET)) {
      throw new IllegalStateException("matched " + (hit == null ? "nothing" : hit.target()));
    }
  }

  private static double nsPerOp(Runnable op) {
    int n = 200_000;
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      op.run();
    }
    return (System.nanoTime() - t0) / (double) n;
  }

  private static Router<String> router(List<String> json) throws Exception {
    return Router.build(entries(json));
  }

  private static List<RouteEntry<String>> entries(List<String> json) throws Exception {
    var out = new ArrayList<RouteEntry<String>>(json.size());
    for (var j : json) {
      out.add(entry(j));
    }
    return out;
  }

  private static RouteEntry<String> entry(String json) throws Exception {
    var route =
        (Route) ModelJson.read(Kind.ROUTES, json.getBytes(StandardCharsets.UTF_8), null, "b");
    var hosts =
        route.host() != null
            ? List.of(route.host())
            : route.hosts() == null ? List.<String>of() : route.hosts();
    return new RouteEntry<>(route.id(), route, hosts, route.id());
  }

  // ---- 2 and 3: etcd put -> served, RSS ------------------------------------------------------

  private void etcdPut(int upstream, int n, int puts) throws Exception {
    try (var etcd = new EtcdServer().start();
        var client = Client.builder().endpoints(etcd.endpoint()).build()) {
      var kv = client.getKVClient();
      long s0 = System.nanoTime();
      kv.put(
              bytes("/apisix/upstreams/up"),
              bytes("{\"id\":\"up\",\"nodes\":{\"127.0.0.1:" + upstream + "\":1}}"))
          .get();
      var all = routes(n);
      for (int from = 0; from < all.size(); from += 100) {
        var ops = new ArrayList<Op>();
        for (var r : all.subList(from, Math.min(all.size(), from + 100))) {
          var id = r.substring(7, r.indexOf('"', 7));
          ops.add(Op.put(bytes("/apisix/routes/" + id), bytes(r), PutOption.DEFAULT));
        }
        kv.txn().Then(ops.toArray(Op[]::new)).commit().get();
      }
      System.out.printf(
          "%n== etcd-put: etcd %s, %d routes seeded in %.1f s; dataplane %s%n",
          etcd.endpoint(), all.size(), (System.nanoTime() - s0) / 1e9, SHIPPED);
      long t0 = System.nanoTime();
      try (var d = Dataplane.start(dir, "etcd", SHIPPED, "--etcd", etcd.endpoint())) {
        d.awaitReady(300);
        d.awaitServed(host(TARGET), TARGET_PATH, 200, 60);
        System.out.printf(
            "dataplane ready with %d routes %.1f s after its start%n",
            all.size(), (System.nanoTime() - t0) / 1e9);
        var ms = new ArrayList<Double>();
        int warmup = Math.max(10, puts / 10);
        for (int k = -warmup; k < puts; k++) {
          // A route in the middle of the set, moved to a path no route serves yet.
          int i = 1000 + (k + warmup) * 37 % (n - 2000);
          i -= i % 10; // a plain host + prefix route
          var path = "/moved" + (k + warmup) + "/svc" + i + "/*";
          var probe = "/moved" + (k + warmup) + "/svc" + i + "/x";
          long p0 = System.nanoTime();
          kv.put(bytes("/apisix/routes/r" + i), bytes(route(i, path))).get();
          d.awaitServed(host(i), probe, 200, 10);
          if (k >= 0) {
            ms.add((System.nanoTime() - p0) / 1e6);
          }
        }
        System.out.printf(
            "etcd put -> served, %d puts: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms%n",
            puts,
            BenchSupport.pct(ms, 50),
            BenchSupport.pct(ms, 90),
            BenchSupport.pct(ms, 99),
            BenchSupport.pct(ms, 100));
        rows.put(
            "%,d routes in etcd: put -> served".formatted(n),
            "p50 %.1f ms, p99 %.1f ms (%d puts) | p99 < 50 ms | %s"
                .formatted(
                    BenchSupport.pct(ms, 50),
                    BenchSupport.pct(ms, 99),
                    puts,
                    BenchSupport.pct(ms, 99) < 50));
        long rss = d.rssMb();
        long heap = heapAfterGc(d.process.pid()) / 1048576;
        System.out.printf(
            "dataplane RSS with %d routes: %d MB (heap in use after a full GC: %d MB)%n",
            n, rss, heap);
        rows.put(
            "dataplane RSS at %,d routes".formatted(n),
            "%d MB (live heap %d MB; chart's options in a 1 GiB pod) | < 1 GB | %s"
                .formatted(rss, heap, rss < 1024));
      }
    }
  }

  /** The whole heap in use after a full GC (every generation's {@code used}), in bytes. */
  private static long heapAfterGc(long pid) throws Exception {
    BenchSupport.jcmd(pid, "GC.run");
    long kb = 0;
    for (var line : BenchSupport.jcmd(pid, "GC.heap_info").lines().toList()) {
      var m = Pattern.compile("total \\d+K, used (\\d+)K").matcher(line);
      if (m.find()) {
        kb += Long.parseLong(m.group(1));
      }
    }
    return kb * 1024;
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  // ---- 4: idle keep-alive connections --------------------------------------------------------

  private void idleConnections(int upstream, int conns) throws Exception {
    System.out.printf(
        "%n== idle-conns: %d keep-alive connections, each after one request%n", conns);
    var one = standalone(dir, "conns", List.of(target()), upstream);
    var open = new ArrayList<SocketChannel>(conns);
    try (var d =
        Dataplane.start(
            dir,
            "conns",
            SHIPPED,
            "--standalone",
            one.toString(),
            "--max-connections",
            String.valueOf(conns + 1000))) {
      d.awaitReady(120);
      d.awaitServed(host(TARGET), TARGET_PATH, 200, 30);
      var request =
          ("GET " + TARGET_PATH + " HTTP/1.1\r\nHost: " + host(TARGET) + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII);
      // Warm up: the same per-connection path, on 200 connections closed after.
      for (int i = 0; i < 200; i++) {
        try (var c = connect(d.httpPort, request)) {
          // answered
        }
      }
      Thread.sleep(1000);
      long before = d.rssMb();
      long t0 = System.nanoTime();
      for (int i = 0; i < conns; i++) {
        open.add(connect(d.httpPort, request));
      }
      Thread.sleep(2000);
      long after = d.rssMb();
      System.out.printf(
          "RSS before %d MB, with %d idle connections %d MB (opened in %.1f s)%n",
          before, conns, after, (System.nanoTime() - t0) / 1e9);
      rows.put(
          "%,d idle keep-alive connections: RSS growth".formatted(conns),
          "%d MB (%d -> %d MB) | < 100 MB | %s"
              .formatted(after - before, before, after, after - before < 100));
    } finally {
      for (var c : open) {
        c.close();
      }
    }
  }

  /** A connection that has sent {@code request} and read its whole answer ({@code ok}). */
  private static SocketChannel connect(int port, byte[] request) throws IOException {
    var c = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
    c.write(ByteBuffer.wrap(request));
    var buf = ByteBuffer.allocate(4096);
    while (true) {
      if (c.read(buf) < 0) {
        throw new IOException("closed before the answer");
      }
      var s = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
      int end = s.indexOf("\r\n\r\n");
      if (end >= 0) {
        var m = Pattern.compile("(?i)content-length: *(\\d+)").matcher(s);
        if (m.find() && s.length() >= end + 4 + Integer.parseInt(m.group(1))) {
          return c;
        }
      }
    }
  }

  // ---- 5: start to ready ---------------------------------------------------------------------

  private void start(int upstream, int n) throws Exception {
    System.out.printf("%n== start: process start to /readyz 200 with %d routes, standalone%n", n);
    var file = standalone(dir, "start", routes(n), upstream);
    var jsa = dir.resolve("archway-dataplane.jsa");
    var cds = new ArrayList<>(SHIPPED);
    cds.addAll(List.of("-XX:SharedArchiveFile=" + jsa, "-XX:+AutoCreateSharedArchive"));
    // Run 0 with the archive option writes the archive (at exit: given time) and is not counted.
    try (var d = Dataplane.start(dir, "start-dump", cds, "--standalone", file.toString())) {
      d.awaitReady(120);
      d.process.destroy();
      d.process.waitFor(180, TimeUnit.SECONDS);
    }
    System.out.printf("AppCDS archive: %d MB%n", Files.size(jsa) / 1048576);
    var plain = new ArrayList<Double>();
    var archived = new ArrayList<Double>();
    for (int r = 0; r < rounds; r++) {
      plain.add(startMs(SHIPPED, file, n));
      archived.add(startMs(cds, file, n));
    }
    System.out.printf("start to ready (ms): without CDS %s, with AppCDS %s%n", plain, archived);
    rows.put(
        "start to ready, %,d routes".formatted(n),
        "%.2f s; with AppCDS %.2f s (medians of %d) | < 2 s | %s"
            .formatted(
                BenchSupport.pct(plain, 50) / 1000,
                BenchSupport.pct(archived, 50) / 1000,
                rounds,
                BenchSupport.pct(plain, 50) < 2000));
  }

  private double startMs(List<String> jvm, Path file, int n) throws Exception {
    long t0 = System.nanoTime();
    try (var d = Dataplane.start(dir, "start", jvm, "--standalone", file.toString())) {
      d.awaitReady(120);
      return (System.nanoTime() - t0) / 1e6;
    }
  }

  // ---- a dataplane process -------------------------------------------------------------------

  static final class Dataplane implements AutoCloseable {
    final int httpPort = Ports.free();
    final int statusPort = Ports.free();
    final Process process;
    private final Path log;
    private final HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private Dataplane(Path dir, String name, List<String> jvm, String... source)
        throws IOException {
      var args = new ArrayList<>(List.of(source));
      args.addAll(BenchSupport.dataplaneListeners(httpPort, statusPort));
      args.addAll(List.of("--workers", "1"));
      log = dir.resolve("dataplane-" + name + ".log");
      var opts = new ArrayList<>(BenchSupport.jvm());
      opts.addAll(0, jvm);
      process = JarProcess.start(jar, log, opts, args);
    }

    static Dataplane start(Path dir, String name, List<String> jvm, String... source)
        throws IOException {
      return new Dataplane(dir, name, jvm, source);
    }

    void awaitReady(int secs) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
      var req =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statusPort + "/readyz")).build();
      while (true) {
        if (!process.isAlive()) {
          throw new IllegalStateException("the dataplane exited; see " + log);
        }
        try {
          if (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
            return;
          }
        } catch (IOException e) {
          // not listening yet
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the dataplane not ready in " + secs + " s; see " + log);
        }
        Thread.sleep(5);
      }
    }

    /** GETs {@code path} back to back until it answers {@code code}. */
    void awaitServed(String host, String path, int code, int secs) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
      var req =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
              .header("Host", host)
              .build();
      while (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() != code) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(path + " not answering " + code + " in " + secs + " s");
        }
      }
    }

    long rssMb() throws IOException {
      return BenchSupport.rssKb(process.pid()) / 1024;
    }

    @Override
    public void close() {
      JarProcess.stop(process);
    }
  }

  /** An nginx upstream answering {@code 200 ok} on a free loopback port. */
  static final class Nginx implements AutoCloseable {
    final int port = Ports.free();
    private final Process process;

    private Nginx(Path dir) throws IOException {
      var d = Files.createDirectories(dir.resolve("nginx"));
      Files.writeString(
          d.resolve("nginx.conf"),
          """
          worker_processes 1; daemon off; pid %s/nginx.pid; error_log %s/error.log;
          events { worker_connections 4096; }
          http { access_log off; keepalive_requests 1000000;
            server { listen 127.0.0.1:%d; location / { return 200 "ok"; } } }
          """
              .formatted(d, d, port));
      process =
          new ProcessBuilder("nginx", "-c", d.resolve("nginx.conf").toString(), "-p", d.toString())
              .redirectErrorStream(true)
              .redirectOutput(d.resolve("out.log").toFile())
              .start();
    }

    static Nginx start(Path dir) throws Exception {
      var n = new Nginx(dir);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (true) {
        try (var s = new java.net.Socket("127.0.0.1", n.port)) {
          return n;
        } catch (IOException e) {
          if (System.nanoTime() > deadline || !n.process.isAlive()) {
            throw new IllegalStateException("nginx did not start", e);
          }
          Thread.sleep(20);
        }
      }
    }

    @Override
    public void close() {
      JarProcess.stop(process);
    }
  }
}
