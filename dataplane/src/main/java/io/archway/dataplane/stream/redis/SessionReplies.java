package io.archway.dataplane.stream.redis;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.config.RedisProtocol;
import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.support.Relay;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The reply path of one {@link RedisSession}: replies reach the client unchanged, either as slices
 * the {@link SharedLink} cut for it ({@link #fromLink}) or, on a connection of its own, as read
 * (this is that connection's handler, and {@link RespReplyScanner} counts the replies as they
 * stream past). Each reply ends the oldest command owed one ({@link AwaitedReplies}).
 *
 * <p>The client's replies waiting to be written are bounded ({@link RedisProtocol.OutputLimits}):
 * over the limit the client is disconnected, logged (rarely) and counted, and the link is never
 * held up for it.
 */
final class SessionReplies extends ChannelInboundHandlerAdapter {

  private final RedisSession session;
  private final CompiledStream route;
  private final StreamMetrics metrics;
  private final Channel client;
  private final RespReplyScanner scanner = new RespReplyScanner();
  private long softSince; // when the client's output went over the soft limit; 0 when under

  SessionReplies(
      RedisSession session, CompiledStream route, StreamMetrics metrics, Channel client) {
    this.session = session;
    this.route = route;
    this.metrics = metrics;
    this.client = client;
  }

  /** Replies from the shared link: {@code slice} holds them, of which {@code done} ended. */
  void fromLink(ByteBuf slice, int done) {
    if (session.closing()) {
      slice.release();
      return;
    }
    client.write(slice, client.voidPromise());
    var awaited = session.awaited;
    awaited.answered(done);
    if (overOutputLimit()) {
      return;
    }
    if (awaited.isEmpty()) {
      session.settle();
    }
    if (awaited.size() < RedisSession.MAX_IN_FLIGHT) {
      session.readClientIfRoom();
    }
  }

  /** The client can take writes again. */
  void clientWritable() {
    softSince = 0;
  }

  /**
   * Checks the client's replies waiting to be written against the route's limits, and disconnects
   * it (logged, counted) when they are over.
   */
  private boolean overOutputLimit() {
    var out = client.unsafe().outboundBuffer();
    if (out == null) {
      return false;
    }
    long queued = out.totalPendingWriteBytes();
    var limits = route.redis().output();
    if (queued <= limits.softBytes()) {
      softSince = 0;
      return false;
    }
    long now = System.nanoTime();
    if (softSince == 0) {
      softSince = now;
    }
    if (queued <= limits.hardBytes() && now - softSince < limits.softNanos()) {
      return false;
    }
    metrics.error("output_buffer_limit");
    RedisLog.warnRarely(
        "output_buffer_limit",
        "Redis route "
            + route.id()
            + ": client "
            + session.clientIp()
            + " disconnected: "
            + queued
            + " bytes of replies waiting for it ("
            + (queued > limits.hardBytes() ? "hard" : "soft")
            + " output buffer limit)");
    session.letGo();
    client.close();
    return true;
  }

  // The session's own connection.

  @Override
  public void channelRead(ChannelHandlerContext uctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    var awaited = session.awaited;
    if (!awaited.unmatched() || !awaited.isEmpty()) {
      try {
        scanner.feed(buf);
      } catch (RespException e) {
        // Not RESP from the server: pass it on, but stop matching replies.
        metrics.error("bad_upstream_reply");
        awaited.stopMatching();
      }
      awaited.answered(scanner.takeReplies());
    }
    client.write(buf);
    if (!overOutputLimit()
        && awaited.isEmpty()
        && (session.protocolError() || session.upstream.moving())) {
      session.settle();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext uctx) {
    client.flush();
    var own = session.upstream.own();
    if (client.isWritable() && !Relay.inputShutdown(own)) {
      own.read();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext uctx) {
    if (session.upstream.own().isWritable()) {
      session.readClientIfRoom();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext uctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      // The server closed (Redis never half-closes): so does the client, after the replies.
      uctx.close();
      return;
    }
    uctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext uctx) {
    // What the server sent is flushed first: a reply to QUIT, say.
    client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext uctx, Throwable cause) {
    uctx.close();
  }
}
