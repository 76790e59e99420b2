package io.archway.dataplane.pipeline;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Requests in flight and answered, for graceful shutdown and {@code /metrics}. */
public final class InFlight {

  private final AtomicLong active = new AtomicLong();
  private final LongAdder[] byClass = new LongAdder[6];

  public InFlight() {
    for (int i = 0; i < byClass.length; i++) {
      byClass[i] = new LongAdder();
    }
  }

  void begin() {
    active.incrementAndGet();
  }

  void end(int status) {
    active.decrementAndGet();
    byClass[Math.min(5, Math.max(0, status / 100))].increment();
  }

  public long active() {
    return active.get();
  }

  /** Responses sent with a status of {@code n}xx. */
  public long answered(int statusClass) {
    return byClass[statusClass].sum();
  }
}
