package io.archway.dataplane.stream.redis;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * Keeps the shared link's later commands back until Redis has run the commands of a session that
 * moved off it, on the session's new connection.
 *
 * <p>Writing the moved session's command before the link's later ones is not enough: Redis serves
 * its ready connections in the order its (level-triggered) epoll lists them, and a link it served a
 * moment earlier can still be listed ahead of a connection whose bytes arrived first. A blocking
 * read ({@code XREAD BLOCK ... $}) then ran after the write sent after it and waited for good (one
 * round in about 2,000 of RedisIsolationIT's ordering test, with the command written first).
 *
 * <p>So the move writes a {@code PING} ahead of the session's commands, in the same write. Redis
 * runs every command a read brings before it sends any reply, so when the {@code PING}'s answer
 * arrives the session's commands have run, or wait blocked at Redis; this handler then drops that
 * answer (one line: {@code +PONG}, or an error such as {@code -NOAUTH} the client's command gets
 * too), hands on what follows it, and lets the link go on ({@code release}). It lets the link go on
 * as well when the connection ends first. It sits ahead of the session's reply handler and leaves
 * once done.
 */
final class MoveFence extends ChannelInboundHandlerAdapter {

  static final String NAME = "move-fence";

  private Runnable release;

  /** {@code release} runs once, when the fence's answer is in or the connection ends. */
  MoveFence(Runnable release) {
    this.release = release;
  }

  /** The {@code PING} to write ahead of the moved session's commands. */
  static ByteBuf ping() {
    return Unpooled.wrappedBuffer(RedisLinks.PING);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (release == null || !(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    int end = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
    if (end < 0) {
      in.release(); // part of the answer's line: dropped, the rest comes in a later read
      return;
    }
    in.readerIndex(end + 1);
    letGo();
    ctx.pipeline().remove(this);
    if (in.isReadable()) {
      ctx.fireChannelRead(in);
    } else {
      in.release();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      letGo();
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    letGo();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    letGo();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    letGo();
    ctx.fireExceptionCaught(cause);
  }

  /** Lets the link go on, once: later calls do nothing. */
  void letGo() {
    var r = release;
    if (r != null) {
      release = null;
      r.run();
    }
  }
}
