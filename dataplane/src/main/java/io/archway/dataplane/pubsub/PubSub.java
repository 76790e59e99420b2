package io.archway.dataplane.pubsub;

import io.archway.dataplane.exchange.UpstreamCredentials;
import io.archway.dataplane.pipeline.RouteCall;
import io.archway.dataplane.pipeline.RouteHandler;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.timeout.IdleStateHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Kafka pub-sub over WebSocket, APISIX's way, as the route handler of routes whose upstream has
 * {@code scheme: kafka}: such a route takes a WebSocket upgrade (after the route's plugins, so auth
 * runs first; {@code kafka-proxy} leaves its SASL credentials on the exchange) and then serves
 * {@code pubsub.proto} commands from Kafka through consumers shared per broker list and
 * credentials. See {@code DESIGN.md} in this package.
 */
public final class PubSub implements RouteHandler, AutoCloseable {

  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private static final long IDLE_BACKEND_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** Why an upgrade was not made: the HTTP answer to send instead. */
  record Refusal(int status, String message, HttpHeaders headers) {}

  private static final HttpHeaders JSON =
      new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);

  private final PubSubSettings settings;
  private final PubSubMetrics metrics = new PubSubMetrics();
  private final Map<KafkaAccess, KafkaBackend> backends = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sweeper;

  public PubSub(PubSubSettings settings) {
    this.settings = settings;
    sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              var t = new Thread(r, "archway-pubsub-sweep");
              t.setDaemon(true);
              return t;
            });
    sweeper.scheduleWithFixedDelay(this::sweep, 30, 30, TimeUnit.SECONDS);
  }

  public PubSubSettings settings() {
    return settings;
  }

  public PubSubMetrics metrics() {
    return metrics;
  }

  /**
   * Serves a request to a Kafka upstream: the connection becomes a pub-sub session, or the request
   * is refused (not a WebSocket upgrade over HTTP/1.1, a bad handshake).
   */
  @Override
  public void serve(RouteCall call) {
    var req = call.exchange().request();
    var ctx = call.downstream().connection();
    var sasl = call.exchange().attribute(UpstreamCredentials.KEY);
    var refusal =
        ctx == null || !isUpgrade(req)
            ? new Refusal(
                400, "400 Bad Request: this route serves Kafka pub-sub over WebSocket", null)
            : upgrade(
                ctx,
                req,
                call.upstream(),
                sasl == null ? null : sasl.username(),
                sasl == null ? null : sasl.password(),
                call.route().id());
    if (refusal != null) {
      call.pipeline().metrics().error("pubsub_refused");
      var headers = new DefaultHttpHeaders().add(JSON);
      if (refusal.headers() != null) {
        headers.add(refusal.headers());
      }
      call.respond(refusal.status(), headers, Outcome.errorBody(refusal.message()), null);
      return;
    }
    // The gateway handler has left the pipeline; the session serves the connection from now on.
    call.downstream().upgraded();
    call.finished(101, 0, null, 0);
  }

  private static boolean isUpgrade(HttpRequest req) {
    var h = req.headers();
    return h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        && h.contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
  }

  /**
   * Turns the connection (a WebSocket upgrade request, to an upstream with nodes) into a pub-sub
   * session: answers 101 and replaces the HTTP handlers of the pipeline ({@code timeouts}, {@code
   * codec}, {@code gateway}) with WebSocket framing and the session. Returns {@code null} when
   * done, else what to answer over HTTP instead.
   *
   * @param username SASL/PLAIN user from the route's kafka-proxy plugin, or {@code null}
   */
  private Refusal upgrade(
      ChannelHandlerContext ctx,
      HttpRequest req,
      UpstreamRuntime upstream,
      String username,
      String password,
      String route) {
    var h = req.headers();
    if (!"13".equals(h.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
      return new Refusal(
          426,
          "426 Upgrade Required: WebSocket version 13",
          new DefaultHttpHeaders().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13"));
    }
    var key = h.get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
    if (key == null || key.isBlank()) {
      return new Refusal(400, "400 Bad Request: Sec-WebSocket-Key missing", null);
    }
    var brokers = new ArrayList<String>();
    upstream.nodes().forEach(n -> brokers.add(n.address()));
    var tls = upstream.config().tls();
    var access =
        new KafkaAccess(
            brokers,
            tls != null,
            tls != null && Boolean.TRUE.equals(tls.verify()),
            username,
            password);
    // Taken for the session here, atomically with the lookup, so the sweeper cannot close it
    // in between.
    var backend =
        backends.compute(
            access,
            (a, b) -> {
              var out = b != null ? b : new KafkaBackend(a, settings, metrics);
              out.acquire();
              return out;
            });

    var res =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
    res.headers()
        .set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
        .set(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT, accept(key))
        .set(HttpHeaderNames.SERVER, "Archway");
    // Encoded by the HTTP codec now, on this event loop, before the codec leaves the pipeline.
    ctx.writeAndFlush(res);
    var p = ctx.pipeline();
    var decoder =
        WebSocketDecoderConfig.newBuilder()
            .expectMaskedFrames(true)
            .allowMaskMismatch(false)
            .allowExtensions(false)
            .maxFramePayloadLength(settings.maxFrameBytes())
            .closeOnProtocolViolation(true)
            .build();
    // The session goes in before the HTTP decoder leaves: what that decoder holds past the
    // request (frames sent right behind it) passes to the frame decoder that replaces it, and on
    // to the session.
    p.addLast("pubsub", new PubSubSession(backend, settings, metrics, route));
    p.remove("gateway");
    p.addBefore(
        "pubsub",
        "idle",
        new IdleStateHandler(0, 0, settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
    p.addBefore("idle", "ws-aggregator", new WebSocketFrameAggregator(settings.maxFrameBytes()));
    p.replace("codec", "ws-decoder", new WebSocket13FrameDecoder(decoder));
    // Before the decoder: the close frame it sends on a violation must be encoded too.
    p.addBefore("ws-decoder", "ws-encoder", new WebSocket13FrameEncoder(false));
    if (p.get("timeouts") != null) {
      p.remove("timeouts");
    }
    return null;
  }

  static String accept(String key) {
    try {
      var sha1 = MessageDigest.getInstance("SHA-1");
      return Base64.getEncoder()
          .encodeToString(sha1.digest((key.trim() + GUID).getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Closes the consumers of broker lists no session has used for a minute. */
  private void sweep() {
    for (var key : backends.keySet()) {
      var closed = new KafkaBackend[1];
      backends.computeIfPresent(
          key,
          (k, b) -> {
            if (b.idle(IDLE_BACKEND_NANOS)) {
              closed[0] = b;
              return null;
            }
            return b;
          });
      if (closed[0] != null) {
        closed[0].close();
      }
    }
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
    backends.values().forEach(KafkaBackend::close);
    backends.clear();
  }
}
