package io.archway.dataplane.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HttpRouteStatsTest {

  @Test
  void countsEveryStatusOnceInOrder() {
    var stats = new HttpRouteStats("r");
    stats.answered(200, 1_000);
    stats.answered(200, 1_000);
    stats.answered(599, 1_000);
    stats.answered(100, 1_000);
    // Outside 100-599 (a plugin's own code): counted all the same.
    stats.answered(700, 1_000);
    stats.answered(42, 1_000);

    assertThat(stats.answered(200)).isEqualTo(2);
    assertThat(stats.answered(700)).isEqualTo(1);
    assertThat(stats.answered(404)).isZero();
    assertThat(stats.statuses())
        .containsExactly(
            org.assertj.core.api.Assertions.entry(42, 1L),
            org.assertj.core.api.Assertions.entry(100, 1L),
            org.assertj.core.api.Assertions.entry(200, 2L),
            org.assertj.core.api.Assertions.entry(599, 1L),
            org.assertj.core.api.Assertions.entry(700, 1L));
    assertThat(stats.latency.count()).isEqualTo(6);
  }
}
