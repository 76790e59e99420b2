package io.archway.dataplane.support;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One scheduled run of a task on an event loop, kept no later than the earliest deadline asked for:
 * asking for a later deadline than the one scheduled changes nothing, asking for an earlier one
 * reschedules. Timeouts built on it record progress in a field and let the task work out, when it
 * runs, whether a deadline really passed, so that busy connections schedule nothing per request.
 * Used on its loop only.
 */
public final class EarliestTimer {

  private final EventExecutor loop;
  private final Runnable task;
  private ScheduledFuture<?> future;
  private long firesAt;

  public EarliestTimer(EventExecutor loop, Runnable task) {
    this.loop = loop;
    this.task = task;
  }

  /** Makes sure the task runs at {@code deadline} ({@link System#nanoTime()}) or before. */
  public void atOrBefore(long deadline) {
    if (future != null && firesAt - deadline <= 0) {
      return;
    }
    cancel();
    firesAt = deadline;
    future =
        loop.schedule(this::fire, Math.max(deadline - System.nanoTime(), 0), TimeUnit.NANOSECONDS);
  }

  public void cancel() {
    if (future != null) {
      future.cancel(false);
      future = null;
    }
  }

  private void fire() {
    future = null;
    task.run();
  }
}
