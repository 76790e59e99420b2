package io.archway.dataplane.http;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The send/read timeout of a client connection's exchanges: one timer per connection that outlives
 * its exchanges. An exchange only records when it last made progress; the timer fires at the
 * earliest deadline it was told of, asks the exchange in force how long it may still wait, and
 * sleeps again for that long. Requests on a kept-alive connection therefore schedule nothing (a
 * timer per request cost an allocation and two priority-queue operations each).
 */
final class ExchangeTimer {

  /** What the timer watches. */
  interface Watched {
    /**
     * Called when a deadline the exchange gave is reached: nanoseconds to wait still, or 0 when it
     * timed out (and handled it) or no longer needs watching.
     */
    long onDeadline(long now);
  }

  private final EventExecutor loop;
  private Watched watched;
  private ScheduledFuture<?> future;
  private long firesAt;

  ExchangeTimer(EventExecutor loop) {
    this.loop = loop;
  }

  /** Watches {@code w} until {@link #unwatch}, with its next deadline at {@code deadline}. */
  void watch(Watched w, long deadline) {
    watched = w;
    if (future != null && firesAt - deadline <= 0) {
      return; // fires early enough; it will ask for the rest
    }
    schedule(deadline, deadline - System.nanoTime());
  }

  void unwatch(Watched w) {
    if (watched == w) {
      watched = null;
    }
  }

  /** The connection closed. */
  void stop() {
    watched = null;
    if (future != null) {
      future.cancel(false);
      future = null;
    }
  }

  private void schedule(long at, long inNanos) {
    if (future != null) {
      future.cancel(false);
    }
    firesAt = at;
    future = loop.schedule(this::fire, Math.max(inNanos, 0), TimeUnit.NANOSECONDS);
  }

  private void fire() {
    future = null;
    var w = watched;
    if (w == null) {
      return;
    }
    long now = System.nanoTime();
    long wait = w.onDeadline(now);
    if (wait > 0 && watched == w) {
      schedule(now + wait, wait);
    }
  }
}
