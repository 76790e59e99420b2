package io.archway.dataplane.plugin;

import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.exchange.RequestBody;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.route.Variables;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetAddress;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * One request as plugins see it, on its event loop only: a view over its {@link Exchange} (the
 * request, which plugins may change before it goes upstream, its variables, the results earlier
 * plugins published ({@code consumer}, {@code remaining}, ...), fields to add to whatever response
 * is sent, and, once answered, the response's status and size for the log phase), plus what only
 * plugins need: the consumers, the identified consumer, each plugin's own per-request state.
 */
public final class PluginContext implements Variables {

  private final Exchange exchange;
  private final Consumers consumers;
  private final Function<String, UpstreamRuntime> upstreams;
  private final long startMillis;
  private Map<PluginInstance, Object> state;
  private Consumers.Entry consumer;
  private DryRunTrace dryRun;

  public PluginContext(
      Exchange exchange, Consumers consumers, Function<String, UpstreamRuntime> upstreams) {
    this.exchange = exchange;
    // Plugins see, and build their rewrites on, the target the upstream would get.
    exchange.vars().applyTarget(exchange.request());
    this.consumers = consumers;
    this.upstreams = upstreams;
    this.startMillis = System.currentTimeMillis();
  }

  /**
   * Where a dry-run's plugins report the side effects they did not have; {@code null} for a real
   * request. A plugin with side effects ({@link Plugin.DryRun#SIMULATES}) checks it before having
   * them.
   */
  public DryRunTrace dryRun() {
    return dryRun;
  }

  /**
   * Hands a logger's entry to its {@code sink}; in a dry-run the entry is reported instead ({@link
   * DryRunTrace#logged}) and never sent.
   */
  public void log(
      String plugin,
      com.fasterxml.jackson.databind.node.ObjectNode entry,
      java.util.function.BiConsumer<PluginContext, com.fasterxml.jackson.databind.node.ObjectNode>
          sink) {
    if (dryRun != null) {
      dryRun.logged(plugin, entry);
    } else {
      sink.accept(this, entry);
    }
  }

  /** Makes this request a dry-run's, reporting to {@code trace}. */
  public void dryRun(DryRunTrace trace) {
    dryRun = trace;
  }

  /** The exchange this is a view of. */
  public Exchange exchange() {
    return exchange;
  }

  public HttpRequest request() {
    return exchange.request();
  }

  public RequestVars vars() {
    return exchange.vars();
  }

  public String routeId() {
    return exchange.routeId();
  }

  /** The matched route's paths as written ({@code uri}, or {@code uris}), e.g. {@code /grpc/*}. */
  public List<String> routePaths() {
    return exchange.routePaths();
  }

  /** The service of the route matched, or {@code null}. */
  public String serviceId() {
    return exchange.serviceId();
  }

  /**
   * Sets the largest request body for this request in place of the listener's ({@code 0}: no
   * limit): a larger declared body gets 413 before it is read, a larger streamed one when it passes
   * the limit.
   */
  public void maxBodySize(long max) {
    exchange.maxBodySize(max);
  }

  /** Whether the body is read up to the buffer's size before a node is chosen (the default). */
  public void requestBuffering(boolean buffering) {
    exchange.requestBuffering(buffering);
  }

  /**
   * Runs {@code then} on the whole request body (read now, at most {@code max} bytes, or the one an
   * earlier plugin read or set): the request waits until it is read. A body over {@code max} is
   * answered 413, one whose framing breaks 400, one not sent within {@code timeoutMillis} 408
   * (APISIX's error bodies), and the connection closes after the answer.
   */
  public Outcome withRequestBody(long max, long timeoutMillis, Function<byte[], Outcome> then) {
    var whole = exchange.body();
    if (whole != null) {
      return then.apply(whole);
    }
    return new Outcome.Later(
        exchange.readBody(max, timeoutMillis),
        r ->
            r instanceof byte[] b
                ? then.apply(b)
                : Outcome.respond(
                    (Integer) r,
                    new io.netty.handler.codec.http.DefaultHttpHeaders()
                        .set("content-type", "application/json"),
                    Outcome.errorBody((Integer) r)));
  }

  /**
   * Replaces the body that goes upstream (and its {@code Content-Length}); only after {@link
   * #withRequestBody} read the client's.
   */
  public void requestBody(byte[] body) {
    exchange.body(body);
  }

  /**
   * What to do when the node answers {@code status} before anything reached the client: return
   * {@code true} after choosing another upstream ({@link #upstreamOverride(UpstreamRuntime)}, and
   * the target, fields and body for it) to have the request sent there instead.
   */
  public void fallback(java.util.function.IntPredicate onStatus) {
    exchange.fallback(onStatus);
  }

  /**
   * Transforms the request body as it streams to the node (gRPC-Web's base64 decoding), piece by
   * piece: the proxy sends every piece through {@code stream} and its {@code finish} at the end
   * (request trailers are passed to it). The body's length changes, so the request goes to the node
   * without {@code Content-Length} (chunked to an HTTP/1.1 node). The proxy owns the stream from
   * here on and ends it exactly once ({@code finish} or {@code abort}); a piece the stream refuses
   * ({@link IllegalArgumentException}) ends the request with 400. A request answered before it is
   * proxied drops the stream without a call, so a stream holds nothing to free before its first
   * piece.
   */
  public void requestBodyStream(BodyStream stream) {
    var old = exchange.attribute(REQUEST_BODY_STREAM);
    if (old != null) {
      old.abort();
    }
    exchange.attribute(REQUEST_BODY_STREAM, stream);
  }

  /** Where {@link #requestBodyStream} keeps the stream for the proxy. */
  public static final Exchange.Key<BodyStream> REQUEST_BODY_STREAM =
      new Exchange.Key<>("request_body_stream");

  /**
   * The whole request body, read once (up to {@code max} bytes) before the request goes upstream,
   * which then gets the same bytes; for plugins that decide on the body. Use it from a request
   * phase through {@link Outcome#later}. The same read as {@link #withRequestBody}'s.
   */
  public CompletionStage<RequestBody.Body> body(int max) {
    return RequestBody.read(exchange, max);
  }

  /** The request's event loop: for timers, and where work done elsewhere hands back. */
  public EventExecutor executor() {
    return exchange.downstream().eventLoop();
  }

  /**
   * Goes on with {@code then} after {@code nanos}, on a timer of the request's event loop (a
   * limiter's or a fault's delay). In a dry-run nothing waits: the delay is reported and {@code
   * then} runs at once.
   */
  public Outcome after(long nanos, java.util.function.Supplier<Outcome> then) {
    if (dryRun != null) {
      dryRun.simulated("delayed " + (nanos / 1_000_000) + " ms (not waited in a dry-run)");
      return then.get();
    }
    var later = new java.util.concurrent.CompletableFuture<Outcome>();
    executor()
        .schedule(
            () -> later.complete(then.get()), nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    return Outcome.later(later);
  }

  /** The consumers of the config this request runs under. */
  public Consumers consumers() {
    return consumers;
  }

  /** An upstream of this request's config by key ({@code upstreams/<id>}), or {@code null}. */
  public UpstreamRuntime upstream(String key) {
    return upstreams.apply(key);
  }

  /** Publishes a result for later plugins, flow conditions and loggers. */
  public void publish(String name, Object value) {
    exchange.publish(name, value);
  }

  /** A published result, or {@code null}. */
  public Object result(String name) {
    return exchange.result(name);
  }

  /** Hands a later step a typed value that is not a variable (loggers never see it). */
  public <T> void attribute(Exchange.Key<T> key, T value) {
    exchange.attribute(key, value);
  }

  public <T> T attribute(Exchange.Key<T> key) {
    return exchange.attribute(key);
  }

  /** The consumer an auth plugin identified, or {@code null}. */
  public Consumers.Entry consumer() {
    return consumer;
  }

  /** Sets the consumer and publishes its name as {@code consumer}. */
  public void consumer(Consumers.Entry c) {
    consumer = c;
    publish("consumer", c.username());
  }

  /** Headers every response of this request gets (rate-limit quotas, request ids, ...). */
  public HttpHeaders responseHeaders() {
    return exchange.responseHeaders();
  }

  public boolean hasResponseHeaders() {
    return exchange.hasResponseHeaders();
  }

  /** A per-request value a plugin keeps between its phases (a held connection slot). */
  @SuppressWarnings("unchecked")
  public <T> T state(PluginInstance owner) {
    return state == null ? null : (T) state.get(owner);
  }

  public void state(PluginInstance owner, Object value) {
    if (state == null) {
      state = new IdentityHashMap<>(2);
    }
    state.put(owner, value);
  }

  /** The upstream a plugin chose instead of the route's (traffic-split), or {@code null}. */
  public UpstreamRuntime upstreamOverride() {
    return exchange.upstreamOverride();
  }

  public void upstreamOverride(UpstreamRuntime up) {
    exchange.upstreamOverride(up);
  }

  /** The {@code Host} the upstream request gets instead of pass_host's (proxy-rewrite). */
  public String upstreamHost() {
    return exchange.upstreamHost();
  }

  public void upstreamHost(String host) {
    exchange.upstreamHost(host);
  }

  /** Called when the response went out, before the log phase. */
  public void answered(int status, long bytesSent, String upstreamAddr) {
    exchange.answered(status, bytesSent, upstreamAddr);
  }

  public int status() {
    return exchange.status();
  }

  public void status(int status) {
    exchange.status(status);
  }

  public long bytesSent() {
    return exchange.bytesSent();
  }

  public long latencyNanos() {
    return exchange.latencyNanos();
  }

  public long startMillis() {
    return startMillis;
  }

  public String upstreamAddr() {
    return exchange.upstreamAddr();
  }

  /**
   * A variable for expressions and loggers: a published result, {@code status}, {@code route_id},
   * {@code consumer_name}, else a request variable.
   */
  @Override
  public String get(String name) {
    var r = exchange.result(name);
    if (r != null) {
      return r.toString();
    }
    return switch (name) {
      case "status" -> {
        int status = exchange.status();
        yield status == 0 ? null : Integer.toString(status);
      }
      case "route_id" -> exchange.routeId();
      case "consumer_name" -> consumer == null ? null : consumer.username();
      default -> exchange.vars().get(name);
    };
  }

  @Override
  public InetAddress remoteAddress() {
    return exchange.vars().remoteAddress();
  }
}
