package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 8's soak (docs/chaos.md): a steady load, half on keep-alive connections and half
 * on a new connection per request, for {@code -Darchway.chaos.soak} seconds (20 in the default
 * build; an hour with {@code -Darchway.chaos.soak=3600}), while the dataplane process's resident
 * memory ({@code VmRSS}) and open file descriptors are sampled from {@code /proc}. Memory must stay
 * flat and every descriptor the load opened must be closed once it ends. The heap is fixed ({@code
 * -Xms} = {@code -Xmx}, pre-touched) so that what grows is what the dataplane keeps, not the heap
 * settling on a size.
 */
class SoakChaosE2E {

  /** Samples over the run. */
  static final int SAMPLES = 40;

  /**
   * The last quarter's resident memory over the second quarter's: at most this ratio. Over the
   * second quarter the JIT has compiled the hot path and the pools are filled; what still grows
   * after that, run after run, would be a leak. 10 % leaves room for the code cache and metaspace
   * of code the JIT compiles late.
   */
  static final double RSS_GROWTH = 1.10;

  /**
   * Descriptors left open after the load over those before it: the dataplane keeps idle keep-alive
   * connections to the backend for reuse, one per request that was in flight at once at most (8
   * clients); past that, a descriptor was leaked.
   */
  static final int FDS_KEPT = 8;

  @TempDir Path dir;

  OverloadStack stack;

  @AfterEach
  void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  static long seconds() {
    return Long.getLong("archway.chaos.soak", 20);
  }

  @Test
  void aSteadyLoadLeavesMemoryFlatAndNoDescriptorOpen() throws Exception {
    stack =
        OverloadStack.start(
            dir,
            List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch"),
            "",
            List.of("--workers", "2"));
    long baselineFds = stack.fds();
    long seconds = seconds();
    long every = Math.max(1, TimeUnit.SECONDS.toMillis(seconds) / SAMPLES);
    var rss = new ArrayList<Long>();
    var fds = new ArrayList<Long>();
    Load.Result result;
    try (var load =
        new Load(
            stack.uri("/good"),
            8,
            Duration.ofMillis(5),
            Duration.ofSeconds(5),
            (status, body) -> body.equals("good\n") ? null : "not the backend's answer")) {
      load.start();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        TimeUnit.MILLISECONDS.sleep(every);
        rss.add(stack.rssKb());
        fds.add(stack.fds());
      }
      result = load.stop();
    }
    double second = average(rss, 1);
    double last = average(rss, 3);
    long peakFds = fds.stream().mapToLong(Long::longValue).max().orElse(0);
    // Descriptors back to the baseline, give or take the kept upstream connections.
    await().atMost(EtcdDataplane.WAIT).until(() -> stack.fds() <= baselineFds + FDS_KEPT);
    long afterFds = stack.fds();
    ChaosReport.add("soak: steady load, keep-alive and new connections", seconds, result, null);
    System.out.printf(
        "soak %d s: %s; RSS second quarter %.1f MB, last quarter %.1f MB (x%.3f), samples %s kB;"
            + " fds baseline %d, peak %d, after %d%n",
        seconds,
        result,
        second / 1024,
        last / 1024,
        last / second,
        rss,
        baselineFds,
        peakFds,
        afterFds);
    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(last)
        .as("RSS, last quarter over second (kB): %s", rss)
        .isLessThan(second * RSS_GROWTH);
  }

  /** The average of the {@code quarter}-th quarter (0 to 3) of the samples. */
  private static double average(List<Long> samples, int quarter) {
    int n = samples.size() / 4;
    return samples.subList(quarter * n, (quarter + 1) * n).stream()
        .mapToLong(Long::longValue)
        .average()
        .orElseThrow();
  }
}
