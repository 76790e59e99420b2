package io.archway.dataplane.http;

import io.archway.dataplane.exchange.HttpMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Client-side timeouts, first in the pipeline so it sees raw bytes: a connection waiting for a
 * request closes after the idle timeout; once the first byte of a request head arrives, the whole
 * head must follow within the header timeout (a slowloris client is cut off however slowly it
 * trickles). While a request is being served the gateway's exchange keeps its own timers.
 */
final class ClientTimeouts extends ChannelDuplexHandler {

  private enum Phase {
    IDLE,
    HEAD,
    BUSY
  }

  private final long idleNanos;
  private final long headerNanos;
  private final HttpMetrics metrics;
  private ChannelHandlerContext ctx;
  private Phase phase = Phase.IDLE;
  private long since = System.nanoTime();
  private ScheduledFuture<?> timer;

  ClientTimeouts(HttpSettings s, HttpMetrics metrics) {
    this.idleNanos = s.idleTimeout().toNanos();
    this.headerNanos = s.headerTimeout().toNanos();
    this.metrics = metrics;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    arm(idleNanos);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (phase == Phase.IDLE && msg instanceof ByteBuf b && b.isReadable()) {
      phase = Phase.HEAD;
      since = System.nanoTime();
    }
    ctx.fireChannelRead(msg);
  }

  /** A request head arrived whole: the exchange takes over. */
  void busy() {
    phase = Phase.BUSY;
  }

  /** The request was answered; the connection waits for the next one. */
  void idle() {
    phase = Phase.IDLE;
    since = System.nanoTime();
  }

  private void arm(long nanos) {
    timer = ctx.executor().schedule(this::check, Math.max(1, nanos), TimeUnit.NANOSECONDS);
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void check() {
    timer = null;
    if (!ctx.channel().isActive()) {
      return;
    }
    long limit =
        switch (phase) {
          case IDLE -> idleNanos;
          case HEAD -> headerNanos;
          case BUSY -> Long.MAX_VALUE;
        };
    long waited = System.nanoTime() - since;
    if (waited >= limit) {
      metrics.error(phase == Phase.HEAD ? "client_header_timeout" : "client_idle_timeout");
      ctx.close();
      return;
    }
    arm(phase == Phase.BUSY ? Math.min(idleNanos, headerNanos) : limit - waited);
  }
}
