package io.archway.dataplane.http;

import io.archway.dataplane.config.CompiledConfig;
import io.archway.dataplane.config.CompiledRoute;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugins.KafkaProxyPlugin;
import io.archway.dataplane.pubsub.PubSub;
import io.archway.dataplane.route.PathNormalizer;
import io.archway.dataplane.route.Peer;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.tls.TlsHandlers;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The one handler that runs a request through the gateway: route, then proxy (or a WebSocket
 * tunnel), or answer locally with APISIX's error bodies. The channel does not read on its own: this
 * handler asks for each message ({@code read()}), one request at a time, so pipelined requests are
 * answered in order and a slow side holds back the other.
 */
final class GatewayHandler extends ChannelInboundHandlerAdapter {

  static final byte[] NOT_FOUND = Outcome.errorBody("404 Route Not Found");
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(GatewayHandler.class);

  private enum State {
    IDLE,
    PLUGINS,
    PROXY,
    DRAIN,
    CLOSED
  }

  private final Gateway gateway;
  private final ClientTimeouts timeouts;
  private ChannelHandlerContext ctx;
  private State state = State.IDLE;
  private ProxyExchange exchange;
  // The plugins of the current request, or null when it has none.
  private PluginRun run;
  private boolean keepAlive;
  private boolean inRequest;
  private long drained;
  private Peer peer;
  private ExchangeTimer timer;
  private final boolean https;
  // The current request's last content has been read from the client.
  private boolean requestBodyDone;

  GatewayHandler(Gateway gateway, ClientTimeouts timeouts, boolean https) {
    this.gateway = gateway;
    this.timeouts = timeouts;
    this.https = https;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    peer =
        Peer.of(
            (InetSocketAddress) ctx.channel().remoteAddress(),
            ((InetSocketAddress) ctx.channel().localAddress()).getPort(),
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
  void pull() {
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
          ctx.read();
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
      case PROXY -> {
        requestBodyDone = msg instanceof LastHttpContent;
        exchange.onClientContent((HttpContent) msg);
      }
      case DRAIN -> drain(msg);
      case PLUGINS, CLOSED -> ReferenceCountUtil.release(msg);
    }
  }

  private void onRequest(HttpRequest req) {
    timeouts.busy();
    inRequest = true;
    requestBodyDone = false;
    gateway.inFlight().begin();
    long start = System.nanoTime();
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
      keepAlive = false;
      state = State.CLOSED;
      respond(status, Outcome.errorBody(status), null, null, start, req);
      return;
    }
    keepAlive = HttpUtil.isKeepAlive(req) && !gateway.stopping().getAsBoolean();
    RequestVars vars;
    try {
      vars =
          new RequestVars(
              req.method().name(), req.uri(), req.headers(), peer, gateway.settings().paths());
    } catch (PathNormalizer.BadTarget e) {
      // A path that would mean one thing here and another upstream (docs/security.md, "Paths").
      gateway.metrics().error("bad_request_target");
      keepAlive = false;
      state = State.CLOSED;
      respond(400, Outcome.errorBody(400), null, null, start, req);
      return;
    }
    if (https && !clientCertificateAdmits(vars.path())) {
      gateway.metrics().error("client_certificate_required");
      respond(400, NO_CLIENT_CERTIFICATE, null, null, start, req);
      return;
    }
    var config = gateway.config().current();
    var entry = config.router().match(vars);
    if (entry == null) {
      respond(404, NOT_FOUND, null, null, start, req);
      return;
    }
    var route = entry.target();
    var flow = config.flowOf(route);
    if (route.flowId() != null && flow == null) {
      gateway.metrics().error("plugin_flow_unavailable");
      respond(503, Outcome.errorBody(503), route, null, start, req);
      return;
    }
    if (route.plugins().isEmpty() && config.global().isEmpty() && flow == null) {
      proceed(req, vars, route, config, start);
      return;
    }
    var pc =
        new PluginContext(
            req,
            vars,
            route.id(),
            ctx.executor(),
            config.consumers(),
            config.upstreams()::get,
            start);
    state = State.PLUGINS;
    run =
        new PluginRun(
            pc,
            config.global(),
            route.plugins(),
            flow,
            new PluginRun.Listener() {
              @Override
              public void proceed() {
                if (state == State.PLUGINS) {
                  state = State.IDLE;
                  GatewayHandler.this.proceed(req, vars, route, config, start);
                }
              }

              @Override
              public void respond(Outcome.Respond r) {
                if (state == State.PLUGINS) {
                  state = State.IDLE;
                  GatewayHandler.this.respond(
                      r.status(), r.headers(), r.body(), route, null, start, req);
                }
              }
            });
    run.start();
  }

