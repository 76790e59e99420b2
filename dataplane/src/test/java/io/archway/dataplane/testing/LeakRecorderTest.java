package io.archway.dataplane.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The recorder behind {@link LeakDetectionExtension} sees a leak: leaks are injected here and taken
 * by the test itself, so the extension finds none and this class passes.
 */
class LeakRecorderTest {

  @Test
  void aBufferDroppedByTheTestIsReportedWithItsRecords() {
    LeakRecorder.collect();
    leakOne("dropped by the test");
    assertThat(LeakRecorder.collect())
        .anySatisfy(l -> assertThat(l).contains("ByteBuf").contains("dropped by the test"));
  }

  @Test
  void aBufferDroppedOnAnEventLoopIsReported() throws Exception {
    LeakRecorder.collect();
    var loop = new DefaultEventLoop();
    try {
      loop.submit(() -> leakOne("dropped on an event loop")).get(10, TimeUnit.SECONDS);
    } finally {
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }
    assertThat(LeakRecorder.collect())
        .anySatisfy(l -> assertThat(l).contains("dropped on an event loop"));
  }

  @Test
  void releasedBuffersAreNoLeak() {
    LeakRecorder.collect();
    var heap = Unpooled.buffer(16).touch("released");
    var pooled = ByteBufAllocator.DEFAULT.directBuffer(16).touch("released");
    heap.writeLong(1);
    pooled.writeLong(2);
    heap.release();
    pooled.release();
    assertThat(LeakRecorder.collect()).noneSatisfy(l -> assertThat(l).contains("released"));
  }

  /**
   * Allocates, touches and drops a buffer; a method of its own so nothing on the stack keeps it.
   */
  private static void leakOne(String hint) {
    var b = ByteBufAllocator.DEFAULT.buffer(32);
    b.writeInt(42);
    b.touch(LeakRecorder.EXPECTED + ": " + hint);
  }
}
