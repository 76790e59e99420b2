package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OverloadTest {

  /** Memory figures a test sets; no GC is ever due. */
  static final class Figures implements MemoryProbe {
    volatile double heap;
    volatile double direct;
    volatile long limit = 1L << 30;
    volatile long lastGc = Long.MAX_VALUE;

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
      return lastGc;
    }

    @Override
    public long heapLimit() {
      return limit;
    }

    @Override
    public long directLimit() {
      return limit;
    }
  }

  /** A request body parked while shedding; its loop runs what it is given at once. */
  static final class Upload implements io.archway.dataplane.exchange.LoadShedding.Reader {
    boolean reset;
    boolean resumed;

    @Override
    public java.util.concurrent.Executor eventLoop() {
      return Runnable::run;
    }

    @Override
    public void resumeReads() {
      resumed = true;
    }

    @Override
    public void resetForMemory() {
      reset = true;
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
  void whileSheddingTheBodiesHoldingTheMostAreResetUntilMemoryIsUnderTheLowMark() {
    figures.limit = 1_000;
    figures.direct = 0.95;
    overload.sample();
    var shedding = overload.loadShedding();
    var big = new Upload();
    var small = new Upload();
    assertThat(shedding.park(big, 300)).isTrue();
    assertThat(shedding.park(small, 100)).isTrue();
    // 10 % over the low mark, of 1,000 bytes: the one that holds the most is enough.
    figures.direct = 0.9;
    overload.sample();
    assertThat(big.reset).isTrue();
    assertThat(small.reset).isFalse();
    // Under the low mark: shedding ends, and what is left reads again.
    figures.direct = 0.5;
    overload.sample();
    assertThat(overload.shedding()).isFalse();
    assertThat(small.resumed).isTrue();
    assertThat(small.reset).isFalse();
    var out = new StringBuilder();
    overload.render(out);
    assertThat(out.toString())
        .contains("archway_overload_requests_reset_total 1\n")
        .contains("archway_overload_reset_body_bytes_total 300\n")
        .contains("archway_overload_body_reads_paused_total 2\n")
        .contains("archway_overload_body_reads_paused 0\n");
  }

  @Test
  void theHeapFigureLeadsToOneRoundOfResetsPerGarbageCollection() {
    figures.limit = 1_000;
    // (GCs long after the uptime: no GC is asked for)
    figures.lastGc = Long.MAX_VALUE - 2;
    figures.heap = 0.95;
    overload.sample();
    var shedding = overload.loadShedding();
    var uploads = new java.util.ArrayList<Upload>();
    for (int i = 0; i < 4; i++) {
      var u = new Upload();
      uploads.add(u);
      shedding.park(u, 100);
    }
    // 150 bytes over the low mark: two uploads. The same figure again, with no GC since: none.
    overload.sample();
    overload.sample();
    assertThat(uploads.stream().filter(u -> u.reset)).hasSize(2);
    // A GC that left the heap as full: two more.
    figures.lastGc = Long.MAX_VALUE - 1;
    overload.sample();
    assertThat(uploads.stream().filter(u -> u.reset)).hasSize(4);
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
