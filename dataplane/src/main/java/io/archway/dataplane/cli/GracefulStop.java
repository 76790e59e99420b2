package io.archway.dataplane.cli;

import io.archway.dataplane.server.Dataplane;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops the dataplane once, however many ways ask (a signal, the shutdown hook): the first caller
 * drains it, a later one waits for that drain to end.
 */
final class GracefulStop implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(GracefulStop.class);

  private final Dataplane dataplane;
  private final AtomicBoolean started = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);

  GracefulStop(Dataplane dataplane) {
    this.dataplane = dataplane;
  }

  @Override
  public void run() {
    if (started.compareAndSet(false, true)) {
      try {
        dataplane.close();
      } finally {
        done.countDown();
      }
      return;
    }
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Runs {@code action} on each of these signals instead of the JVM's default (which would exit
   * with 128 + the signal's number). A signal this platform does not have is skipped.
   */
  @SuppressWarnings("restriction")
  static void onSignals(Runnable action, String... names) {
    for (var name : names) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), s -> action.run());
      } catch (IllegalArgumentException e) {
        log.debug("signal {} not handled here: {}", name, e.getMessage());
      }
    }
  }
}
