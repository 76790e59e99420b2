package io.archway.dataplane.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One direction of a WebSocket tunnel, in front of its byte relay: it follows the frame boundaries
 * (headers only; payloads pass untouched), so that on shutdown the gateway can end the tunnel as
 * RFC 6455 wants, with a Close frame ({@code 1001 going away}) of its own to each side instead of a
 * reset. {@link #goingAway()} sends the Close to the peer at the next frame boundary of this
 * direction (what was read of a frame still goes through first); from then on what this side sends
 * is dropped. The tunnel is told when this side sends a Close of its own (its answer to ours, or
 * one it sent first), so that it closes both connections once both sides have.
 */
final class WebSocketFrames extends ChannelInboundHandlerAdapter {

  /** The status code of the Close frames sent on shutdown: the endpoint is going away. */
  static final int GOING_AWAY = 1001;

  private static final int OPCODE_CLOSE = 0x8;

  private final Channel peer;
  private final boolean maskToPeer;
  private final Runnable sideClosed;
  private ChannelHandlerContext ctx;
  private final byte[] head = new byte[14];
  private int headLength;
  private long payloadLeft;
  private boolean closePassed;
  private boolean closing;
  private boolean closeSent;

  /**
   * @param peer where this side's bytes go
   * @param maskToPeer whether frames to the peer must be masked (the peer is the server)
   * @param sideClosed run once, when this side sends a Close frame
   */
  WebSocketFrames(Channel peer, boolean maskToPeer, Runnable sideClosed) {
    this.peer = peer;
    this.maskToPeer = maskToPeer;
    this.sideClosed = sideClosed;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  /** Whether this side has sent a Close frame. */
  boolean sideClosed() {
    return closePassed;
  }

  /** Follows the frames of bytes that reached the peer without this handler (none may close). */
  void passed(ByteBuf bytes) {
    scan(bytes, bytes.readerIndex(), bytes.writerIndex());
  }

  /** On the channel's event loop: end this direction with a Close at the next frame boundary. */
  void goingAway() {
    if (closing) {
      return;
    }
    closing = true;
    if (closePassed) {
      // This side closed already: its Close went to the peer, which answers it.
      closeSent = true;
      return;
    }
    if (atBoundary()) {
      sendClose();
      ctx.read();
    }
  }

  private boolean atBoundary() {
    return headLength == 0 && payloadLeft == 0;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (closeSent) {
      scan(buf, buf.readerIndex(), buf.writerIndex());
      buf.release();
      ctx.read();
      return;
    }
    int end = scan(buf, buf.readerIndex(), buf.writerIndex());
    if (end == buf.writerIndex()) {
      ctx.fireChannelRead(buf);
      return;
    }
    // Closing, and a frame ended inside this buffer: what comes before goes on, then our Close.
    if (end > buf.readerIndex()) {
      ctx.fireChannelRead(buf.retainedSlice(buf.readerIndex(), end - buf.readerIndex()));
    }
    sendClose();
    scan(buf, end, buf.writerIndex());
    buf.release();
    ctx.read();
  }

  /**
   * Follows the frames in {@code buf[from, to)}; returns where to stop forwarding (the first frame
   * boundary once closing and before our Close went out), else {@code to}.
   */
  private int scan(ByteBuf buf, int from, int to) {
    int i = from;
    while (i < to) {
      if (closing && !closeSent && atBoundary()) {
        return i;
      }
      if (payloadLeft > 0) {
        long n = Math.min(payloadLeft, to - i);
        payloadLeft -= n;
        i += (int) n;
        continue;
      }
      head[headLength++] = buf.getByte(i++);
      int need = headerLength();
      if (need > 0 && headLength == need) {
        frameStarts();
      }
    }
    return to;
  }

  /** The whole header's length once its first two bytes are in, else 0. */
  private int headerLength() {
    if (headLength < 2) {
      return 0;
    }
    int len = head[1] & 0x7f;
    int ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    int mask = (head[1] & 0x80) != 0 ? 4 : 0;
    return 2 + ext + mask;
  }

  private void frameStarts() {
    int len = head[1] & 0x7f;
    long payload = len;
    if (len == 126) {
      payload = ((head[2] & 0xffL) << 8) | (head[3] & 0xffL);
    } else if (len == 127) {
      payload = 0;
      for (int k = 2; k < 10; k++) {
        payload = (payload << 8) | (head[k] & 0xffL);
      }
    }
    boolean close = (head[0] & 0x0f) == OPCODE_CLOSE;
    headLength = 0;
    payloadLeft = payload;
    if (close && !closePassed) {
      closePassed = true;
      sideClosed.run();
    }
  }

  private void sendClose() {
    closeSent = true;
    if (!peer.isActive()) {
      return;
    }
    var frame = Unpooled.buffer(maskToPeer ? 8 : 4);
    frame.writeByte(0x80 | OPCODE_CLOSE);
    if (maskToPeer) {
      var mask = new byte[4];
      ThreadLocalRandom.current().nextBytes(mask);
      frame.writeByte(0x80 | 2).writeBytes(mask);
      frame.writeByte((GOING_AWAY >> 8) ^ mask[0]).writeByte((GOING_AWAY & 0xff) ^ mask[1]);
    } else {
      frame.writeByte(2).writeShort(GOING_AWAY);
    }
    peer.writeAndFlush(frame);
  }
}
