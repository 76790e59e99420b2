package io.archway.dataplane.cli;

import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.model.BuildInfo;
import io.archway.model.source.ConfigFileException;
import io.netty.util.ResourceLeakDetector;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;

/**
 * {@code java -jar archway-dataplane.jar [options]}; {@code --help} lists them, {@code --version}
 * says which build it is.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    leakDetectionOffUnlessAsked();
    System.exit(run(args));
  }

  /**
   * Netty's leak detector samples one buffer in 128 by default and records a stack trace for it (a
   * {@code Throwable} per sampled allocation and release, about one every ten requests): a
   * measurable part of the hot path's CPU and allocation. The process runs without it unless {@code
   * -Dio.netty.leakDetection.level} (or the older {@code -Dio.netty.leakDetectionLevel}) asks for a
   * level; the tests run it at {@code PARANOID}.
   */
  static void leakDetectionOffUnlessAsked() {
    // Netty's current property, its older spelling, and its older on/off switch.
    if (System.getProperty("io.netty.leakDetection.level") == null
        && System.getProperty("io.netty.leakDetectionLevel") == null
        && System.getProperty("io.netty.noResourceLeakDetection") == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  /**
   * The options the process would start with given {@code args}, for tests and tools that start a
   * dataplane in-process from a command line or a {@code --config} file.
   *
   * @throws Exception for a command line that would not start one (a usage error, {@code --help})
   */
  public static DataplaneOptions parse(String... args) throws Exception {
    return DataplaneCommand.parse(args);
  }

  static int run(String[] args) {
    return run(args, System.out, System.err);
  }

  /** Parses {@code args} and runs the dataplane until SIGTERM; the exit status. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    DataplaneOptions options;
    try {
      options = DataplaneCommand.parse(args);
    } catch (DataplaneCommand.HelpRequested e) {
      out.print(DataplaneCommand.usage());
      return 0;
    } catch (DataplaneCommand.VersionRequested e) {
      out.println(BuildInfo.current().describe("archway-dataplane"));
      return 0;
    } catch (DataplaneCommand.CheckRequested e) {
      return ConfigCheck.run(e.file, out, err);
    } catch (UsageException e) {
      err.println("archway-dataplane: " + e.getMessage());
      if (e.parseError() != null) {
        var suggestions = new PrintWriter(err, true, StandardCharsets.UTF_8);
        CommandLine.UnmatchedArgumentException.printSuggestions(e.parseError(), suggestions);
        suggestions.flush();
      }
      err.println("Try --help.");
      return 2;
    }
    var dataplane = new Dataplane(options);
    try {
      dataplane.start();
    } catch (ConfigFileException e) {
      err.println("archway-dataplane: cannot start, the config file is not usable:");
      e.lines().forEach(l -> err.println("  " + l));
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } catch (RuntimeException | java.io.IOException e) {
      err.println("archway-dataplane: cannot start: " + e.getMessage());
      return 1;
    }
    // SIGTERM (Kubernetes stopping the pod) and SIGINT stop the dataplane gracefully, and the
    // process then exits 0: with the JVM's own handlers it would exit 143 (128 + TERM) even
    // after a clean drain. The shutdown hook covers the other ways out (System.exit, SIGHUP).
    var stop = new CountDownLatch(1);
    var stopper = new GracefulStop(dataplane);
    GracefulStop.onSignals(stop::countDown, "TERM", "INT");
    Runtime.getRuntime().addShutdownHook(new Thread(stopper::run, "archway-shutdown"));
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopper.run();
    return 0;
  }
}
