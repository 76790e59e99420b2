package io.archway.dataplane.exchange;

import io.archway.dataplane.support.EarliestTimer;
import io.netty.util.concurrent.EventExecutor;

/**
 * The send/read timeout of a client connection's exchanges: one timer per connection that outlives
 * its exchanges. An exchange only records when it last made progress; the timer fires at the
 * earliest deadline it was told of, asks the exchange in force how long it may still wait, and
 * sleeps again for that long. Requests on a kept-alive connection therefore schedule nothing (a
 * timer per request cost an allocation and two priority-queue operations each).
 */
public final class ExchangeTimer {

  /** What the timer watches. */
  public interface Watched {
    /**
     * Called when a deadline the exchange gave is reached: nanoseconds to wait still, or 0 when it
     * timed out (and handled it) or no longer needs watching.
     */
    long onDeadline(long now);
  }

  private final EarliestTimer timer;
  private Watched watched;

  public ExchangeTimer(EventExecutor loop) {
    this.timer = new EarliestTimer(loop, this::fire);
  }

  /** Watches {@code w} until {@link #unwatch}, with its next deadline at {@code deadline}. */
  public void watch(Watched w, long deadline) {
    watched = w;
    timer.atOrBefore(deadline);
  }

  public void unwatch(Watched w) {
    if (watched == w) {
      watched = null;
    }
  }

  /** The connection closed. */
  public void stop() {
    watched = null;
    timer.cancel();
  }

  private void fire() {
    var w = watched;
    if (w == null) {
      return;
    }
    long now = System.nanoTime();
    long wait = w.onDeadline(now);
    if (wait > 0 && watched == w) {
      timer.atOrBefore(now + wait);
    }
  }
}
