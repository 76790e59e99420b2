package io.archway.dataplane.pipeline;

import io.archway.dataplane.config.CompiledRoute;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamConnection;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;

/**
 * One request proxied to a node, on the request's event loop: pick a node, get a connection, stream
 * the request, and (in {@link ProxyResponse}) the response. The body is read up to {@code
 * client_body_buffer_size} before a node is picked ({@link BodyIntake}); the rest follows chunk by
 * chunk, the next chunk pulled from the client only when the last one was written and the node can
 * take more. Connect failures and timeouts before any of the body was sent, and answers with a
 * status of {@code retry_on_status} when the whole body is held, are retried on another node
 * (bounded by {@code retries} and {@code retry_timeout}, after {@code retry_backoff}); a pooled
 * connection found closed is replaced once without counting as a retry. A request that is not
 * idempotent (RFC 9110 §9.2.2: not GET, HEAD, OPTIONS, TRACE, PUT or DELETE, and no {@code
 * Idempotency-Key}) is not sent again once a node was given its head and then failed, as nginx's
 * {@code proxy_next_upstream} does without {@code non_idempotent}: the node may have acted on it.
 */
final class ProxyCall extends ProxyResponse implements Exchange.Listener {

  private static final String IDEMPOTENCY_KEY = "idempotency-key";

  private final CompiledRoute route;
  private final HttpRequest request;
  private final long start;
  private final String originalHost;
  private final boolean teTrailers; // the client accepts trailers (gRPC says so)
  private final boolean grpc;
  private final boolean idempotent;
  private final ChannelFutureListener afterWrite = this::afterWrite;
  private final BodyIntake body;
  private BitSet tried; // nodes that failed this request; made on the first failure
  private int failures;
  private int lastFailureStatus = 502;
  private boolean replacedStale;
  private boolean reused;
  private boolean headSent; // this attempt wrote the request's head to a node
  private ScheduledFuture<?> backoff; // the wait before the next attempt

  ProxyCall(RouteCall call) {
    super(call);
    var ex = call.exchange();
    this.route = call.route();
    this.request = ex.request();
    this.start = ex.startNanos();
    this.originalHost = request.headers().get(HttpHeaderNames.HOST);
    this.grpc = GrpcStatus.isGrpc(request);
    // An HTTP/2 client's te was taken off with the other hop-by-hop fields; gRPC always has it.
    this.teTrailers =
        grpc
            || request.headers().containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
    this.grpcDeadline = grpc ? GrpcStatus.deadline(request, start) : 0;
    // The normalized path, unless plugins ran (they were given it, and may have rewritten it).
    ex.vars().applyTarget(request);
    ProxyHeaders.removeHopByHop(request.headers());
    if (call.forwardOnce()) {
      // Not again when a plugin sends the request on to another upstream (ai-proxy-multi).
      ProxyHeaders.forwarded(request.headers(), ex.vars(), originalHost);
    }
    this.body = new BodyIntake(this, call, request, grpc);
    this.idempotent = idempotent(request);
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
  }

  private static boolean idempotent(HttpRequest request) {
    var m = request.method();
    return m == HttpMethod.GET
        || m == HttpMethod.HEAD
        || m == HttpMethod.OPTIONS
        || m == HttpMethod.TRACE
        || m == HttpMethod.PUT
        || m == HttpMethod.DELETE
        || request.headers().contains(IDEMPOTENCY_KEY);
  }

  /** Reads the body up to the buffer's size (or its end), then picks a node. */
  void start() {
    call.serve(this);
    if (grpcDeadline != 0) {
      timer.watch(this, grpcDeadline);
    }
    body.start();
  }

  /** Asks the client for more of the body; client_body_timeout runs until it comes. */
  void pullBody() {
    awaitingClient = true;
    touch();
    if (clientBodyNanos > 0) {
      timer.watch(this, lastActivity + clientBodyNanos);
    }
    downstream.pullBody();
  }

  private long connectMillis() {
    return route.connectMillis() >= 0 ? route.connectMillis() : upstream.connectTimeoutMillis();
  }

  private long sendMillis() {
    return route.sendMillis() >= 0 ? route.sendMillis() : upstream.sendTimeoutMillis();
  }

  private long readMillis() {
    return route.readMillis() >= 0 ? route.readMillis() : upstream.readTimeoutMillis();
  }

