package io.archway.dataplane.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Decides what a connection speaks before any protocol handler sees it: on TLS, what ALPN chose
 * ({@code h2}, else HTTP/1.1); in cleartext with h2c on, whether the first bytes are HTTP/2's
 * connection preface (prior knowledge). Then it puts the chosen protocol's handlers behind itself,
 * hands them the connection's start and the bytes read, and leaves. The start ({@code
 * channelActive}) is held back until then, so the protocol handlers see it once they are in place.
 */
final class ProtocolSelector extends ChannelInboundHandlerAdapter {

  static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final boolean tls;
  private final Http2Handoff http2;
  private final Consumer<ChannelPipeline> http1;
  private ByteBuf seen; // cleartext: the bytes read while the preface could still be coming
  private boolean decided;

  ProtocolSelector(boolean tls, Http2Handoff http2, Consumer<ChannelPipeline> http1) {
    this.tls = tls;
    this.http2 = http2;
    this.http1 = http1;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    // Held back: fired again once the protocol's handlers are in.
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (decided || !(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (tls) {
      var ssl = ctx.pipeline().get(SslHandler.class);
      var chosen = ssl == null ? null : ssl.applicationProtocol();
      decide(ctx, ApplicationProtocolNames.HTTP_2.equals(chosen), in);
      return;
    }
    ByteBuf all;
    if (seen == null) {
      all = in;
    } else {
      seen.writeBytes(in);
      in.release();
      all = seen;
      seen = null;
    }
    int n = Math.min(all.readableBytes(), PREFACE.length);
    for (int i = 0; i < n; i++) {
      if (all.getByte(all.readerIndex() + i) != PREFACE[i]) {
        decide(ctx, false, all);
        return;
      }
    }
    if (n == PREFACE.length) {
      decide(ctx, true, all);
      return;
    }
    // A prefix of the preface so far: wait for the rest (the header timeout bounds the wait).
    seen = ctx.alloc().buffer(PREFACE.length).writeBytes(all);
    all.release();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (decided) {
      ctx.fireChannelReadComplete();
    } else {
      ctx.read();
    }
  }

  private void decide(ChannelHandlerContext ctx, boolean h2, ByteBuf read) {
    decided = true;
    var p = ctx.pipeline();
    if (h2) {
      // HTTP/2 keeps its own idle and header limits per connection and stream.
      if (p.get("timeouts") != null) {
        p.remove("timeouts");
      }
      http2.start(p);
    } else {
      http1.accept(p);
    }
    ctx.fireChannelActive();
    ctx.fireChannelRead(read);
    // The read's channelReadComplete follows from the head, past this handler, once removed.
    p.remove(this);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    release();
    ctx.fireChannelInactive();
  }

  private void release() {
    if (seen != null) {
      ReferenceCountUtil.release(seen);
      seen = null;
    }
  }
}
