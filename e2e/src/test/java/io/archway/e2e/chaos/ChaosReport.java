package io.archway.e2e.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The chaos suite's report, {@code target/chaos-report.md} of the e2e module: a markdown table with
 * one row per scenario run in this JVM. It is rewritten after each row, so that what is on disk at
 * the end of the run holds every scenario that ran, even if a later one fails.
 */
public final class ChaosReport {

  private ChaosReport() {}

  /** Where the report goes (the e2e module's {@code target/}, the tests' working directory). */
  static final Path FILE = Path.of("target", "chaos-report.md");

  private static final List<String> ROWS = new ArrayList<>();

  /**
   * Adds the row of a scenario and rewrites the report.
   *
   * @param scenario its name
   * @param seconds how long the fault lasted
   * @param result what the load measured during the fault
   * @param recovery how long until traffic was served as before once the fault ended; null when the
   *     scenario has no recovery (nothing was expected to fail)
   */
  public static synchronized void add(
      String scenario, long seconds, Load.Result result, Duration recovery) {
    ROWS.add(
        "| "
            + scenario
            + " | "
            + seconds
            + " s | "
            + result.requests()
            + " | "
            + (result.failed() == 0 ? "0" : result.failed() + " " + result.failures())
            + " | "
            + millis(result.p99Micros())
            + " | "
            + millis(result.maxMicros())
            + " | "
            + (recovery == null ? "—" : recovery.toMillis() + " ms")
            + " |");
    var text = new StringBuilder();
    text.append("# Chaos report\n\n")
        .append("Failures during each fault, and the latency of the answered requests.\n\n")
        .append(
            "| Scenario | Fault for | Requests | Failures | p99 during the fault |"
                + " Max | Recovery |\n")
        .append("|---|---|---|---|---|---|---|\n");
    ROWS.forEach(r -> text.append(r).append('\n'));
    try {
      Files.createDirectories(FILE.getParent());
      Files.writeString(FILE, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String millis(long micros) {
    return String.format(java.util.Locale.ROOT, "%.1f ms", micros / 1000.0);
  }
}
