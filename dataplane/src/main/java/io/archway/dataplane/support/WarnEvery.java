package io.archway.dataplane.support;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * A warning about something that can happen on every request (a log sink that is down, a full
 * disk): the first one is logged, then at most one every {@code period}, which also says how many
 * were left out since. Without it a dead sink writes a log line per batch, and a full disk per
 * request, into the very logs an operator reads to find out what is wrong. Safe from any thread;
 * never blocks beyond the logger's own call.
 */
public final class WarnEvery {

  private final Logger log;
  private final long periodNanos;
  private final AtomicLong nextAt = new AtomicLong(System.nanoTime());
  private final LongAdder suppressed = new LongAdder();

  public WarnEvery(Logger log, long period, TimeUnit unit) {
    this.log = log;
    this.periodNanos = unit.toNanos(period);
  }

  /**
   * Logs {@code message} (an SLF4J pattern with {@code args}) unless one was logged less than a
   * period ago; returns whether it was logged.
   */
  public boolean warn(String message, Object... args) {
    long now = System.nanoTime();
    long due = nextAt.get();
    if (now - due < 0 || !nextAt.compareAndSet(due, now + periodNanos)) {
      suppressed.increment();
      return false;
    }
    long left = suppressed.sumThenReset();
    if (left > 0) {
      log.warn(message + " ({} more like it not logged)", append(args, left));
    } else {
      log.warn(message, args);
    }
    return true;
  }

  private static Object[] append(Object[] args, Object last) {
    var all = java.util.Arrays.copyOf(args, args.length + 1);
    all[args.length] = last;
    return all;
  }
}
