package io.archway.dataplane.stream.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MoveFenceTest {

  private final AtomicInteger released = new AtomicInteger();

  private EmbeddedChannel channel() {
    return new EmbeddedChannel(new MoveFence(released::incrementAndGet));
  }

  private static ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
  }

  private static String readText(EmbeddedChannel ch) {
    ByteBuf b = ch.readInbound();
    try {
      return b.toString(StandardCharsets.US_ASCII);
    } finally {
      b.release();
    }
  }

  @Test
  void theAnswerIsDroppedAndWhatFollowsItInTheSameReadIsHandedOn() {
    var ch = channel();
    ch.writeInbound(text("+PONG\r\n*1\r\n"));
    assertThat(released).hasValue(1);
    assertThat(readText(ch)).isEqualTo("*1\r\n");
    assertThat(ch.pipeline().get(MoveFence.class)).isNull();
    ch.writeInbound(text("$1\r\nx\r\n"));
    assertThat(readText(ch)).isEqualTo("$1\r\nx\r\n");
    assertThat(released).hasValue(1);
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void anAnswerSplitOverReadsIsDroppedWhole() {
    var ch = channel();
    ch.writeInbound(text("-NOAUTH Authentication"));
    assertThat(released).hasValue(0);
    assertThat((Object) ch.readInbound()).isNull();
    ch.writeInbound(text(" required.\r\n"));
    assertThat(released).hasValue(1);
    assertThat((Object) ch.readInbound()).isNull();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void theLinkGoesOnOnceWhenTheConnectionEndsBeforeTheAnswer() {
    var ch = channel();
    ch.close();
    assertThat(released).hasValue(1);
    ch.finishAndReleaseAll();
    assertThat(released).hasValue(1);
  }
}
