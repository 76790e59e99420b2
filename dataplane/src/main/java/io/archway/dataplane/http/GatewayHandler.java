package io.archway.dataplane.http;

import io.archway.dataplane.exchange.Downstream;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.exchange.ExchangeTimer;
import io.archway.dataplane.exchange.LoadShedding;
import io.archway.dataplane.route.Peer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/1.1 adapter: turns a client connection into exchanges for the {@link
 * io.archway.dataplane.pipeline.Pipeline}, one request at a time, and keeps what is the
 * connection's: the channel does not read on its own, this handler asks for each message ({@code
 * read()}), so pipelined requests are answered in order and a slow side holds back the other; the
 * unread rest of a body is skipped after an early answer; keep-alive or close; {@code 100
 * Continue}; the decoder's refusals; writability; an {@code Upgrade: h2c} handed to HTTP/2 where
 * the listener takes h2c. It knows no plugin, route or handler. While the server sheds load, a
 * request body stops being read ({@link LoadShedding}: parked until shedding ends, or reset with
 * 503 if it holds the most), and every answer closes its connection.
 */
final class GatewayHandler extends ChannelInboundHandlerAdapter
    implements Downstream, LoadShedding.Reader {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayHandler.class);

  private enum State {
    IDLE, // waiting for a request head
    EXCHANGE, // a request is being served
    DRAIN, // answered early: skipping the rest of its body
    CLOSED
  }

  private final Gateway gateway;
  private final ClientTimeouts timeouts;
  private final boolean https;
  private final Http2Handoff h2c; // null unless Upgrade: h2c is taken on this connection
  private ChannelHandlerContext ctx;
  private State state = State.IDLE;
  private Exchange exchange; // the request being served
  private boolean keepAlive;
  private long drained;
  private Peer peer;
  private ExchangeTimer timer;
  // The current request's last content has been read from the client.
  private boolean requestBodyDone;
  private boolean pullWhenWritable;
  private String protocol = "HTTP/1.1";
  private boolean handedOver; // upgraded to h2c: bytes pass on to HTTP/2
  private boolean parked; // the body's next read waits for shedding to end

  GatewayHandler(Gateway gateway, ClientTimeouts timeouts, boolean https, Http2Handoff h2c) {
    this.gateway = gateway;
    this.timeouts = timeouts;
    this.https = https;
    this.h2c = h2c;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    peer =
        Peer.of(
            (InetSocketAddress) ctx.channel().remoteAddress(),
            io.archway.dataplane.support.ServerPort.of(ctx.channel()),
            https ? "https" : "http");
    timer = new ExchangeTimer(ctx.executor());
    gateway.metrics().connectionOpened();
    // Counted on close rather than in channelInactive: after a WebSocket upgrade this handler
    // is no longer in the pipeline to see it.
    ctx.channel().closeFuture().addListener(f -> gateway.metrics().connectionClosed());
    pull();
    ctx.fireChannelActive();
  }

  // The channel reads only when asked. Decoded messages wait here and are handed on one per
  // pull(): a request, then its body chunk by chunk as the exchange can take them. Reentrant
  // pulls (a write that completes at once and asks for more) are served by the loop in drain().
  private final ArrayDeque<Object> pending = new ArrayDeque<>();
  private boolean wanted;
  private boolean draining;

  /** Asks for the next message from the client: from what was decoded already, or the socket. */
  private void pull() {
    wanted = true;
    drain();
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (wanted) {
        var msg = pending.poll();
        if (msg == null) {
          if (state == State.EXCHANGE
              && !requestBodyDone
              && gateway.pipeline().shedding().park(this, held())) {
            parked = true; // memory past its mark: no more of this body until it is under
          } else {
            ctx.read();
          }
          break;
        }
        wanted = false;
        dispatch(msg);
      }
    } finally {
      draining = false;
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (handedOver && msg instanceof ByteBuf) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (state == State.CLOSED) {
      ReferenceCountUtil.release(msg);
      return;
    }
    pending.add(msg);
    drain();
  }

  private void dispatch(Object msg) {
    if (msg instanceof HttpContent c && c.decoderResult().isFailure()) {
      bodyBroken(c);
      return;
    }
    switch (state) {
      case IDLE -> {
        if (msg instanceof HttpRequest req) {
          onRequest(req);
        } else {
          ReferenceCountUtil.release(msg);
          pull();
        }
      }
      case EXCHANGE -> {
        if (msg instanceof HttpContent c) {
          requestBodyDone = msg instanceof LastHttpContent;
          exchange.content(c);
        } else {
          ReferenceCountUtil.release(msg);
        }
      }
      case DRAIN -> skip(msg);
      case CLOSED -> ReferenceCountUtil.release(msg);
    }
  }

  private void onRequest(HttpRequest req) {
    if (!req.decoderResult().isFailure() && req.headers().contains(H2cUpgrade.HTTP2_SETTINGS)) {
      if (h2c != null && H2cUpgrade.isH2cUpgrade(req) && h2c.acceptsUpgrade(req)) {
        // 101, then HTTP/2 takes the connection; the request is served as stream 1.
        state = State.CLOSED;
        handedOver = true;
        releasePending();
        H2cUpgrade.handOver(ctx, timeouts, this, h2c, req);
        return;
      }
      // Not taken: the field is this hop's alone.
      req.headers().remove(H2cUpgrade.HTTP2_SETTINGS);
    }
    timeouts.busy();
    requestBodyDone = false;
    long start = System.nanoTime();
    var ex = new Exchange(this, req, start);
    exchange = ex;
    protocol = req.protocolVersion().text();
    state = State.EXCHANGE;
    if (req.decoderResult().isFailure()) {
      var cause = req.decoderResult().cause();
      int status = 400;
      String error = "bad_request";
      if (cause instanceof RequestRejected r) {
        status = r.status();
        error = r.error();
        LOG.debug("request from {} refused: {}", peer.addressText(), r.getMessage());
      }
      gateway.metrics().error(error);
      gateway.pipeline().refuse(ex, status);
      return;
    }
    keepAlive = HttpUtil.isKeepAlive(req) && !gateway.stopping().getAsBoolean();
    gateway.pipeline().run(ex);
  }

  /** The decoder found the body's framing broken (a bad chunk): refuse, and close. */
  private void bodyBroken(HttpContent c) {
    var cause = c.decoderResult().cause();
    ReferenceCountUtil.release(c);
    var r = cause instanceof RequestRejected rr ? rr : RequestRejected.malformed("body");
    gateway.metrics().error(r.error());
    LOG.debug("request body from {} refused: {}", peer.addressText(), r.getMessage());
    keepAlive = false;
    if (state == State.EXCHANGE) {
      exchange.bodyBroken(r.status());
    } else {
      close();
    }
  }

  /** Skips a piece of a body answered early; too much of it closes the connection instead. */
  private void skip(Object msg) {
    if (msg instanceof HttpContent c) {
      drained += c.content().readableBytes();
    }
    boolean last = msg instanceof LastHttpContent;
    ReferenceCountUtil.release(msg);
    long limit = Math.max(gateway.settings().maxBodySize(), 1 << 20);
    if (drained > limit) {
      close();
      return;
    }
    if (last) {
      nextRequest();
    } else {
      pull();
    }
  }

  private void nextRequest() {
    state = State.IDLE;
    requestBodyDone = false;
    timeouts.idle();
    if (ctx.channel().isWritable()) {
      pull();
    } else {
      // The client is not reading its answers: pipelined requests wait until it does, so their
      // answers cannot pile up without bound.
      pullWhenWritable = true;
    }
  }

  // Downstream: what the pipeline asks of this connection.

  @Override
  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  @Override
  public ByteBufAllocator alloc() {
    return ctx.alloc();
  }

  @Override
  public Peer peer() {
    return peer;
  }

  @Override
  public String protocol() {
    return protocol;
  }

  @Override
  public ExchangeTimer timer() {
    return timer;
  }

  @Override
  public void pullBody() {
    pull();
  }

  @Override
  public void sendContinue() {
    ctx.writeAndFlush(
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
  }

  @Override
  public void write(HttpObject msg) {
    if (msg instanceof HttpResponse res
        && (!keepAlive || gateway.pipeline().shedding().shedding())) {
      // Shedding: the client's next request goes to a new connection, which another replica may
      // take (Envoy's disable_http_keepalive).
      keepAlive = false;
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    // No listener on the writes of a kept-alive exchange: a void promise (no promise object, no
    // notification); a failed write reaches exceptionCaught, which closes.
    if (msg instanceof LastHttpContent) {
      if (keepAlive) {
        ctx.writeAndFlush(msg, ctx.voidPromise());
      } else {
        ctx.writeAndFlush(msg).addListener(ChannelFutureListener.CLOSE);
      }
    } else {
      ctx.write(msg, ctx.voidPromise());
    }
  }

  @Override
  public void flush() {
    ctx.flush();
  }

  @Override
  public boolean isWritable() {
    return ctx.channel().isWritable();
  }

  @Override
  public boolean keepAlive() {
    return keepAlive;
  }

  @Override
  public void closeAfterResponse() {
    keepAlive = false;
  }

  @Override
  public void close() {
    state = State.CLOSED;
    unpark();
    ctx.close();
  }

  @Override
  public void exchangeDone(boolean reusable) {
    exchange = null;
    unpark();
    if (state == State.CLOSED || !reusable || !keepAlive) {
      // Whoever ended the response closes the connection (after its last write).
      state = State.CLOSED;
      return;
    }
    if (requestBodyDone) {
      nextRequest();
    } else {
      // The request body may still be coming: skip it, then serve the next request.
      state = State.DRAIN;
      drained = 0;
      pull();
    }
  }

  @Override
  public boolean clientCertificateAdmits(String path) {
    return !https || ClientCertificates.admit(ctx, path);
  }

  @Override
  public ChannelHandlerContext connection() {
    return ctx;
  }

  @Override
  public void upgraded() {
    state = State.CLOSED;
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      if (exchange != null) {
        exchange.writable();
      } else if (pullWhenWritable) {
        pullWhenWritable = false;
        if (state == State.IDLE) {
          pull();
        }
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  // LoadShedding.Reader: the body of the request being served, while shedding.

  /** What this connection holds of the request body: the exchange's, and what waits decoded. */
  private long held() {
    long n = exchange == null ? 0 : exchange.bodyHeld();
    for (var m : pending) {
      if (m instanceof HttpContent c) {
        n += c.content().readableBytes();
      }
    }
    return n;
  }

  @Override
  public void resumeReads() {
    if (parked) {
      parked = false;
      drain();
    }
  }

  @Override
  public void resetForMemory() {
    if (!parked) {
      return;
    }
    // Parked again since it was picked (a new request on the connection): not in the set again.
    unpark();
    if (state == State.EXCHANGE && exchange != null) {
      gateway.metrics().error("overload_reset");
      keepAlive = false;
      exchange.bodyBroken(503);
    }
  }

  private void unpark() {
    if (parked) {
      parked = false;
      gateway.pipeline().shedding().leave(this);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    unpark();
    releasePending();
    var ex = exchange;
    exchange = null;
    state = State.CLOSED;
    if (timer != null) {
      timer.stop();
    }
    if (ex != null) {
      ex.closed();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releasePending();
    if (timer != null) {
      timer.stop();
    }
  }

  private void releasePending() {
    Object m;
    while ((m = pending.poll()) != null) {
      ReferenceCountUtil.release(m);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof java.io.IOException)) {
      // A defect, not a client going away: it must be seen.
      LOG.warn("request failed", cause);
    }
    ctx.close();
  }
}
