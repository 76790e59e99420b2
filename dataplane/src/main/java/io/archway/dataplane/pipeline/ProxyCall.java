package io.archway.dataplane.pipeline;

import io.archway.dataplane.config.CompiledRoute;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.exchange.RequestBodyCopy;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamConnection;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.BitSet;

/**
 * One request proxied to a node, on the request's event loop: pick a node, get a connection, stream
 * the request, and (in {@link ProxyResponse}) the response. The body is read up to {@code
 * client_body_buffer_size} before a node is picked; the rest follows chunk by chunk, the next chunk
 * pulled from the client only when the last one was written and the node can take more. Connect
 * failures and timeouts before anything was streamed are retried on another node (bounded by {@code
 * retries} and {@code retry_timeout}); a pooled connection found closed is replaced once without
 * counting as a retry.
 */
final class ProxyCall extends ProxyResponse implements Exchange.Listener {

  private final CompiledRoute route;
  private final HttpRequest request;
  private final long start;
  private final String originalHost;
  private final boolean teTrailers; // the client accepts trailers (gRPC says so)
  private final boolean grpc;
  private final ChannelFutureListener afterWrite = this::afterWrite;
  private BitSet tried; // nodes that failed this request; made on the first failure
  private int failures;
  private int lastFailureStatus = 502;
  private boolean replacedStale;
  private boolean reused;

  private boolean requestDone; // the client's last content has been read
  private long bodyBytes;
  // The body is read up to client_body_buffer_size before a node is picked, so a client that
  // sends slowly holds no upstream connection while it does; a retry writes it again.
  private boolean buffering = true;
  private CompositeByteBuf early;
  private boolean bodyWritten; // some of the body went to a node: no retry from here on
  // A plugin transforms the body on its way to the node (grpc-web's base64): every piece goes
  // through it; null when none does, and once it was finished or aborted.
  private BodyStream requestStream;

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
    this.requestStream = ex.attribute(PluginContext.REQUEST_BODY_STREAM);
    if (requestStream != null) {
      // Its length changes on the way: framed by chunks (HTTP/1.1 nodes) or by DATA frames.
      ex.attribute(PluginContext.REQUEST_BODY_STREAM, null);
      request.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
      HttpUtil.setTransferEncodingChunked(request, true);
    }
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
  }

  /** Reads the body up to the buffer's size (or its end), then picks a node. */
  void start() {
    call.serve(this);
    if (grpcDeadline != 0) {
      timer.watch(this, grpcDeadline);
    }
    var whole = call.exchange().body();
    if (whole != null) {
      // A plugin read the body whole (and may have replaced it): it goes on as it is now.
      buffering = false;
      requestDone = true;
      early = downstream.alloc().compositeBuffer(1);
      early.addComponent(true, Unpooled.wrappedBuffer(whole));
      attempt();
      return;
    }
    var prefix = call.exchange().takeBodyPrefix();
    if (prefix != null) {
      // Routing read this much of the body (a route matches on it) and stopped at its bound: it
      // goes first, as the start of the buffered body, and the rest follows as it comes.
      buffering = true;
      onContent(new DefaultHttpContent(Unpooled.wrappedBuffer(prefix)));
      return;
    }
    if (call.expectContinue()) {
      // The gateway reads the body itself before a node is chosen, so it answers the expectation.
      downstream.sendContinue();
    }
    if (limits.clientBodyBufferSize() <= 0 || grpc || !call.exchange().requestBuffering()) {
      // gRPC streams: a message may wait for the node's answer (bidi), so none is held back.
      buffering = false;
      attempt();
      return;
    }
    pullBody();
  }

  /** Asks the client for more of the body; client_body_timeout runs until it comes. */
  private void pullBody() {
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
  private void attempt() {
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
    ch.write(request);
    if (early != null) {
      var body = early.retainedDuplicate();
      bodyWritten = true;
      ch.writeAndFlush(
              requestDone ? new DefaultLastHttpContent(body) : new DefaultHttpContent(body))
          .addListener(afterWrite);
    } else if (requestDone) {
      ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(afterWrite);
    } else {
      ch.flush();
    }
    if (requestDone) {
      requestSent = true;
      arm(readMillis());
    } else {
      arm(sendMillis());
      if (early == null) {
        pullBody();
      }
      // else: afterWrite asks for more once the buffered part is written
    }
    ch.read();
  }

  /** A piece of the request body from the client. */
  @Override
  public void onContent(HttpContent content) {
    if (done || (conn == null && !buffering)) {
      ReferenceCountUtil.release(content);
      return;
    }
    awaitingClient = false;
    touch();
    int n = content.content().readableBytes();
    bodyBytes += n;
    var copy = call.exchange().attribute(RequestBodyCopy.KEY);
    if (copy != null) {
      copy.add(content.content(), content instanceof LastHttpContent);
    }
    route.stats().bodyIn(n);
    long max = HttpProxy.maxBodySize(call);
    if (max > 0 && bodyBytes > max) {
      ReferenceCountUtil.release(content);
      metrics.error("body_too_large");
      refuseBody(413, false);
      return;
    }
    boolean last = content instanceof LastHttpContent;
    if (requestStream != null) {
      try {
        content = transform(content, last);
      } catch (IllegalArgumentException e) {
        metrics.error("request_body_refused");
        refuseBody(400, true);
        return;
      }
    }
    if (last) {
      requestDone = true;
    }
    if (buffering) {
      if (n > 0) {
        if (early == null) {
          early = downstream.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        early.addComponent(true, content.content().retain());
      }
      content.release();
      if (last || early.readableBytes() >= limits.clientBodyBufferSize()) {
        buffering = false;
        attempt();
      } else {
        pullBody();
      }
      return;
    }
    bodyWritten = true;
    conn.channel().writeAndFlush(content).addListener(afterWrite);
    if (last) {
      requestSent = true;
      arm(readMillis());
    }
  }

  /** One piece of the request body through the plugin's request stream (released on failure). */
  private HttpContent transform(HttpContent content, boolean last) {
    var stream = requestStream;
    if (last) {
      requestStream = null; // finished or aborted now, exactly once
    }
    return BodyStreams.through(stream, content, downstream.alloc());
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
    if (!requestDone && !awaitingClient && conn.channel().isWritable()) {
      pullBody();
    }
  }

  @Override
  public void onUpstreamWritable() {
    if (!done && !requestDone && !awaitingClient && !buffering) {
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
    if (reused && !replacedStale && !bodyWritten) {
      // A kept-alive connection the node had closed: try once more on a fresh one.
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
    abandonConnection();
    upstream.failed(node, kind);
    failures++;
    lastFailureStatus = statusIfFinal;
    var failedAddr = node.address();
    if (tried == null) {
      tried = new BitSet();
    }
    tried.set(node.index());
    node = null;
    replacedStale = false;
    boolean withinTime =
        upstream.retryTimeoutNanos() == 0
            || System.nanoTime() - start < upstream.retryTimeoutNanos();
    if (!responseStarted && !bodyWritten && failures <= upstream.retries() && withinTime) {
      metrics.error("upstream_retry");
      attempt();
      return;
    }
    fail(statusIfFinal, null, failedAddr);
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
    if (early != null) {
      early.release();
      early = null;
    }
    if (requestStream != null) {
      var s = requestStream;
      requestStream = null;
      s.abort();
    }
  }
}
