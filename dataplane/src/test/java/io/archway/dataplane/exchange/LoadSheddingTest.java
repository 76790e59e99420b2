package io.archway.dataplane.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

class LoadSheddingTest {

  /** A reader whose loop runs tasks when asked, and that records what it was told. */
  static final class Reader implements LoadShedding.Reader {
    final List<Runnable> tasks;
    final String name;
    boolean resumed;
    boolean reset;

    Reader(String name, List<Runnable> tasks) {
      this.name = name;
      this.tasks = tasks;
    }

    @Override
    public Executor eventLoop() {
      return tasks::add;
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

  final LoadShedding shedding = new LoadShedding();
  final List<Runnable> loop = new ArrayList<>();

  private void runLoop() {
    var now = List.copyOf(loop);
    loop.clear();
    now.forEach(Runnable::run);
  }

  @Test
  void nothingIsParkedOrShedWhileNotShedding() {
    var r = new Reader("r", loop);
    assertThat(shedding.park(r, 100)).isFalse();
    assertThat(shedding.shedRequest()).isFalse();
    assertThat(shedding.parked()).isZero();
    assertThat(shedding.shedRequests()).isZero();
  }

  @Test
  void parkedReadersReadAgainOnTheirOwnLoopOnceSheddingEnds() {
    shedding.startShedding();
    var a = new Reader("a", loop);
    var b = new Reader("b", loop);
    assertThat(shedding.park(a, 10)).isTrue();
    assertThat(shedding.park(b, 20)).isTrue();
    assertThat(shedding.park(b, 30)).isTrue(); // parked again: counted once
    assertThat(shedding.parked()).isEqualTo(2);
    assertThat(shedding.parks()).isEqualTo(2);
    shedding.stopShedding();
    assertThat(a.resumed).isFalse(); // not here: on the reader's loop
    runLoop();
    assertThat(a.resumed).isTrue();
    assertThat(b.resumed).isTrue();
    assertThat(shedding.parked()).isZero();
  }

  @Test
  void theReadersHoldingTheMostAreResetFirstUntilEnoughIsFreed() {
    shedding.startShedding();
    var small = new Reader("small", loop);
    var big = new Reader("big", loop);
    var middle = new Reader("middle", loop);
    var empty = new Reader("empty", loop);
    shedding.park(small, 10);
    shedding.park(big, 50);
    shedding.park(middle, 30);
    shedding.park(empty, 0);
    assertThat(shedding.resetLargest(60)).isEqualTo(80);
    runLoop();
    assertThat(big.reset).isTrue();
    assertThat(middle.reset).isTrue();
    assertThat(small.reset).isFalse();
    assertThat(shedding.parked()).isEqualTo(2);
    // Whatever is asked, a reader holding nothing is not reset: it would free nothing.
    assertThat(shedding.resetLargest(1_000)).isEqualTo(10);
    runLoop();
    assertThat(small.reset).isTrue();
    assertThat(empty.reset).isFalse();
    assertThat(shedding.resets()).isEqualTo(3);
    assertThat(shedding.resetBytes()).isEqualTo(90);
  }

  @Test
  void aRoundResetsAtMostItsCap() {
    shedding.startShedding();
    for (int i = 0; i < LoadShedding.MAX_RESETS_PER_ROUND + 10; i++) {
      shedding.park(new Reader("r" + i, loop), 1_000);
    }
    shedding.resetLargest(Long.MAX_VALUE);
    assertThat(loop).hasSize(LoadShedding.MAX_RESETS_PER_ROUND);
    assertThat(shedding.parked()).isEqualTo(10);
  }

  @Test
  void aReaderThatLeftIsNeitherResumedNorReset() {
    shedding.startShedding();
    var r = new Reader("r", loop);
    shedding.park(r, 100);
    shedding.leave(r);
    assertThat(shedding.resetLargest(100)).isZero();
    shedding.stopShedding();
    runLoop();
    assertThat(r.reset).isFalse();
    assertThat(r.resumed).isFalse();
  }
}
