package io.archway.dataplane.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code retry_backoff}'s waits: never below the base, doubling, at most ten times the base. */
class RetryBackoffTest {

  @Test
  void noBackoffMeansAtOnce() {
    assertThat(UpstreamRuntime.backoff(0, 0)).isZero();
    assertThat(UpstreamRuntime.backoff(0, 7)).isZero();
  }

  @Test
  void theFirstWaitIsTheBaseAndTheNextOnesDoubleWithJitterUpToTenTimesIt() {
    long base = 100_000_000; // 100 ms
    assertThat(UpstreamRuntime.backoff(base, 0)).isEqualTo(base);
    for (int n = 1; n < 40; n++) {
      long ceiling = Math.min(base << Math.min(n, 4), 10 * base);
      long floor = Math.max(base, ceiling / 2);
      long min = Long.MAX_VALUE;
      long max = 0;
      for (int i = 0; i < 2000; i++) {
        long d = UpstreamRuntime.backoff(base, n);
        min = Math.min(min, d);
        max = Math.max(max, d);
      }
      assertThat(min).as("retry %d", n).isGreaterThanOrEqualTo(floor);
      assertThat(max).as("retry %d", n).isLessThanOrEqualTo(ceiling);
      assertThat(max).as("retry %d: jittered", n).isGreaterThan(min);
    }
  }

  @Test
  void aLongBaseDoesNotOverflow() {
    long day = 86_400L * 1_000_000_000L;
    assertThat(UpstreamRuntime.backoff(day, 30)).isBetween(5 * day, 10 * day);
  }
}
