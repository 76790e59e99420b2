package io.archway.dataplane.stream;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A stream connection's idle timer: {@link IdleStateEvent}s (all idle) once no bytes went either
 * way for the timeout, as Netty's {@code IdleStateHandler(0, 0, timeout)} fires them, without its
 * promise and listener on every write (a Redis proxy writes once per reply batch and client).
 *
 * <p>A read counts when it is over, as there. A write counts when it is done, as there: a flush
 * that leaves nothing pending wrote everything it had, then and there (epoll and NIO write within
 * the flush while the socket takes it); one that leaves bytes behind (a client reading slowly, or a
 * transport that writes later, io_uring) is followed by an empty write whose promise completes once
 * everything before it is written, and that is when it counts.
 */
final class StreamIdle extends ChannelDuplexHandler {

  private final long timeoutNanos;
  private long lastActivity;
  private boolean reading;
  private boolean wrote; // written since the last flush
  private boolean first = true;
  private Future<?> timer;
  private ChannelHandlerContext ctx;
  private final ChannelFutureListener written = f -> written();
  private final Runnable check = this::check;

  StreamIdle(long timeout, TimeUnit unit) {
    this.timeoutNanos = Math.max(unit.toNanos(timeout), TimeUnit.MILLISECONDS.toNanos(1));
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
      start();
    }
  }

  @Override
  public void channelRegistered(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isActive()) {
      start();
    }
    super.channelRegistered(ctx);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    start();
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    stop();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    reading = true;
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (reading) {
      lastActivity = now();
      first = true;
      reading = false;
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    wrote = true;
    ctx.write(msg, promise);
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    ctx.flush();
    if (!wrote) {
      return;
    }
    wrote = false;
    var out = ctx.channel().unsafe().outboundBuffer();
    if (out == null || out.totalPendingWriteBytes() == 0) {
      written();
      return;
    }
    // Not all written yet: an empty write behind it says when it is.
    ctx.write(Unpooled.EMPTY_BUFFER, ctx.newPromise().addListener(written));
    ctx.flush();
  }

  private void written() {
    lastActivity = now();
    first = true;
  }

  private long now() {
    return ctx.executor().ticker().nanoTime();
  }

  private void start() {
    if (timer != null) {
      return;
    }
    lastActivity = now();
    timer = ctx.executor().schedule(check, timeoutNanos, TimeUnit.NANOSECONDS);
  }

  private void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void check() {
    if (timer == null || !ctx.channel().isOpen()) {
      return;
    }
    long next = reading ? timeoutNanos : timeoutNanos - (now() - lastActivity);
    if (next > 0) {
      timer = ctx.executor().schedule(check, next, TimeUnit.NANOSECONDS);
      return;
    }
    timer = ctx.executor().schedule(check, timeoutNanos, TimeUnit.NANOSECONDS);
    var event =
        first ? IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT : IdleStateEvent.ALL_IDLE_STATE_EVENT;
    first = false;
    ctx.fireUserEventTriggered(event);
  }
}
