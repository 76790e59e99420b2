package io.archway.dataplane.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The Admin API on the HTTP port, as APISIX 2.x served it (off by default): the first bytes of a
 * connection decide. A request line whose target starts with {@code /apisix/admin} turns the
 * connection into an admin connection (the HTTP steps are replaced by the admin port's); anything
 * else goes on to the gateway untouched, and this handler leaves. Nothing is decided by a guess: it
 * waits for the bytes that decide (at most the method, a space and the prefix).
 */
final class DataPortSniffer extends ChannelInboundHandlerAdapter {

  private static final byte[] PREFIX = "/apisix/admin".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_METHOD = 16;

  /** The gateway's steps, by the names {@code HttpChannelInitializer} gives them. */
  private static final List<String> HTTP_STEPS = List.of("timeouts", "codec", "gateway");

  private final AdminChannelInitializer admin;
  private ByteBuf seen;

  DataPortSniffer(AdminChannelInitializer admin) {
    this.admin = admin;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    seen = seen == null ? in : Unpooled.wrappedBuffer(seen, in);
    var decision = decide(seen);
    if (decision == null) {
      ctx.read(); // the channel does not read on its own
      return;
    }
    var p = ctx.pipeline();
    var bytes = seen;
    seen = null;
    p.remove(this);
    if (decision) {
      for (var name : HTTP_STEPS) {
        if (p.get(name) != null) {
          p.remove(name);
        }
      }
      admin.addTo(ctx.channel().pipeline());
      ctx.channel().config().setAutoRead(true);
    }
    p.fireChannelRead(bytes);
  }

  /** Admin ({@code true}), not ({@code false}), or not yet known ({@code null}). */
  static Boolean decide(ByteBuf b) {
    int start = b.readerIndex();
    int n = b.readableBytes();
    int space = -1;
    for (int i = 0; i < Math.min(n, MAX_METHOD + 1); i++) {
      byte c = b.getByte(start + i);
      if (c == ' ') {
        space = i;
        break;
      }
      if (c < 'A' || c > 'Z') {
        return false;
      }
    }
    if (space < 0) {
      return n > MAX_METHOD ? false : null;
    }
    for (int i = 0; i < PREFIX.length; i++) {
      int at = space + 1 + i;
      if (at >= n) {
        return null;
      }
      if (b.getByte(start + at) != PREFIX[i]) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (seen != null) {
      seen.release();
      seen = null;
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (seen != null) {
      seen.release();
      seen = null;
    }
  }
}
