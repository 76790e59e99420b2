package io.archway.dataplane.support;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;

/**
 * Relays bytes to {@code peer}: reads again once the peer took the last write (or when it becomes
 * writable again), passes half-closes on, and closes the peer when this side closes.
 */
public final class Relay extends ChannelInboundHandlerAdapter {
  private final Channel peer;

  public Relay(Channel peer) {
    this.peer = peer;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf)) {
      ReferenceCountUtil.release(msg);
      ctx.read();
      return;
    }
    if (!peer.isActive()) {
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    peer.writeAndFlush(msg)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                ctx.close();
                peer.close();
              } else if (peer.isWritable() && !inputShutdown(ctx.channel())) {
                ctx.read();
              }
            });
  }

  /** Whether {@code ch}'s input is shut; reading such a channel again makes Netty close it. */
  public static boolean inputShutdown(Channel ch) {
    return ch instanceof DuplexChannel d && d.isInputShutdown();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && !inputShutdown(peer)) {
      peer.read();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      if (peer instanceof DuplexChannel d && peer.isActive()) {
        d.shutdownOutput();
      }
      if (ctx.channel() instanceof DuplexChannel self && self.isOutputShutdown()) {
        ctx.close();
        peer.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (peer.isActive()) {
      peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
