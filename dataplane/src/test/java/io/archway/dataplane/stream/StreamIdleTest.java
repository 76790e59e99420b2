package io.archway.dataplane.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StreamIdleTest {

  private final List<Object> events = new ArrayList<>();

  private EmbeddedChannel channel() {
    var ch =
        new EmbeddedChannel(
            new StreamIdle(10, TimeUnit.SECONDS),
            new ChannelInboundHandlerAdapter() {
              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
              }
            });
    ch.freezeTime();
    return ch;
  }

  private void after(EmbeddedChannel ch, long seconds) {
    ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
  }

  @Test
  void firesOnceNothingWentEitherWayForTheTimeout() {
    var ch = channel();
    after(ch, 9);
    assertThat(events).isEmpty();
    after(ch, 1);
    assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
    after(ch, 10);
    assertThat(events).last().isEqualTo(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    ch.finishAndReleaseAll();
  }

  @Test
  void aReadPutsItOff() {
    var ch = channel();
    after(ch, 6);
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {1}));
    ch.<io.netty.buffer.ByteBuf>readInbound().release();
    after(ch, 6);
    assertThat(events).isEmpty();
    after(ch, 4);
    assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
    ch.finishAndReleaseAll();
  }

  @Test
  void aWrittenFlushPutsItOffAndAFlushWithoutWritesDoesNot() {
    var ch = channel();
    after(ch, 6);
    ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}), ch.voidPromise());
    ch.<io.netty.buffer.ByteBuf>readOutbound().release();
    after(ch, 6);
    ch.flush();
    assertThat(events).isEmpty();
    after(ch, 4);
    assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
    ch.finishAndReleaseAll();
  }

  @Test
  void aWriteNotYetFlushedDoesNotCount() {
    var ch = channel();
    after(ch, 6);
    ch.write(Unpooled.wrappedBuffer(new byte[] {1}), ch.newPromise());
    after(ch, 4);
    assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
    ch.finishAndReleaseAll();
  }

  @Test
  void stopsWithTheChannel() {
    var ch = channel();
    ch.close();
    after(ch, 30);
    assertThat(events).isEmpty();
    ch.finishAndReleaseAll();
  }
}
