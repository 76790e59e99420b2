package io.archway.dataplane.http2;

import io.archway.dataplane.route.Peer;
import io.archway.dataplane.tls.TlsHandlers;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What belongs to an HTTP/2 connection rather than to a stream, after Netty's frame codec and
 * multiplexer on the connection's pipeline: the peer and its TLS facts, the connection's receive
 * window, a cap on PING and SETTINGS frames per interval (a flood ends the connection with {@code
 * GOAWAY ENHANCE_YOUR_CALM}), the idle timeout while no stream is open, and the drain on shutdown
 * ({@code GOAWAY}, then the open streams finish).
 */
final class H2Connection extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(H2Connection.class);

  private final Http2Gateway gateway;
  private final Http2FrameCodec codec;
  private final boolean counted;
  private ChannelHandlerContext ctx;
  private Peer peer;
  private int openStreams;
  private long idleSince = System.nanoTime();
  private ScheduledFuture<?> idleTimer;
  private long windowStart = System.nanoTime();
  private int controlFrames;
  private boolean flooded;
  private boolean goingAway;

  /**
   * @param counted count the connection in the metrics (an h2c upgrade was counted as HTTP/1.1)
   */
  H2Connection(Http2Gateway gateway, Http2FrameCodec codec, boolean counted) {
    this.gateway = gateway;
    this.codec = codec;
    this.counted = counted;
  }

  Http2Gateway gateway() {
    return gateway;
  }

  Peer peer() {
    return peer;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    this.ctx = ctx;
    var ch = ctx.channel();
    boolean tls = ctx.pipeline().get(SslHandler.class) != null;
    peer =
        Peer.of(
            (InetSocketAddress) ch.remoteAddress(),
            io.archway.dataplane.support.ServerPort.of(ch),
            tls ? "https" : "http");
    if (counted) {
      gateway.metrics().connectionOpened();
      ch.closeFuture().addListener(f -> gateway.metrics().connectionClosed());
    }
    // Every stream's window fits in the connection's: a stream whose node is slow keeps its
    // window closed without holding back the others.
    var connection = codec.connection();
    var flow = connection.local().flowController();
    int more =
        (int)
            (gateway.settings().connectionWindow()
                - flow.windowSize(connection.connectionStream()));
    if (more > 0) {
      flow.incrementWindowSize(connection.connectionStream(), more);
      ctx.flush();
    }
    armIdle();
  }

  void streamOpened() {
    openStreams++;
  }

  void streamClosed() {
    if (--openStreams == 0) {
      idleSince = System.nanoTime();
      armIdle();
    }
  }

  private void armIdle() {
    long nanos = gateway.idleTimeout().toNanos();
    if (nanos <= 0 || idleTimer != null) {
      return;
    }
    idleTimer = ctx.executor().schedule(this::checkIdle, nanos, TimeUnit.NANOSECONDS);
  }

  private void checkIdle() {
    idleTimer = null;
    if (!ctx.channel().isActive() || openStreams > 0) {
      return;
    }
    long waited = System.nanoTime() - idleSince;
    long limit = gateway.idleTimeout().toNanos();
    if (waited >= limit) {
      gateway.metrics().error("client_idle_timeout");
      ctx.channel().close(); // GOAWAY first (Netty's graceful close)
      return;
    }
    idleTimer = ctx.executor().schedule(this::checkIdle, limit - waited, TimeUnit.NANOSECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2PingFrame ping && !ping.ack() || msg instanceof Http2SettingsFrame) {
      countControlFrame();
    }
    ReferenceCountUtil.release(msg);
  }

  private void countControlFrame() {
    var s = gateway.settings();
    long now = System.nanoTime();
    if (now - windowStart > s.resetWindow().toNanos()) {
      windowStart = now;
      controlFrames = 0;
    }
    if (++controlFrames > s.maxControlFrames() && !flooded) {
      flooded = true;
      gateway.metrics().error("h2_control_frame_flood");
      LOG.debug(
          "HTTP/2 client {} sent over {} PING/SETTINGS frames in {}: GOAWAY",
          peer.addressText(),
          s.maxControlFrames(),
          s.resetWindow());
      goAway(Http2Error.ENHANCE_YOUR_CALM);
    }
  }

  private void goAway(Http2Error error) {
    if (!ctx.channel().isActive()) {
      return;
    }
    ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(error)).addListener(f -> ctx.channel().close());
  }

  /**
   * The server sheds load: {@code GOAWAY} (once) with the last stream taken, so that the client
   * opens its next streams on a new connection, which another replica may take; the open streams
   * finish first.
   */
  void goAwayShedding() {
    if (!goingAway) {
      goingAway = true;
      gateway.metrics().error("h2_goaway_overloaded");
      drain();
    }
  }

  /** The server stops: {@code GOAWAY}, the open streams finish, then the connection closes. */
  void drain() {
    // Netty's graceful close: GOAWAY with the last stream taken, and the close once no stream
    // is left open (or the graceful shutdown timeout passed).
    ctx.channel().close();
  }

  boolean clientCertificateAdmits(String path) {
    var ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return true;
    }
    var entry = ctx.channel().attr(TlsHandlers.CERTIFICATE).get();
    if (entry == null || !entry.clientCertificates() || entry.admits(path)) {
      return true;
    }
    try {
      return ssl.engine().getSession().getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (idleTimer != null) {
      idleTimer.cancel(false);
      idleTimer = null;
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof Http2Exception e) {
      // The codec has it in hand (GOAWAY with its error code, then the close): a close from here
      // would send a GOAWAY NO_ERROR first.
      gateway.metrics().error("h2_connection_error");
      LOG.debug(
          "HTTP/2 connection from {}: {}", peer == null ? "?" : peer.addressText(), e.getMessage());
      return;
    }
    if (!(cause instanceof java.io.IOException)) {
      LOG.debug("HTTP/2 connection from {} failed", peer == null ? "?" : peer.addressText(), cause);
    }
    ctx.close();
  }
}
