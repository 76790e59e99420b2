package io.archway.dataplane.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client that writes without reading, and waiting for the gateway to hold it back: the
 * backpressure tests of the Redis proxy and of pub-sub.
 */
public final class Stalls {

  private Stalls() {}

  /** One write of the flood; it blocks when the socket takes no more. */
  public interface Write {
    void run() throws IOException;
  }

  /** A thread writing in a loop, and how many writes it has made. */
  public record Writer(Thread thread, AtomicLong writes) {
    public long count() {
      return writes.get();
    }

    public void join() throws InterruptedException {
      thread.join(10_000);
    }
  }

  /**
   * Starts a daemon thread making {@code total} writes; it stops early when a write fails (the
   * socket closed at the end of the test).
   */
  public static Writer flood(long total, Write write) {
    var writes = new AtomicLong();
    var thread =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  try {
                    for (long i = 0; i < total; i++) {
                      write.run();
                      writes.incrementAndGet();
                    }
                  } catch (IOException e) {
                    // the test's counts tell
                  }
                });
    return new Writer(thread, writes);
  }

  /** Waits (up to 20 s) until the writer has made no write for half a second. */
  public static void awaitStalled(Writer writer) {
    // Each poll compares with the one half a second before.
    var last = new AtomicLong(-1);
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              long now = writer.count();
              return now == last.getAndSet(now);
            });
  }
}
