package io.archway.dataplane.pipeline;

import io.archway.dataplane.config.CompiledConfig;
import io.archway.dataplane.config.CompiledRoute;
import io.archway.dataplane.exchange.Downstream;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

/**
 * One request on its way through the {@link Pipeline}: its exchange, the route it matched and the
 * config it runs under, its plugins, and the steps after the request phases (pick the upstream and
 * hand it to the route's handler; the response filters and the log for whatever is answered). Route
 * handlers get it, answer through it and take the client's side with {@link #serve}.
 */
public final class RouteCall implements Exchange.Listener, PluginRun.Listener {

  private static final String HTTP2 = "HTTP/2.0"; // Downstream.protocol() of an HTTP/2 stream
  static final HttpHeaders JSON =
      new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);

  private final Pipeline pipeline;
  private final Exchange exchange;
  private CompiledRoute route;
  private CompiledConfig config;
  private PluginRun plugins; // null when the request has none, and once logged
  private UpstreamRuntime upstream;
  private Exchange.Listener served; // the handler streaming the request, when one does
  private boolean expectContinue;
  private boolean forwarded;
  private boolean logged;
  private boolean closed;
  // The client speaks gRPC: decided before plugins run, since grpc-web and grpc-transcode make
  // their clients' requests gRPC for the node, and those clients do not read gRPC statuses.
  private final boolean clientGrpc;

  RouteCall(Pipeline pipeline, Exchange exchange) {
    this.pipeline = pipeline;
    this.exchange = exchange;
    this.clientGrpc = GrpcStatus.isGrpc(exchange.request());
    exchange.listener(this);
  }

  void route(CompiledRoute r, CompiledConfig c) {
    route = r;
    config = c;
    exchange.routeId(r.id());
    exchange.routePaths(r.route().paths());
    exchange.serviceId(r.route().serviceId());
  }

  void plugins(PluginRun run) {
    plugins = run;
  }

  public Pipeline pipeline() {
    return pipeline;
  }

  public Exchange exchange() {
    return exchange;
  }

  public Downstream downstream() {
    return exchange.downstream();
  }

  /** The route matched, or {@code null} when none was. */
  public CompiledRoute route() {
    return route;
  }

  /** The upstream picked for the request (the route's, or a plugin's choice). */
  public UpstreamRuntime upstream() {
    return upstream;
  }

  /** Whether plugins ran on the request (they may have rewritten it). */
  public boolean hasPlugins() {
    return plugins != null;
  }

  /** Whether the client asked for {@code 100 Continue} (the field is gone from the request). */
  boolean expectContinue() {
    return expectContinue;
  }

  void expectContinue(boolean e) {
    expectContinue = e;
  }

  /** Whether the {@code X-Forwarded-*} fields are still to be added (true the first time only). */
  boolean forwardOnce() {
    if (forwarded) {
      return false;
    }
    forwarded = true;
    return true;
  }

  /** Client events go to {@code handler} from now on: the request body, writability, leaving. */
  public void serve(Exchange.Listener handler) {
    served = handler;
  }

  // Pick an upstream, then the route's handler.

  /** The request phases are done: send the request on. */
  @Override
  public void proceed() {
    if (closed) {
      return;
    }
    var chosen = exchange.upstreamOverride();
    var up = chosen != null ? chosen : config.upstreamOf(route);
    if (up == null || up.nodes().isEmpty()) {
      pipeline.metrics().error("no_upstream_nodes");
      respondError(503);
      return;
    }
    upstream = up;
    pipeline.handler(route.handlerFor(up)).serve(this);
  }

  /** A plugin answered. */
  @Override
  public void respond(Outcome.Respond r) {
    if (!closed) {
      respond(r.status(), r.headers(), r.body(), null, true);
    }
  }

  // Answers made here, through header_filter and body_filter, then the log.

  /** Answers with APISIX's error body for {@code status}. */
  public void respondError(int status) {
    respond(status, JSON, Outcome.errorBody(status), null);
  }

  /** Answers with an error about the node at {@code upstreamAddr} (for the log). */
  public void respondError(int status, String upstreamAddr) {
    respond(status, JSON, Outcome.errorBody(status), upstreamAddr);
  }

  /**
   * Sends a whole response made here (an error, a plugin's answer) through the plugins' response
   * phases, logs it, and ends the exchange. {@code upstreamAddr} is for the log when the answer is
   * about a node.
   */
  public void respond(int status, HttpHeaders headers, byte[] body, String upstreamAddr) {
    respond(status, headers, body, upstreamAddr, false);
  }

  private void respond(
      int status, HttpHeaders headers, byte[] body, String upstreamAddr, boolean byPlugin) {
    served = null;
    var res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
    if (headers != null) {
      // add, not setAll: setAll keeps one value of a field given twice (a function's Set-Cookie).
      res.headers().add(headers);
    }
    res.headers().set(HttpHeaderNames.SERVER, "Archway");
    if (headerFilter(res)) {
      body = bodyFilter(body);
    }
    if (res.status().code() >= 400 && clientGrpc) {
      var code = res.status().code();
      var unused = takeBodyStream();
      if (unused != null) {
        unused.abort();
      }
      respondGrpc(
          res.headers(),
          GrpcStatus.fromHttp(code, byPlugin),
          code + " " + res.status().reasonPhrase(),
          code,
          upstreamAddr);
      return;
    }
    var d = exchange.downstream();
    var content = Unpooled.wrappedBuffer(body);
    var stream = takeBodyStream();
    if (stream != null) {
      content = encodeWhole(stream, content);
    }
    int length = content.readableBytes();
    var full =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, res.status(), content, res.headers(), EmptyHttpHeaders.INSTANCE);
    full.headers()
        .remove(HttpHeaderNames.TRANSFER_ENCODING)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, length);
    d.write(full);
    finished(full.status().code(), length, upstreamAddr, 0);
    d.exchangeDone(true);
  }

  /** A whole body through a body stream: its pieces for {@code body}, then its end. */
  private io.netty.buffer.ByteBuf encodeWhole(BodyStream stream, io.netty.buffer.ByteBuf body) {
    var alloc = exchange.downstream().alloc();
    var out = alloc.compositeBuffer(2);
    try {
      out.addComponent(true, stream.next(body, alloc));
      out.addComponent(true, stream.finish(alloc));
      return out;
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
  }

  /**
   * Answers a gRPC request with a gRPC status instead of an HTTP error: HTTP 200 and the status in
   * a trailers-only response (one HEADERS frame that ends the stream), as gRPC clients expect. The
   * log keeps {@code loggedStatus}, the HTTP status the answer stands for.
   */
  void respondGrpc(
      HttpHeaders headers, int grpcStatus, String message, int loggedStatus, String upstreamAddr) {
    served = null;
    var full =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK,
            Unpooled.EMPTY_BUFFER,
            headers == null ? new DefaultHttpHeaders() : headers,
            EmptyHttpHeaders.INSTANCE);
    full.headers()
        .remove(HttpHeaderNames.TRANSFER_ENCODING)
        .remove(HttpHeaderNames.CONTENT_ENCODING)
        .set(HttpHeaderNames.CONTENT_TYPE, GrpcStatus.CONTENT_TYPE)
        .set(HttpHeaderNames.SERVER, "Archway");
    GrpcStatus.set(full.headers(), grpcStatus, message);
    var d = exchange.downstream();
    if (headers == null) {
      // Made for an exchange whose answer had not begun (a deadline): the response filters have
      // not seen it yet. A body stream (grpc-web's) turns its status into body bytes.
      headerFilter(full);
      var stream = takeBodyStream();
      if (stream != null) {
        var content = encodeWhole(stream, Unpooled.EMPTY_BUFFER);
        int length = content.readableBytes();
        var encoded =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                full.status(),
                content,
                full.headers(),
                EmptyHttpHeaders.INSTANCE);
        encoded.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        d.write(encoded);
        finished(loggedStatus, length, upstreamAddr, 0);
        d.exchangeDone(true);
        return;
      }
    }
    if (HTTP2.equals(d.protocol())) {
      full.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
    } else {
      full.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
    }
    d.write(full);
    finished(loggedStatus, 0, upstreamAddr, 0);
    d.exchangeDone(true);
  }

  /**
   * header_filter: runs the plugins' header filters on the response about to be sent; returns
   * whether a body filter wants the whole body.
   */
  public boolean headerFilter(HttpResponse res) {
    return plugins != null && plugins.headerFilter(res);
  }

  /**
   * The streaming transformation (gzip) of the body the header filters just passed, or {@code
   * null}; the caller owns it, and ends it with {@code finish} or {@code abort}.
   */
  public BodyStream takeBodyStream() {
    return plugins == null ? null : plugins.takeBodyStream();
  }

  /** body_filter: the whole body through the filters that asked for it. */
  public byte[] bodyFilter(byte[] body) {
    return plugins == null ? body : plugins.bodyFilter(body);
  }

  // log

  /** Counts and logs the answered request (once). */
  public void finished(int status, long bytesSent, String upstreamAddr, long upstreamNanos) {
    if (logged) {
      return;
    }
    logged = true;
    var r = plugins;
    plugins = null;
    if (r != null) {
      r.log(status, bytesSent, upstreamAddr);
    }
    long nanos = System.nanoTime() - exchange.startNanos();
    pipeline.inFlight().end(status);
    var stats = route == null ? pipeline.metrics().route("") : route.stats();
    stats.answered(status, nanos, bytesSent, upstreamAddr == null ? 0 : upstreamNanos);
    var log = pipeline.accessLog();
    if (log.enabled()) {
      var req = exchange.request();
      var h = req.headers();
      // The client as the request's variables see it: real-ip may have named one behind a proxy.
      var peer = exchange.vars() != null ? exchange.vars().peer() : exchange.downstream().peer();
      log.offer(
          new AccessLog.Entry(
              System.currentTimeMillis(),
              peer.address() == null ? null : peer.addressText(),
              req.method().name(),
              req.uri(),
              exchange.downstream().protocol(),
              h.get(HttpHeaderNames.HOST),
              status,
              bytesSent,
              nanos / 1000,
              route == null ? null : route.id(),
              upstreamAddr,
              upstreamNanos / 1000,
              h.get(HttpHeaderNames.USER_AGENT),
              llm()));
    }
  }

  /** The AI plugins' {@code $llm_*} results for the access log, when one ran. */
  private AccessLog.Llm llm() {
    var model = exchange.result("llm_model");
    if (model == null) {
      return null;
    }
    return new AccessLog.Llm(
        model.toString(),
        String.valueOf(exchange.result("llm_time_to_first_token")),
        String.valueOf(exchange.result("llm_prompt_tokens")),
        String.valueOf(exchange.result("llm_completion_tokens")));
  }

  // The client's side, passed to the handler serving the request.

  @Override
  public void onContent(HttpContent content) {
    var s = served;
    if (s == null) {
      ReferenceCountUtil.release(content);
    } else {
      s.onContent(content);
    }
  }

  @Override
  public void onBodyBroken(int status) {
    var s = served;
    if (s == null) {
      exchange.downstream().close();
    } else {
      s.onBodyBroken(status);
    }
  }

  @Override
  public void onWritable() {
    var s = served;
    if (s != null) {
      s.onWritable();
    }
  }

  @Override
  public void onClosed() {
    closed = true;
    var s = served;
    served = null;
    if (s != null) {
      s.onClosed();
    }
    var r = plugins;
    plugins = null;
    if (r != null) {
      r.cancel();
      if (!logged) {
        r.log(499, 0, null);
      }
    }
    if (!logged) {
      logged = true;
      pipeline.inFlight().end(499);
    }
  }
}
