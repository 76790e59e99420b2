package io.archway.model.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A runnable jar of Archway's started as users start it, with this JVM's java, output to a log.
 *
 * <p>Where this JVM has {@value #LEAK_LEVEL} (the build's test JVMs do), the jar runs Netty's leak
 * detector at that level, and a leak it logs fails the test when {@link #stop} stops it. A jar runs
 * without the detector otherwise, as users run it.
 */
public final class JarProcess {

  /** The system property naming the leak detection level a started jar runs with. */
  public static final String LEAK_LEVEL = "archway.jar.leakDetection";

  private static final Map<Process, Path> WATCHED = new ConcurrentHashMap<>();

  private JarProcess() {}

  public static Process start(Path jar, Path log, List<String> jvmOptions, List<String> args)
      throws IOException {
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    var level = System.getProperty(LEAK_LEVEL, "");
    if (!level.isBlank()) {
      cmd.add("-Dio.netty.leakDetection.level=" + level);
    }
    cmd.addAll(jvmOptions);
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args);
    var p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!level.isBlank()) {
      WATCHED.put(p, log);
    }
    return p;
  }

  /**
   * Stops it by its own handle: SIGTERM, then SIGKILL if it has not exited within 10 s. Throws an
   * {@link AssertionError} if it ran with the leak detector and its log reports a leak.
   */
  public static void stop(Process p) {
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
    var log = WATCHED.remove(p);
    if (log != null) {
      var leak = leakIn(log);
      if (leak != null) {
        throw new AssertionError(log + " reports a buffer leak: " + leak);
      }
    }
  }

  /**
   * Stops them all, each by its own handle, then throws the first leak any of their logs reports.
   */
  public static void stopAll(java.util.Collection<Process> processes) {
    AssertionError first = null;
    for (var p : processes) {
      try {
        stop(p);
      } catch (AssertionError leak) {
        if (first == null) {
          first = leak;
        } else {
          first.addSuppressed(leak);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** The first line of Netty's leak report in that log, or null. */
  static String leakIn(Path log) {
    // Latin-1: any byte reads, so a line that is not UTF-8 cannot hide the report.
    try (var lines = Files.lines(log, java.nio.charset.StandardCharsets.ISO_8859_1)) {
      return lines
          .filter(l -> l.contains("ResourceLeakDetector") && l.contains("LEAK:"))
          .findFirst()
          .orElse(null);
    } catch (UncheckedIOException | IOException e) {
      return null;
    }
  }
}