  /** The request phases are done: send the request upstream. */
  private void proceed(
      HttpRequest req, RequestVars vars, CompiledRoute route, CompiledConfig config, long start) {
    var chosen = run == null ? null : run.context().upstreamOverride();
    UpstreamRuntime upstream = chosen != null ? chosen : config.upstreamOf(route);
    if (upstream == null || upstream.nodes().isEmpty()) {
      gateway.metrics().error("no_upstream_nodes");
      respond(503, Outcome.errorBody(503), route, null, start, req);
      return;
    }
    if (PubSub.serves(upstream)) {
      pubsub(req, route, upstream, start);
      return;
    }
    long max = gateway.settings().maxBodySize();
    if (max > 0 && HttpUtil.getContentLength(req, -1L) > max) {
      gateway.metrics().error("body_too_large");
      keepAlive = false;
      state = State.CLOSED;
      respond(413, Outcome.errorBody(413), route, null, start, req);
      return;
    }
    if (run != null && !OutboundCheck.requestSafe(req.uri(), req.headers())) {
      // A plugin filled the path or a field from a variable holding CR, LF or NUL.
      gateway.metrics().error("unsafe_rewrite");
      keepAlive = false;
      state = State.CLOSED;
      respond(400, Outcome.errorBody(400), route, null, start, req);
      return;
    }
    boolean expectContinue = HttpUtil.is100ContinueExpected(req);
    if (expectContinue) {
      req.headers().remove(HttpHeaderNames.EXPECT);
    }
    if (route.websocket() && WebSocketTunnel.isUpgrade(req)) {
      state = State.CLOSED;
      new WebSocketTunnel(gateway, ctx, req, vars, route, upstream, start).start();
      return;
    }
    state = State.PROXY;
    exchange =
        new ProxyExchange(
            this, ctx, gateway, req, vars, route, upstream, expectContinue, start, run);
    exchange.start();
  }

  /** A route whose upstream is Kafka: the connection becomes a pub-sub session, or is refused. */
  private void pubsub(HttpRequest req, CompiledRoute route, UpstreamRuntime upstream, long start) {
    var sasl =
        route.plugins().find(KafkaProxyPlugin.NAME) instanceof KafkaProxyPlugin.Sasl s ? s : null;
    var refusal =
        !WebSocketTunnel.isUpgrade(req)
            ? new PubSub.Refusal(
                400, "400 Bad Request: this route serves Kafka pub-sub over WebSocket", null)
            : gateway
                .pubsub()
                .upgrade(
                    ctx,
                    req,
                    upstream,
                    sasl == null ? null : sasl.username(),
                    sasl == null ? null : sasl.password(),
                    route.id());
    if (refusal != null) {
      gateway.metrics().error("pubsub_refused");
      var headers = new io.netty.handler.codec.http.DefaultHttpHeaders().add(JSON);
      if (refusal.headers() != null) {
        headers.add(refusal.headers());
      }
      respond(
          refusal.status(), headers, Outcome.errorBody(refusal.message()), route, null, start, req);
      return;
    }
    // This handler has left the pipeline; the session serves the connection from now on.
    state = State.CLOSED;
    finished(101, 0, route, null, 0, start, req);
  }

  /** The decoder found the body's framing broken (a bad chunk): refuse, and close. */
  private void bodyBroken(HttpContent c) {
    var cause = c.decoderResult().cause();
    ReferenceCountUtil.release(c);
    var r = cause instanceof RequestRejected rr ? rr : RequestRejected.malformed("body");
    gateway.metrics().error(r.error());
    LOG.debug("request body from {} refused: {}", peer.addressText(), r.getMessage());
    keepAlive = false;
    if (state == State.PROXY && exchange != null) {
      exchange.onClientBodyBroken(r.status());
    } else {
      state = State.CLOSED;
      ctx.close();
    }
  }

  /**
   * The exchange refuses the request's body (too large, too slow, broken) before any response went
   * out. With {@code close} the connection closes after the answer.
   */
  void refuse(
      int status,
      boolean close,
      CompiledRoute route,
      String upstreamAddr,
      long start,
      HttpRequest req) {
    exchange = null;
    if (close) {
      keepAlive = false;
    }
    state = State.IDLE;
    respond(status, Outcome.errorBody(status), route, upstreamAddr, start, req);
  }

  void drain(Object msg) {
    if (msg instanceof HttpContent c) {
      drained += c.content().readableBytes();
    }
    boolean last = msg instanceof LastHttpContent;
    ReferenceCountUtil.release(msg);
    long limit = Math.max(gateway.settings().maxBodySize(), 1 << 20);
    if (drained > limit) {
      state = State.CLOSED;
      ctx.close();
      return;
    }
    if (last) {
      nextRequest();
    } else {
      pull();
    }
  }

  /**
   * Sends a response the gateway makes itself (an error, a 404). {@code upstreamAddr} is for the
   * log when the error is about a node.
   */
  void respond(
      int status,
      byte[] body,
      CompiledRoute route,
      String upstreamAddr,
      long start,
      HttpRequest req) {
    respond(status, JSON, body, route, upstreamAddr, start, req);
  }

