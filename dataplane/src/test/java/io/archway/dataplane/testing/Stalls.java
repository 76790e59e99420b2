package io.archway.dataplane.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.function.LongSupplier;

/** Waiting for a writer the gateway holds back: its count stops moving. */
public final class Stalls {

  private Stalls() {}

  /** Waits (up to 20 s) until {@code count} has not moved for half a second. */
  public static void awaitStalled(LongSupplier count) {
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              long before = count.getAsLong();
              Thread.sleep(500);
              return count.getAsLong() == before;
            });
  }
}
