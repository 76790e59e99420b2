package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OverloadTest {

  /** Memory figures a test sets; no GC is ever due. */
  static final class Figures implements MemoryProbe {
    volatile double heap;
    volatile double direct;

    @Override
    public double heap() {
      return heap;
    }

    @Override
    public double direct() {
      return direct;
    }

    @Override
    public long lastGcMillis() {
      return Long.MAX_VALUE;
    }
  }

  private final Figures figures = new Figures();
  private final Overload overload = new Overload(OverloadSettings.DEFAULTS, figures);

  @Test
  void shedsPastTheHighWaterMarkUntilUnderTheLowOne() {
    figures.heap = 0.5;
    overload.sample();
    assertThat(overload.shedding()).isFalse();
    figures.heap = 0.9;
    overload.sample();
    assertThat(overload.shedding()).isTrue();
    // Between the marks: shedding goes on (hysteresis), so it does not flap at the mark.
    figures.heap = 0.85;
    overload.sample();
    assertThat(overload.shedding()).isTrue();
    figures.heap = 0.79;
    overload.sample();
    assertThat(overload.shedding()).isFalse();
    figures.heap = 0.85;
    overload.sample();
    assertThat(overload.shedding()).isFalse();
  }

  @Test
  void directMemoryCountsAsMuchAsTheHeapAndBothMustBeUnderTheLowMark() {
    figures.direct = 0.95;
    overload.sample();
    assertThat(overload.shedding()).isTrue();
    figures.direct = 0.1;
    figures.heap = 0.81;
    overload.sample();
    assertThat(overload.shedding()).isTrue();
    figures.heap = 0.1;
    overload.sample();
    assertThat(overload.shedding()).isFalse();
  }

  @Test
  void requestsAreShedAndCountedOnlyWhileShedding() {
    assertThat(overload.shedRequest()).isFalse();
    figures.heap = 0.99;
    overload.sample();
    assertThat(overload.shedRequest()).isTrue();
    assertThat(overload.shedRequest()).isTrue();
    assertThat(overload.shedRequests()).isEqualTo(2);
    var out = new StringBuilder();
    overload.render(out);
    assertThat(out.toString())
        .contains("archway_overload_shedding 1\n")
        .contains("archway_overload_episodes_total 1\n")
        .contains("archway_overload_requests_shed_total 2\n")
        .contains("archway_overload_memory_ratio{memory=\"heap\"} 0.99\n");
  }

  @Test
  void refusedConnectionsAreCountedByReason() {
    overload.refused(Overload.Reason.MAX_CONNECTIONS, 9080);
    overload.refused(Overload.Reason.MAX_CONNECTIONS, 9080);
    overload.refused(Overload.Reason.MEMORY, 9080);
    var out = new StringBuilder();
    overload.render(out);
    assertThat(out.toString())
        .contains("archway_overload_connections_refused_total{reason=\"max_connections\"} 2\n")
        .contains("archway_overload_connections_refused_total{reason=\"memory\"} 1\n");
  }

  @Test
  void aHighWaterMarkOfZeroNeverSheds() {
    var off = new Overload(OverloadSettings.DEFAULTS.withMemory(0, 0), figures);
    figures.heap = 1;
    off.sample();
    assertThat(off.shedding()).isFalse();
  }

  @Test
  void settingsAreChecked() {
    assertThatThrownBy(() -> OverloadSettings.DEFAULTS.withMaxConnections(-1))
        .hasMessageContaining("max_connections: -1");
    assertThatThrownBy(() -> OverloadSettings.DEFAULTS.withMemory(0.8, 0.9))
        .hasMessageContaining("memory_low_water: 0.9 (expected: above 0 and below");
    assertThatThrownBy(() -> OverloadSettings.DEFAULTS.withMemory(1.5, 0.9))
        .hasMessageContaining("memory_high_water: 1.5");
  }
}
