package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A histogram renders the same series whether or not it has counted anything yet. */
class HistogramTest {

  @Test
  void rendersZerosBeforeTheFirstObservationAndCumulativeCountsAfter() {
    var h = new Histogram();
    var empty = new StringBuilder();
    h.render(empty, "x", "route=\"r\"");
    assertThat(empty.toString())
        .contains("x_bucket{route=\"r\",le=\"0.001\"} 0\n")
        .contains("x_bucket{route=\"r\",le=\"+Inf\"} 0\n")
        .contains("x_sum{route=\"r\"} 0.0\n")
        .contains("x_count{route=\"r\"} 0\n");
    h.observe(3_000_000);
    h.observe(20_000_000_000L);
    var out = new StringBuilder();
    h.render(out, "x", "route=\"r\"");
    assertThat(h.count()).isEqualTo(2);
    assertThat(out.toString())
        .contains("x_bucket{route=\"r\",le=\"0.002\"} 0\n")
        .contains("x_bucket{route=\"r\",le=\"0.005\"} 1\n")
        .contains("x_bucket{route=\"r\",le=\"10.0\"} 1\n")
        .contains("x_bucket{route=\"r\",le=\"+Inf\"} 2\n")
        .contains("x_sum{route=\"r\"} 20.003\n")
        .contains("x_count{route=\"r\"} 2\n");
    assertThat(out.toString().lines()).hasSameSizeAs(empty.toString().lines().toList());
  }
}
