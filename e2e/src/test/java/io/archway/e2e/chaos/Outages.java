package io.archway.e2e.chaos;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * What the dependency-outage scenarios (scenario 7, docs/chaos.md) share: the HTTP load they all
 * run, the dataplane's metrics they read, its memory, and the time a dependency takes to be used
 * again once it is back.
 */
final class Outages {

  private Outages() {}

  /** The HTTP load on a route: {@code clients} clients, half on keep-alive, 5 ms apart. */
  static Load load(EtcdDataplane stack, String path, int clients) {
    return new Load(
        stack.uri(path),
        clients,
        Duration.ofMillis(5),
        Duration.ofSeconds(5),
        (status, body) -> body.contains("\"backend\":") ? null : "not the backend's answer");
  }

  /**
   * The value of one series of the dataplane's {@code /metrics}, for example {@code
   * archway_plugin_log_queued{plugin="kafka-logger"}}; 0 when it is not there (yet).
   */
  static long metric(EtcdDataplane stack, String series) throws Exception {
    for (var line : stack.metrics().split("\n")) {
      if (line.startsWith(series + " ")) {
        return (long) Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return 0;
  }

  static String logged(String plugin, String result) {
    return "archway_plugin_log_entries_total{plugin=\"" + plugin + "\",result=\"" + result + "\"}";
  }

  static String queued(String plugin) {
    return "archway_plugin_log_queued{plugin=\"" + plugin + "\"}";
  }

  /** The resident memory of a process, in KiB, from {@code /proc} (0 where there is none). */
  static long rssKiB(long pid) {
    try {
      for (var line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux, or the process is gone
    }
    return 0;
  }

  /** How long until {@code served} holds, polled every 50 ms (at most a minute). */
  static Duration until(Callable<Boolean> served) {
    long start = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(served);
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /**
   * Samples each of {@code series} every 100 ms for {@code seconds}, returning the largest value
   * seen of each: queues that must stay bounded while a fault lasts.
   */
  static long[] maxDuring(EtcdDataplane stack, long seconds, String... series) throws Exception {
    var max = new long[series.length];
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    while (System.nanoTime() < end) {
      for (int i = 0; i < series.length; i++) {
        max[i] = Math.max(max[i], metric(stack, series[i]));
      }
      Thread.sleep(100);
    }
    return max;
  }
}
