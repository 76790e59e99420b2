package io.archway.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** What the benchmarks that run Archway as a process share: jcmd, heap figures, percentiles. */
final class BenchSupport {

  private BenchSupport() {}

  /** Runs a benchmark's body and exits 0, or prints the failure and exits 1. */
  interface Body {
    void run(String[] args) throws Exception;
  }

  static void main(String[] args, Body body) {
    try {
      body.run(args);
      System.exit(0);
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
  }

  /** JVM options for a process under test: these, then {@code ARCHWAY_JAVA_OPTS}. */
  static List<String> jvm(String... options) {
    var out = new ArrayList<>(List.of(options));
    var env = System.getenv("ARCHWAY_JAVA_OPTS");
    if (env != null && !env.isBlank()) {
      out.addAll(List.of(env.trim().split("\\s+")));
    }
    return out;
  }

  static String jcmd(long pid, String command) throws Exception {
    var jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    var p =
        new ProcessBuilder(jcmd, String.valueOf(pid), command).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  /** The heap in use after a full GC ({@code jcmd GC.run}, then {@code GC.heap_info}), in bytes. */
  static long heapAfterGc(long pid) throws Exception {
    jcmd(pid, "GC.run");
    var info = jcmd(pid, "GC.heap_info");
    var m = Pattern.compile("used (\\d+)K").matcher(info);
    if (!m.find()) {
      throw new IllegalStateException("no heap figure in: " + info);
    }
    return Long.parseLong(m.group(1)) * 1024;
  }

  /**
   * An HTTP upstream on a loopback port answering every request {@code 200 ok} (two threads); the
   * caller stops it.
   */
  static com.sun.net.httpserver.HttpServer okUpstream() throws java.io.IOException {
    var upstream =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress("127.0.0.1", 0), 200);
    upstream.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(2));
    upstream.createContext(
        "/",
        ex -> {
          var body = "ok".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          try (var out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    upstream.start();
    return upstream;
  }

  /** Runs {@code each} for {@code from} to {@code to} - 1 on 8 threads, until all are done. */
  static void parallel(int from, int to, java.util.function.IntConsumer each) throws Exception {
    var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      var futures =
          java.util.stream.IntStream.range(from, to)
              .mapToObj(
                  i -> java.util.concurrent.CompletableFuture.runAsync(() -> each.accept(i), pool))
              .toList();
      java.util.concurrent.CompletableFuture.allOf(
              futures.toArray(java.util.concurrent.CompletableFuture[]::new))
          .get();
    } finally {
      pool.shutdown();
    }
  }

  static double pct(List<Double> xs, double p) {
    var s = new ArrayList<>(xs);
    Collections.sort(s);
    int i = (int) Math.ceil(p / 100 * s.size()) - 1;
    return s.get(Math.max(0, Math.min(i, s.size() - 1)));
  }

  /**
   * A process's CPU time so far (user + system, from {@code /proc/<pid>/stat}), in seconds; its
   * children are not counted.
   */
  static double cpuSeconds(long pid) throws java.io.IOException {
    var stat = java.nio.file.Files.readString(Path.of("/proc", "" + pid, "stat"));
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    var f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
    return ticks / 100.0; // USER_HZ is 100 on Linux
  }

  /**
   * Moves every thread of the proxy under test to the CPUs the harness gives proxies ({@code
   * ARCHWAY_BENCH_PROXY_CPUS}, e.g. {@code 1}), away from the bench, its clients and the backends
   * it started, which the harness pins to the load generator's CPU; threads made later inherit it.
   * Without the variable (a bench run by hand), nothing is pinned.
   */
  static void pinProxy(Process proxy) throws Exception {
    var cpus = System.getenv("ARCHWAY_BENCH_PROXY_CPUS");
    if (cpus == null || cpus.isBlank()) {
      return;
    }
    var p =
        new ProcessBuilder("taskset", "-a", "-p", "-c", cpus.trim(), String.valueOf(proxy.pid()))
            .redirectErrorStream(true)
            .start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("taskset -a -p -c " + cpus + ": " + out.strip());
    }
  }

  /** A process's resident set ({@code VmRSS}), in kB. */
  static long rssKb(long pid) throws java.io.IOException {
    for (var line : java.nio.file.Files.readAllLines(Path.of("/proc", "" + pid, "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new IllegalStateException("no VmRSS for process " + pid);
  }

  /** Deletes {@code dir} and everything under it. */
  static void deleteTree(Path dir) throws java.io.IOException {
    try (var files = java.nio.file.Files.walk(dir)) {
      for (var f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.deleteIfExists(f);
      }
    }
  }

  /**
   * A benchmarked dataplane's listener options: loopback, the given HTTP and status ports, no
   * HTTPS, no access log.
   */
  static List<String> dataplaneListeners(int httpPort, int statusPort) {
    return List.of(
        "--bind",
        "127.0.0.1",
        "--http-port",
        "" + httpPort,
        "--https-port",
        "0",
        "--status-port",
        "" + statusPort,
        "--admin-port",
        "off",
        "--access-log",
        "off");
  }
}