  /** Picks a node and gets a connection to it: from the pool, or a new one. */
  void attempt() {
    if (node == null) {
      node = upstream.pick(call.exchange().vars(), tried);
      if (node == null) {
        if (failures == 0) {
          metrics.error("no_node_available");
        }
        fail(failures == 0 ? 503 : lastFailureStatus, null, null);
        return;
      }
    }
    upstream.begin(node);
    attemptStart = System.nanoTime();
    headSent = false;
    ProxyHeaders.host(request.headers(), upstream, node, originalHost);
    var host = call.exchange().upstreamHost();
    if (host != null) {
      request.headers().set(HttpHeaderNames.HOST, host);
    }
    var pools = call.pipeline().pools();
    var endpoint = upstream.endpoint(node);
    var pooled = replacedStale || upstream.h2() ? null : pools.poll(endpoint);
    if (pooled != null) {
      reused = true;
      connected(pooled);
      return;
    }
    reused = false;
    if (upstream.h2() && teTrailers) {
      // Kept for HTTP/2 nodes (gRPC servers look for it); hop-by-hop otherwise.
      request.headers().set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
    }
    var attemptNode = node;
    (upstream.h2()
            ? pools.h2().openStream(downstream.eventLoop(), endpoint, connectMillis())
            : pools.connect(downstream.eventLoop(), endpoint, connectMillis()))
        .addListener(
            f -> {
              if (done || node != attemptNode) {
                if (f.isSuccess()) {
                  ((UpstreamConnection) f.getNow()).channel().close();
                }
                return;
              }
              if (f.isSuccess()) {
                connected((UpstreamConnection) f.getNow());
              } else {
                var timeout = f.cause() instanceof ConnectTimeoutException;
                metrics.error(timeout ? "upstream_connect_timeout" : "upstream_connect_failed");
                upstreamFailed(
                    timeout ? NodeState.Failure.TIMEOUT : NodeState.Failure.TCP,
                    timeout ? 504 : 502);
              }
            });
  }

  private void connected(UpstreamConnection c) {
    conn = c;
    c.attach(this);
    var ch = c.channel();
    headSent = true;
    // A failed write closes the connection (UpstreamConnection), which onUpstreamClosed handles.
    if (upstream.h2() || !body.writeBodiless(ch, request)) {
      ch.write(request, ch.voidPromise());
      body.writeHeld(ch, afterWrite);
    }
    if (body.complete()) {
      requestSent = true;
      arm(readMillis());
    } else {
      arm(sendMillis());
      if (body.nothingHeld()) {
        pullBody();
      }
      // else: afterWrite asks for more once the buffered part is written
    }
    ch.read();
  }

  /** A piece of the request body from the client. */
  @Override
  public void onContent(HttpContent content) {
    if (done || (conn == null && !body.buffering())) {
      ReferenceCountUtil.release(content);
      return;
    }
    awaitingClient = false;
    touch();
    var out = body.take(content);
    if (out == null) {
      return; // held, or refused
    }
    conn.channel().writeAndFlush(out).addListener(afterWrite);
    if (body.complete()) {
      requestSent = true;
      arm(readMillis());
    }
  }

  /**
   * The client's body cannot go on: over the size limit (413), not sent in time (408), or broken
   * framing mid-body (400). The node is not to blame. With {@code close}, the connection closes
   * after the answer (the rest of the body cannot be skipped safely).
   */
  @Override
  void refuseBody(int code, boolean close) {
    abandonConnection();
    if (responseStarted) {
      finish(false);
      downstream.close();
      return;
    }
    if (node != null) {
      upstream.release(node);
    }
    var addr = node == null ? null : node.address();
    ended();
    if (close) {
      downstream.closeAfterResponse();
    }
    call.respondError(code, addr);
  }

  /** The request body's framing broke after its head was accepted (a bad chunk). */
  @Override
  public void onBodyBroken(int code) {
    if (!done) {
      refuseBody(code, true);
    }
  }

  private void afterWrite(Future<? super Void> f) {
    if (done || !f.isSuccess()) {
      // On a failed write the node closed: onUpstreamClosed decides what it means.
      return;
    }
    touch();
    if (!body.complete() && !awaitingClient && conn.channel().isWritable()) {
      pullBody();
    }
  }

  @Override
  public void onUpstreamWritable() {
    if (!done && !body.complete() && !awaitingClient && !body.buffering()) {
      pullBody();
    }
  }

