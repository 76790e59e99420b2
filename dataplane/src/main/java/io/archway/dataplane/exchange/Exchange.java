package io.archway.dataplane.exchange;

import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
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
  private String routeId;
  private List<String> routePaths = List.of();
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
  private RequestBodyReader bodyReader; // a plugin reading the whole body, while it does
  private byte[] body; // the whole body, once a plugin read it (or set the one sent on)
  private byte[] bodyPrefix; // the start of a body a peek stopped reading; the rest is unread
  private java.util.function.IntPredicate fallback;
  private long intakeHeld; // body bytes the proxy holds before (and while) it sends them

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

  // From the adapter.

  public void content(HttpContent c) {
    if (bodyReader != null) {
      bodyReader.onContent(c);
    } else if (listener == null) {
      ReferenceCountUtil.release(c);
    } else {
      listener.onContent(c);
    }
  }

  public void bodyBroken(int status) {
    if (bodyReader != null) {
      bodyReader.onBodyBroken(status);
    } else if (listener == null) {
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
    if (bodyReader != null) {
      bodyReader.onClosed();
    }
    if (listener != null) {
      listener.onClosed();
    }
  }

  // The whole request body, for plugins that read or replace it (the AI plugins).

  /**
   * Reads the whole request body (at most {@code max} bytes) before the request goes on; it then
   * stays here ({@link #body()}) and is what goes upstream. Completes on the event loop with the
   * body, or with the status to answer (413 over {@code max}, 400 broken framing, 408 too slow).
   */
  public java.util.concurrent.CompletionStage<Object> readBody(long max, long timeoutMillis) {
    if (body != null) {
      return java.util.concurrent.CompletableFuture.completedFuture(body);
    }
    if (bodyReader != null) {
      return bodyReader.result();
    }
    // The read may end within start() (a declared length over max), which clears bodyReader.
    var reader = new RequestBodyReader(this, max, timeoutMillis);
    bodyReader = reader;
    reader.start();
    return reader.result();
  }

  /**
   * Reads the body whole if it has at most {@code max} bytes, for a route that matches on it: the
   * same read as {@link #readBody}, but a body over {@code max} is not an error. A declared length
   * over it is not read at all; a body found longer on the way stops being read there, and what was
   * read waits ({@link #takeBodyPrefix}) for the proxy to send first. Completes with the body
   * ({@code byte[]}, then also {@link #body()}), {@link #OVER}, or the status to answer (400, 408,
   * 499).
   */
  public java.util.concurrent.CompletionStage<Object> peekBody(long max, long timeoutMillis) {
    if (body != null) {
      return java.util.concurrent.CompletableFuture.completedFuture(body);
    }
    var reader = new RequestBodyReader(this, max, timeoutMillis, true);
    bodyReader = reader;
    reader.start();
    return reader.result();
  }

  /** What {@link #peekBody} answers for a body over its bound. */
  public static final Object OVER = RequestBodyReader.OVER;

  /**
   * The first bytes of the body, read by {@link #peekBody} before it stopped, or {@code null}; they
   * are given once (whoever takes them sends them on, before the rest of the body).
   */
  public byte[] takeBodyPrefix() {
    var p = bodyPrefix;
    bodyPrefix = null;
    return p;
  }

  void bodyPrefix(byte[] prefix) {
    bodyPrefix = prefix;
  }

  /** The reader is done (whatever the outcome): the body goes to the exchange's listener again. */
  void bodyRead(byte[] whole) {
    bodyReader = null;
    if (whole != null) {
      body(whole);
    }
  }

  /**
   * Body bytes held for this request now: what the proxy buffered before a node was chosen, what a
   * plugin's read has taken so far, the whole body once read. What resetting it frees (see {@link
   * LoadShedding}).
   */
  public long bodyHeld() {
    var reader = bodyReader;
    return intakeHeld
        + (reader == null ? 0 : reader.size())
        + (body == null ? 0 : body.length)
        + (bodyPrefix == null ? 0 : bodyPrefix.length);
  }

  /** The proxy holds {@code bytes} of the body now (its buffer before a node is chosen). */
  public void intakeHeld(long bytes) {
    intakeHeld = bytes;
  }

  /** The whole body read, or set by a plugin; {@code null} when it streams as it comes. */
  public byte[] body() {
    return body;
  }

  /**
   * Sets the body that goes upstream in place of the client's (which must have been read whole,
   * {@link #readBody}), with its length.
   */
  public void body(byte[] replacement) {
    body = replacement;
    request
        .headers()
        .remove(io.netty.handler.codec.http.HttpHeaderNames.TRANSFER_ENCODING)
        .setInt(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH, replacement.length);
  }

  /**
   * What a plugin does when the node answers {@code status} (429, 5xx) before anything went to the
   * client: {@code true} when it chose another upstream (and target, fields, body) to send the
   * request to instead, so the answer is dropped; {@code null}: none.
   */
  public java.util.function.IntPredicate fallback() {
    return fallback;
  }

  public void fallback(java.util.function.IntPredicate f) {
    fallback = f;
  }

  // What steps publish.

  public String routeId() {
    return routeId;
  }

  public void routeId(String id) {
    routeId = id;
  }

  /** The matched route's {@code uri}/{@code uris} as written ({@code /grpc/*}); empty if none. */
  public List<String> routePaths() {
    return routePaths;
  }

  public void routePaths(List<String> paths) {
    routePaths = paths == null ? List.of() : paths;
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

  /** Every result published so far (a read-only view; for a dry-run's trace). */
  public Map<String, Object> results() {
    return results == null ? Map.of() : java.util.Collections.unmodifiableMap(results);
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
