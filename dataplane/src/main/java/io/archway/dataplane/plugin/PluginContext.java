package io.archway.dataplane.plugin;

import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.route.Variables;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * One request as plugins see it, on its event loop only: the request (plugins may change its URI,
 * method and headers before it goes upstream), its variables, the results earlier plugins published
 * ({@code consumer}, {@code remaining}, ...), headers to add to whatever response is sent, and,
 * once answered, the response's status and size for the log phase.
 */
public final class PluginContext implements Variables {

  private final HttpRequest request;
  private final RequestVars vars;
  private final String routeId;
  private final EventExecutor executor;
  private final Consumers consumers;
  private final Function<String, UpstreamRuntime> upstreams;
  private final long startNanos;
  private final long startMillis;
  private Map<String, Object> results;
  private Map<PluginInstance, Object> state;
  private HttpHeaders responseHeaders;
  private Consumers.Entry consumer;
  private UpstreamRuntime upstream;
  private String upstreamHost;
  private int status;
  private long bytesSent;
  private long latencyNanos;
  private String upstreamAddr;

  public PluginContext(
      HttpRequest request,
      RequestVars vars,
      String routeId,
      EventExecutor executor,
      Consumers consumers,
      Function<String, UpstreamRuntime> upstreams,
      long startNanos) {
    this.request = request;
    this.vars = vars;
    // Plugins see, and build their rewrites on, the target the upstream would get.
    vars.applyTarget(request);
    this.routeId = routeId;
    this.executor = executor;
    this.consumers = consumers;
    this.upstreams = upstreams;
    this.startNanos = startNanos;
    this.startMillis = System.currentTimeMillis();
  }

  public HttpRequest request() {
    return request;
  }

  public RequestVars vars() {
    return vars;
  }

  public String routeId() {
    return routeId;
  }

  /** The request's event loop: for timers, and where work done elsewhere hands back. */
  public EventExecutor executor() {
    return executor;
  }

  /** The consumers of the config this request runs under. */
  public Consumers consumers() {
    return consumers;
  }

  /** An upstream of this request's config by key ({@code upstreams/<id>}), or {@code null}. */
  public UpstreamRuntime upstream(String key) {
    return upstreams.apply(key);
  }

  /** Publishes a result for later plugins and flow conditions. */
  public void publish(String name, Object value) {
    if (results == null) {
      results = new HashMap<>(4);
    }
    results.put(name, value);
  }

  /** A published result, or {@code null}. */
  public Object result(String name) {
    return results == null ? null : results.get(name);
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
    if (responseHeaders == null) {
      responseHeaders = new DefaultHttpHeaders();
    }
    return responseHeaders;
  }

  public boolean hasResponseHeaders() {
    return responseHeaders != null && !responseHeaders.isEmpty();
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
    return upstream;
  }

  public void upstreamOverride(UpstreamRuntime up) {
    upstream = up;
  }

  /** The {@code Host} the upstream request gets instead of pass_host's (proxy-rewrite). */
  public String upstreamHost() {
    return upstreamHost;
  }

  public void upstreamHost(String host) {
    upstreamHost = host;
  }

  /** Called when the response went out, before the log phase. */
  public void answered(int status, long bytesSent, String upstreamAddr) {
    this.status = status;
    this.bytesSent = bytesSent;
    this.upstreamAddr = upstreamAddr;
    this.latencyNanos = System.nanoTime() - startNanos;
  }

  public int status() {
    return status;
  }

  public void status(int status) {
    this.status = status;
  }

  public long bytesSent() {
    return bytesSent;
  }

  public long latencyNanos() {
    return latencyNanos;
  }

  public long startMillis() {
    return startMillis;
  }

  public String upstreamAddr() {
    return upstreamAddr;
  }

  /**
   * A variable for expressions and loggers: a published result, {@code status}, {@code route_id},
   * {@code consumer_name}, else a request variable.
   */
  @Override
  public String get(String name) {
    var r = result(name);
    if (r != null) {
      return r.toString();
    }
    return switch (name) {
      case "status" -> status == 0 ? null : Integer.toString(status);
      case "route_id" -> routeId;
      case "consumer_name" -> consumer == null ? null : consumer.username();
      default -> vars.get(name);
    };
  }

  @Override
  public InetAddress remoteAddress() {
    return vars.remoteAddress();
  }
}
