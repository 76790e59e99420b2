package io.archway.dataplane.cli;

import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.model.source.ConfigFileException;
import java.util.concurrent.CountDownLatch;

/** {@code java -jar archway-dataplane.jar [options]}; {@code --help} lists them. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    DataplaneOptions options;
    try {
      options = OptionsParser.parse(args);
    } catch (OptionsParser.HelpRequested e) {
      System.out.print(OptionsParser.HELP);
      return 0;
    } catch (OptionsParser.UsageException e) {
      System.err.println("archway-dataplane: " + e.getMessage());
      System.err.println("Try --help.");
      return 2;
    }
    var dataplane = new Dataplane(options);
    try {
      dataplane.start();
    } catch (ConfigFileException e) {
      System.err.println("archway-dataplane: cannot start, the config file is not usable:");
      e.lines().forEach(l -> System.err.println("  " + l));
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } catch (RuntimeException | java.io.IOException e) {
      System.err.println("archway-dataplane: cannot start: " + e.getMessage());
      return 1;
    }
    var stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  dataplane.close();
                  stopped.countDown();
                },
                "archway-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
