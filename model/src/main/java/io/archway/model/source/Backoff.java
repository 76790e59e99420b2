package io.archway.model.source;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: attempt {@code n} waits a random time in {@code [min,
 * min·2ⁿ]}, capped at {@code max}, so many dataplanes that lost etcd together do not come back
 * together.
 */
public final class Backoff {

  private final long minNanos;
  private final long maxNanos;
  private int attempt;

  public Backoff(Duration min, Duration max) {
    if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
      throw new IllegalArgumentException(
          "backoff: expected 0 < min <= max, got " + min + ", " + max);
    }
    this.minNanos = min.toNanos();
    this.maxNanos = max.toNanos();
  }

  /** The next wait; each call doubles the ceiling until {@link #reset()}. */
  public Duration next() {
    long ceiling = attempt >= 30 ? maxNanos : Math.min(maxNanos, minNanos << attempt);
    attempt++;
    return Duration.ofNanos(
        minNanos + ThreadLocalRandom.current().nextLong(Math.max(1, ceiling - minNanos + 1)));
  }

  public void reset() {
    attempt = 0;
  }

  public int attempts() {
    return attempt;
  }
}
