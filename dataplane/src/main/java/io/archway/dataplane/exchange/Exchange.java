package io.archway.dataplane.exchange;

import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * One request and its response, whatever protocol carried them: the request head (Netty's
 * version-neutral {@code HttpRequest}; plugins may change its target, method and fields before it
 * goes upstream), its body pulled piece by piece from the {@link Downstream}, its variables, what
 * plugins published for later steps (results by name, typed attributes), what every response gets
 * (extra fields), the upstream a plugin chose, and once answered the status and size for the log.
 * The response itself streams through: its head, body pieces and trailers ({@code LastHttpContent})
 * are written to the downstream as they come. On the request's event loop only.
 */
public final class Exchange {

  /**
   * A typed per-request attribute: what one step hands a later one that is not for logging (a
   * credential), so it is kept apart from the named results that loggers and conditions read.
   */
  public static final class Key<T> {
    private final String name;

    public Key(String name) {
      this.name = name;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** What the step serving the request hears from the client's side. */
  public interface Listener {
    /** A piece of the request body, asked for with {@link Downstream#pullBody()}; owned now. */
    void onContent(HttpContent content);

    /** The body's framing broke mid-way: {@code status} is the answer (400). */
    void onBodyBroken(int status);

    /** The client takes writes again. */
    void onWritable();

    /** The client went away. */
    void onClosed();
  }

  private final Downstream downstream;
  private final HttpRequest request;
  private RequestVars vars;
  private final long startNanos;
  private Listener listener;
  private byte[] heldBody;
  private String routeId;
  private String serviceId;
  private long maxBodySize = -1;
  private boolean requestBuffering = true;
  private Map<String, Object> results;
  private Map<Key<?>, Object> attributes;
  private HttpHeaders responseHeaders;
  private UpstreamRuntime upstreamOverride;
  private String upstreamHost;
  private int status;
  private long bytesSent;
  private long latencyNanos;
  private String upstreamAddr;

  public Exchange(Downstream downstream, HttpRequest request, long startNanos) {
    this.downstream = downstream;
    this.request = request;
    this.startNanos = startNanos;
  }

  public Downstream downstream() {
    return downstream;
  }

  public HttpRequest request() {
    return request;
  }

  /** The request's variables, once its target was read ({@code null} before, or if it failed). */
  public RequestVars vars() {
    return vars;
  }

  public void vars(RequestVars v) {
    vars = v;
  }

  public long startNanos() {
    return startNanos;
  }

  public void listener(Listener l) {
    listener = l;
  }

  /** Who hears the client's side now. */
  public Listener listener() {
    return listener;
  }

  /**
   * Asks for the next piece of the request body: the body a plugin already read whole ({@link
   * RequestBody}), handed over as one last piece, else the client's next piece ({@link
   * Downstream#pullBody()}).
   */
  public void pullBody() {
    var held = heldBody;
    if (held != null) {
      heldBody = null;
      content(new DefaultLastHttpContent(Unpooled.wrappedBuffer(held)));
      return;
    }
    downstream.pullBody();
  }

  /** The whole body, read by a plugin, that the next {@link #pullBody()} gives. */
  void holdBody(byte[] body) {
    heldBody = body;
  }

  // From the adapter.

  public void content(HttpContent c) {
    if (listener == null) {
      ReferenceCountUtil.release(c);
    } else {
      listener.onContent(c);
    }
  }

  public void bodyBroken(int status) {
    if (listener == null) {
      downstream.close();
    } else {
      listener.onBodyBroken(status);
    }
  }

  public void writable() {
    if (listener != null) {
      listener.onWritable();
    }
  }

  public void closed() {
    if (listener != null) {
      listener.onClosed();
    }
  }

  // What steps publish.

  public String routeId() {
    return routeId;
  }

  public void routeId(String id) {
    routeId = id;
  }

  /** The service of the route matched, or {@code null}. */
  public String serviceId() {
    return serviceId;
  }

  public void serviceId(String id) {
    serviceId = id;
  }

  /**
   * The largest request body for this request, set by a plugin (client-control) in place of the
   * listener's {@code client_max_body_size}; {@code 0}: no limit, {@code -1}: the listener's.
   */
  public long maxBodySize() {
    return maxBodySize;
  }

  public void maxBodySize(long max) {
    maxBodySize = max;
  }

  /**
   * Whether the body is read up to {@code client_body_buffer_size} before a node is chosen (the
   * default), or streamed from the first byte (proxy-control's {@code request_buffering: false}).
   */
  public boolean requestBuffering() {
    return requestBuffering;
  }

  public void requestBuffering(boolean buffering) {
    requestBuffering = buffering;
  }

  public void publish(String name, Object value) {
    if (results == null) {
      results = new HashMap<>(4);
    }
    results.put(name, value);
  }

  public Object result(String name) {
    return results == null ? null : results.get(name);
  }

  @SuppressWarnings("unchecked")
  public <T> T attribute(Key<T> key) {
    return attributes == null ? null : (T) attributes.get(key);
  }

  public <T> void attribute(Key<T> key, T value) {
    if (attributes == null) {
      attributes = new IdentityHashMap<>(2);
    }
    attributes.put(key, value);
  }

  /** Fields every response of this request gets (rate-limit quotas, request ids, ...). */
  public HttpHeaders responseHeaders() {
    if (responseHeaders == null) {
      responseHeaders = new DefaultHttpHeaders();
    }
    return responseHeaders;
  }

  public boolean hasResponseHeaders() {
    return responseHeaders != null && !responseHeaders.isEmpty();
  }

  /** The upstream a plugin chose instead of the route's (traffic-split), or {@code null}. */
  public UpstreamRuntime upstreamOverride() {
    return upstreamOverride;
  }

  public void upstreamOverride(UpstreamRuntime up) {
    upstreamOverride = up;
  }

  /** The {@code Host} the upstream request gets instead of pass_host's (proxy-rewrite). */
  public String upstreamHost() {
    return upstreamHost;
  }

  public void upstreamHost(String host) {
    upstreamHost = host;
  }

  // The answer, for the log.

  /** The response went out (or the client left): what the log step reports. */
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

  public String upstreamAddr() {
    return upstreamAddr;
  }
}
