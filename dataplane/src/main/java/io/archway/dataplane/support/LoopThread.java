package io.archway.dataplane.support;

import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An I/O event loop's thread, numbered 0..n-1 within its group. Per-loop state (connection pools,
 * balancer positions) lives in arrays indexed by {@link #index()}, so the loops share nothing and
 * take no locks.
 */
public final class LoopThread extends FastThreadLocalThread {

  private final int index;

  private LoopThread(Runnable r, String name, int index) {
    super(r, name);
    this.index = index;
    setDaemon(true);
  }

  /** The current thread's loop index, or {@code -1} off the I/O loops. */
  public static int current() {
    return Thread.currentThread() instanceof LoopThread t ? t.index : -1;
  }

  static ThreadFactory factory(String prefix) {
    var next = new AtomicInteger();
    return r -> {
      int i = next.getAndIncrement();
      return new LoopThread(r, prefix + "-" + i, i);
    };
  }
}