  private static final HttpHeaders JSON =
      new io.netty.handler.codec.http.DefaultHttpHeaders()
          .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);

  /**
   * Sends a response made here (an error, or a plugin's answer) through the plugins' response
   * phases when the request has plugins.
   */
  void respond(
      int status,
      HttpHeaders headers,
      byte[] body,
      CompiledRoute route,
      String upstreamAddr,
      long start,
      HttpRequest req) {
    var res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
    if (headers != null) {
      res.headers().setAll(headers);
    }
    res.headers().set(HttpHeaderNames.SERVER, "Archway");
    if (run != null && run.headerFilter(res)) {
      body = run.bodyFilter(body);
    }
    FullHttpResponse full =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            res.status(),
            Unpooled.wrappedBuffer(body),
            res.headers(),
            io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
    full.headers()
        .remove(HttpHeaderNames.TRANSFER_ENCODING)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    status = full.status().code();
    boolean close = !keepAlive || state == State.CLOSED;
    if (close) {
      full.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    var done = ctx.writeAndFlush(full);
    if (close) {
      done.addListener(ChannelFutureListener.CLOSE);
    }
    finished(status, body.length, route, upstreamAddr, 0, start, req);
    if (close) {
      state = State.CLOSED;
    } else if (state == State.IDLE || state == State.PROXY) {
      // The request body may still be coming: skip it, then serve the next request.
      exchange = null;
      state = State.DRAIN;
      drained = 0;
      if (requestBodyDone) {
        nextRequest();
      } else {
        pull();
      }
    }
  }

  /** Counts and logs a request that has been answered. */
  void finished(
      int status,
      long bytesSent,
      CompiledRoute route,
      String upstreamAddr,
      long upstreamNanos,
      long start,
      HttpRequest req) {
    if (!inRequest) {
      return;
    }
    inRequest = false;
    var r = run;
    run = null;
    if (r != null) {
      r.log(status, bytesSent, upstreamAddr);
    }
    long nanos = System.nanoTime() - start;
    gateway.inFlight().end(status);
    var stats = route == null ? gateway.metrics().route("") : route.stats();
    stats.answered(status, nanos);
    stats.bytesOut.add(bytesSent);
    if (upstreamAddr != null && upstreamNanos > 0) {
      stats.upstreamLatency.observe(upstreamNanos);
    }
    var log = gateway.accessLog();
    if (log.enabled()) {
      var h = req.headers();
      log.offer(
          new AccessLog.Entry(
              System.currentTimeMillis(),
              peer.address() == null ? null : peer.addressText(),
              req.method().name(),
              req.uri(),
              h.get(HttpHeaderNames.HOST),
              status,
              bytesSent,
              nanos / 1000,
              route == null ? null : route.id(),
              upstreamAddr,
              upstreamNanos / 1000,
              h.get(HttpHeaderNames.USER_AGENT)));
    }
  }

  /**
   * The exchange is over. {@code reusable}: the response went out whole and the client may send
   * another request.
   */
  void exchangeDone(boolean reusable) {
    exchange = null;
    if (!reusable || !keepAlive) {
      state = State.CLOSED;
      return;
    }
    if (requestBodyDone) {
      nextRequest();
    } else {
      state = State.DRAIN;
      drained = 0;
      pull();
    }
  }

  /** A failed exchange before any response went out: answer with an error instead. */
  void exchangeFailed(int status, String upstreamAddr) {
    var ex = exchange;
    exchange = null;
    state = State.IDLE;
    respond(
        status, Outcome.errorBody(status), ex.route(), upstreamAddr, ex.startNanos(), ex.request());
  }

  boolean keepAlive() {
    return keepAlive;
  }

  /** The timer of this connection's exchanges. */
  ExchangeTimer timer() {
    return timer;
  }

  /**
   * Whether a request for {@code path} may go on: mTLS with {@code skip_mtls_uri_regex} asks for a
   * client certificate without requiring one, so requests outside those paths are checked here.
   */
  private boolean clientCertificateAdmits(String path) {
    var entry = ctx.channel().attr(TlsHandlers.CERTIFICATE).get();
    if (entry == null || !entry.clientCertificates() || entry.admits(path)) {
      return true;
    }
    var tls = ctx.pipeline().get(SslHandler.class);
    try {
      return tls != null && tls.engine().getSession().getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  private static final byte[] NO_CLIENT_CERTIFICATE =
      "{\"error_msg\":\"No required SSL certificate was sent\"}\n"
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);

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

  private boolean pullWhenWritable;

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      if (exchange != null) {
        exchange.onClientWritable();
      } else if (pullWhenWritable) {
        pullWhenWritable = false;
        if (state == State.IDLE) {
          pull();
        }
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Object m;
    while ((m = pending.poll()) != null) {
      ReferenceCountUtil.release(m);
    }
    var ex = exchange;
    exchange = null;
    state = State.CLOSED;
    if (ex != null) {
      ex.onClientClosed();
    }
    if (timer != null) {
      timer.stop();
    }
    var r = run;
    run = null;
    if (r != null) {
      r.cancel();
      if (inRequest) {
        r.log(499, 0, null);
      }
    }
    if (inRequest) {
      inRequest = false;
      gateway.inFlight().end(499);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    Object m;
    while ((m = pending.poll()) != null) {
      ReferenceCountUtil.release(m);
    }
    if (timer != null) {
      timer.stop();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof java.io.IOException)) {
      // A defect, not a client going away: it must be seen.
      org.slf4j.LoggerFactory.getLogger(GatewayHandler.class).warn("request failed", cause);
    }
    ctx.close();
  }
}
