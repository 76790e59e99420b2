package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The frame tracker of a WebSocket tunnel's direction: on shutdown its Close goes out at a frame
 * boundary, never inside a frame, whatever the reads' sizes; what this side sends after it is
 * dropped, and this side's Close is reported.
 */
class WebSocketFramesTest {

  private final EmbeddedChannel peer = new EmbeddedChannel();
  private final AtomicInteger closes = new AtomicInteger();
  private final WebSocketFrames frames = new WebSocketFrames(peer, true, closes::incrementAndGet);
  private final EmbeddedChannel side = new EmbeddedChannel(frames);

  @AfterEach
  void finish() {
    assertThat(side.finishAndReleaseAll()).isFalse();
    peer.finishAndReleaseAll();
  }

  /**
   * A masked client frame: FIN, {@code opcode}, payload length {@code n} (16-bit form if > 125).
   */
  private static byte[] frame(int opcode, int n) {
    var b = Unpooled.buffer();
    b.writeByte(0x80 | opcode);
    if (n > 125) {
      b.writeByte(0x80 | 126).writeShort(n);
    } else {
      b.writeByte(0x80 | n);
    }
    b.writeInt(0x01020304);
    b.writeZero(n);
    var bytes = ByteBufUtil.getBytes(b);
    b.release();
    return bytes;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    var out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private int forwarded() {
    int n = 0;
    for (ByteBuf b; (b = side.readInbound()) != null; ) {
      n += b.readableBytes();
      b.release();
    }
    return n;
  }

  @Test
  void theCloseWaitsForTheFrameInProgressThenWhatFollowsIsDropped() {
    var text = frame(0x1, 300);
    var next = frame(0x1, 10);
    side.writeInbound(Unpooled.wrappedBuffer(text, 0, 7));
    frames.goingAway();
    assertThat((Object) peer.readOutbound()).as("no Close inside a frame").isNull();
    // The rest of the frame and the start of the next one in one read.
    side.writeInbound(
        Unpooled.wrappedBuffer(concat(java.util.Arrays.copyOfRange(text, 7, text.length), next)));
    assertThat(forwarded()).isEqualTo(text.length);
    ByteBuf close = peer.readOutbound();
    assertThat(close.getUnsignedByte(0)).isEqualTo((short) 0x88);
    assertThat(close.getUnsignedByte(1)).as("masked, 2 bytes").isEqualTo((short) 0x82);
    int code =
        ((close.getUnsignedByte(6) ^ close.getUnsignedByte(2)) << 8)
            | (close.getUnsignedByte(7) ^ close.getUnsignedByte(3));
    assertThat(code).isEqualTo(WebSocketFrames.GOING_AWAY);
    close.release();
    assertThat(closes).hasValue(0);
    // This side's answer: dropped, and reported.
    side.writeInbound(Unpooled.wrappedBuffer(frame(0x8, 2)));
    assertThat(forwarded()).isZero();
    assertThat(closes).hasValue(1);
    assertThat(frames.sideClosed()).isTrue();
  }

  @Test
  void atABoundaryTheCloseGoesAtOnce() {
    side.writeInbound(Unpooled.wrappedBuffer(frame(0x2, 5)));
    assertThat(forwarded()).isEqualTo(11);
    frames.goingAway();
    ByteBuf close = peer.readOutbound();
    assertThat(close.readableBytes()).isEqualTo(8);
    close.release();
  }

  @Test
  void aCloseThisSideSentFirstIsNotDoubled() {
    side.writeInbound(Unpooled.wrappedBuffer(frame(0x8, 2)));
    assertThat(forwarded()).isEqualTo(8);
    assertThat(closes).hasValue(1);
    frames.goingAway();
    assertThat((Object) peer.readOutbound()).isNull();
  }
}