  @Override
  public void onUpstreamClosed() {
    if (done) {
      return;
    }
    conn = null;
    if (responseStarted) {
      metrics.error("upstream_closed_mid_response");
      cutMidResponse(NodeState.Failure.TCP);
      return;
    }
    if (reused && !replacedStale && !body.written() && (idempotent || !headSent)) {
      // A kept-alive connection the node had closed: try once more on a fresh one (not a request
      // that is not idempotent once its head went: the node may have acted on it).
      replacedStale = true;
      upstream.release(node);
      attempt();
      return;
    }
    metrics.error("upstream_closed");
    upstreamFailed(NodeState.Failure.TCP, 502);
  }

  @Override
  public void onClosed() {
    if (done) {
      return;
    }
    ended();
    abandonConnection();
    if (node != null) {
      upstream.end(node, 499, (System.nanoTime() - attemptStart) / 1000);
    }
  }

  @Override
  void upstreamFailed(NodeState.Failure kind, int statusIfFinal) {
    if (grpcDeadlinePassed(System.nanoTime())) {
      return;
    }
    abandonConnection();
    upstream.failed(node, kind);
    lastFailureStatus = statusIfFinal;
    var failedAddr = node.address();
    triedNode();
    node = null;
    replacedStale = false;
    // The failure counts: the wait before the next attempt, or -1 when none is left.
    long delay =
        responseStarted || body.written() || (headSent && !idempotent)
            ? -1
            : upstream.retryDelayNanos(++failures, start);
    if (delay >= 0) {
      retryAfter(delay, null);
      return;
    }
    fail(statusIfFinal, null, failedAddr);
  }

  /**
   * The node answered {@code code} of {@code retry_on_status}: the answer is dropped and the
   * request goes to another node, when it can be sent again unchanged (its whole body is held, no
   * plugin streams it, not gRPC) and an attempt is left; else the answer goes to the client.
   */
  @Override
  boolean retryOnStatus(int code) {
    if (!upstream.retriesOn(code) || grpc || !body.replayable()) {
      return false;
    }
    long delay = upstream.retryDelayNanos(++failures, start);
    if (delay < 0) {
      return false;
    }
    triedNode();
    var next = upstream.pick(call.exchange().vars(), tried);
    if (next == null) {
      return false; // the last node's answer is the client's
    }
    abandonConnection();
    upstream.end(node, code, (System.nanoTime() - attemptStart) / 1000);
    lastFailureStatus = code;
    node = null;
    replacedStale = false;
    body.rewind();
    retryAfter(delay, next);
    return true;
  }

  private void triedNode() {
    if (tried == null) {
      tried = new BitSet();
    }
    tried.set(node.index());
  }

  /**
   * The next attempt, on {@code next} ({@code null}: a node is picked then), after {@code delay}
   * nanoseconds on the request's event loop; {@link #ended} cancels the wait.
   */
  private void retryAfter(long delay, NodeState next) {
    metrics.error("upstream_retry");
    if (delay == 0) {
      again(next);
      return;
    }
    arm(0); // no node's timeout runs while waiting (a gRPC deadline does)
    backoff = downstream.eventLoop().schedule(() -> again(next), delay, TimeUnit.NANOSECONDS);
  }

  private void again(NodeState next) {
    backoff = null;
    if (!done) {
      node = next;
      attempt();
    }
  }

  @Override
  void fail(int code, String cause, String addr) {
    if (cause != null) {
      metrics.error(cause);
    }
    if (node == null && fallBack(code)) {
      return;
    }
    ended();
    if (responseStarted) {
      downstream.close();
      return;
    }
    call.respondError(code, addr);
  }

  @Override
  void finish(boolean complete) {
    ended();
    long upstreamNanos = System.nanoTime() - attemptStart;
    upstream.end(node, status, upstreamNanos / 1000);
    var c = conn;
    conn = null;
    if (c != null) {
      if (complete && requestSent && upstreamKeepAlive) {
        call.pipeline().pools().release(c, upstream.pool());
      } else {
        c.detach();
        c.channel().close();
      }
    }
    call.finished(status, bytesSent, node.address(), upstreamNanos);
    downstream.exchangeDone(complete);
  }

  @Override
  void abandonConnection() {
    releaseHeld();
    var c = conn;
    conn = null;
    if (c != null) {
      c.detach();
      c.channel().close();
    }
  }

  /** The exchange is over: no more timeouts, and the buffered body goes. */
  @Override
  void ended() {
    done = true;
    releaseHeld();
    timer.unwatch(this);
    body.release();
    if (backoff != null) {
      backoff.cancel(false);
      backoff = null;
    }
  }
}
