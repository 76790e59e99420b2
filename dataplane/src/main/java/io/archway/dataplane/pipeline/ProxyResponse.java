package io.archway.dataplane.pipeline;

import io.archway.dataplane.exchange.Downstream;
import io.archway.dataplane.exchange.ExchangeTimer;
import io.archway.dataplane.exchange.HttpMetrics;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamConnection;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * The response half of a proxied request ({@link ProxyCall} is the rest; one object per request,
 * split over two classes for size) and the timeouts of both halves: the node's response goes to the
 * client as it arrives, its head through header_filter, its body streamed, or gathered whole when a
 * body filter asks for it. It is flushed per read, and the next read is asked of the node only
 * while the client takes what was written (read-after-write back-pressure), {@code send_timeout}
 * bounding the wait.
 */
abstract class ProxyResponse implements UpstreamConnection.Listener, ExchangeTimer.Watched {

  // What Netty's HTTP/2 to HTTP/1.1 conversion adds for its own use; never sent on.
  private static final String STREAM_ID =
      HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text().toString();
  private static final String HTTP2 = "HTTP/2.0";

  final RouteCall call;
  final Downstream downstream;
  final HttpMetrics metrics;
  final RequestLimits limits;
  final UpstreamRuntime upstream;
  final long clientSendNanos; // send_timeout: how long a client may leave the answer unread

  NodeState node;
  UpstreamConnection conn;
  boolean done;
  boolean responseStarted;
  // An interim (1xx) head was dropped: the empty end the decoder gives it is dropped too.
  private boolean interimEnd;
  int status;
  long bytesSent;
  boolean upstreamKeepAlive;
  boolean pausedForClient;
  long lastActivity;
  final ExchangeTimer timer;
  final long clientBodyNanos;
  long timeoutNanos;
  long attemptStart;
  boolean requestSent; // the request went to the node whole
  boolean awaitingClient; // body content was asked of the client and has not come
  long grpcDeadline; // grpc-timeout as a nanoTime reading, 0: none
  // A body filter wants the whole body: the head waits here while the body gathers.
  private HttpResponse heldHead;
  private CompositeByteBuf heldBody;
  // A plugin transforms the body as it streams (gzip): every piece goes through it.
  private BodyStream bodyStream;

  ProxyResponse(RouteCall call) {
    this.call = call;
    this.downstream = call.downstream();
    this.metrics = call.pipeline().metrics();
    this.limits = call.pipeline().limits();
    this.upstream = call.upstream();
    this.clientSendNanos = limits.sendTimeout().toNanos();
    this.timer = downstream.timer();
    this.clientBodyNanos = limits.clientBodyTimeout().toNanos();
  }

  /** The node failed this attempt: retry elsewhere if nothing was streamed yet, else give up. */
  abstract void upstreamFailed(NodeState.Failure kind, int statusIfFinal);

  /**
   * The node answered {@code code} (or none could: no node is held then) before anything went to
   * the client: when a plugin's fallback chose another upstream, the request goes there instead.
   */
  final boolean fallBack(int code) {
    var f = call.exchange().fallback();
    if (f == null || responseStarted || !f.test(code)) {
      return false;
    }
    if (node != null) {
      abandonConnection();
      upstream.end(node, code, (System.nanoTime() - attemptStart) / 1000);
    }
    ended();
    call.proceed();
    return true;
  }

  /** The node answered {@code code}: whether the request went to another node instead. */
  abstract boolean retryOnStatus(int code);

  /** Fails the request with {@code code} before any response went out (else closes). */
  abstract void fail(int code, String cause, String addr);

  /** The response is over; {@code complete}: it went out whole. */
  abstract void finish(boolean complete);

  /** Drops the node's connection (it cannot be reused). */
  abstract void abandonConnection();

  /** Refuses the client's body with {@code code} (the node is not to blame). */
  abstract void refuseBody(int code, boolean close);

  /** The exchange is over: no more timeouts, and what is buffered goes. */
  abstract void ended();

  @Override
  public void onUpstreamMessage(Object msg) {
    if (done) {
      ReferenceCountUtil.release(msg);
      return;
    }
    touch();
    if (interimEnd) {
      interimEnd = false;
      if (!(msg instanceof HttpResponse)
          && msg instanceof LastHttpContent last
          && !last.content().isReadable()) {
        ReferenceCountUtil.release(msg);
        conn.channel().read();
        return;
      }
    }
    if (msg instanceof HttpResponse res) {
      // A 101 needs a tunnel; a plain exchange (the route allows no upgrade) cannot switch.
      if (res.decoderResult().isFailure() || res.status().code() == 101) {
        ReferenceCountUtil.release(msg);
        metrics.error("upstream_bad_response");
        upstreamFailed(NodeState.Failure.TCP, 502);
        return;
      }
      int code = res.status().code();
      if (code >= 100 && code < 200) {
        // Interim answers (100 Continue, 102, 103 Early Hints) are not passed on: the client
        // gets the final one. The decoder ends each with an empty body, unless it came whole.
        interimEnd = !(res instanceof FullHttpResponse);
        ReferenceCountUtil.release(msg);
        conn.channel().read();
        return;
      }
      if (retryOnStatus(res.status().code()) || fallBack(res.status().code())) {
        ReferenceCountUtil.release(msg);
        return;
      }
      responseStarted = true;
      status = res.status().code();
      upstreamKeepAlive = HttpUtil.isKeepAlive(res);
      ProxyHeaders.removeHopByHop(res.headers());
      res.headers().remove(STREAM_ID);
      res.setProtocolVersion(HttpVersion.HTTP_1_1);
      upstream.sessionAnswer(call.exchange().vars(), node, res.headers());
      boolean whole = call.headerFilter(res);
      bodyStream = call.takeBodyStream();
      if (res instanceof FullHttpResponse full) {
        // From an HTTP/2 node, a head that ends the stream (a gRPC trailers-only answer): it goes
        // on as one head, never split into a head and an empty body, unless a filter rewrites it.
        if (whole || bodyStream != null) {
          heldHead = new DefaultHttpResponse(full.protocolVersion(), full.status(), full.headers());
          heldBody = downstream.alloc().compositeBuffer(Integer.MAX_VALUE);
          gather(new DefaultLastHttpContent(full.content()));
          return;
        }
        if (!downstream.protocol().equals(HTTP2)) {
          full.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, full.content().readableBytes());
        }
        bytesSent += full.content().readableBytes();
        downstream.write(full);
        finish(true);
        return;
      }
      if (whole) {
        heldHead = res;
        heldBody = downstream.alloc().compositeBuffer(Integer.MAX_VALUE);
      } else {
        if (bodyStream != null) {
          res.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
          HttpUtil.setTransferEncodingChunked(res, true);
        }
        downstream.write(res);
      }
    }
    if (msg instanceof HttpContent c && heldHead != null) {
      gather(c);
      return;
    }
    if (msg instanceof HttpContent c) {
      if (c instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
        // (EMPTY_LAST_CONTENT's headers are read-only.)
        last.trailingHeaders().remove(STREAM_ID);
      }
      if (bodyStream != null) {
        c = encode(c);
      }
      bytesSent += c.content().readableBytes();
      downstream.write(c);
      if (c instanceof LastHttpContent) {
        finish(true);
      }
    }
  }

  /** One piece of the body through the body stream; at the end, the stream's rest goes with it. */
  private HttpContent encode(HttpContent c) {
    var stream = bodyStream;
    if (c instanceof LastHttpContent) {
      bodyStream = null; // finished or aborted now, exactly once
    }
    return BodyStreams.through(stream, c, downstream.alloc());
  }

  /**
   * Gathers the body for the body filters; at its end sends the head and the filtered body with its
   * new length.
   */
  private void gather(HttpContent c) {
    var content = c.content();
    long max = Math.max(limits.maxBodySize(), 8L << 20);
    if (heldBody.readableBytes() + (long) content.readableBytes() > max) {
      ReferenceCountUtil.release(c);
      metrics.error("response_too_large_to_filter");
      // Not the node's fault, and nothing reached the client yet: a plain 502.
      abandonConnection();
      upstream.release(node);
      heldHead = null;
      responseStarted = false;
      fail(502, null, node.address());
      return;
    }
    heldBody.addComponent(true, content.retain());
    boolean last = c instanceof LastHttpContent;
    var trailers =
        last ? new DefaultHttpHeaders().set(((LastHttpContent) c).trailingHeaders()) : null;
    ReferenceCountUtil.release(c);
    if (!last) {
      return;
    }
    var bytes = ByteBufUtil.getBytes(heldBody);
    heldBody.release();
    heldBody = null;
    var body = Unpooled.wrappedBuffer(call.bodyFilter(bytes));
    var head = heldHead;
    heldHead = null;
    var stream = bodyStream;
    if (stream != null) {
      bodyStream = null;
      var alloc = downstream.alloc();
      var out = alloc.compositeBuffer(2);
      out.addComponent(true, stream.next(body, alloc));
      out.addComponent(true, stream.finish(alloc, trailers));
      body = out;
    }
    int length = body.readableBytes();
    var end = new DefaultLastHttpContent(body);
    if (trailers.isEmpty()) {
      head.headers()
          .remove(HttpHeaderNames.TRANSFER_ENCODING)
          .setInt(HttpHeaderNames.CONTENT_LENGTH, length);
    } else {
      // Trailers the node sent after a gathered body (gRPC's status) still follow it.
      head.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
      HttpUtil.setTransferEncodingChunked(head, true);
      end.trailingHeaders().set(trailers);
    }
    downstream.write(head);
    bytesSent += length;
    downstream.write(end);
    finish(true);
  }

  @Override
  public void onUpstreamReadComplete() {
    if (done) {
      return;
    }
    downstream.flush();
    if (downstream.isWritable()) {
      conn.channel().read();
    } else {
      pausedForClient = true;
      touch();
      if (clientSendNanos > 0) {
        timer.watch(this, lastActivity + clientSendNanos);
      }
    }
  }

  /** The client takes writes again: read on from the node. */
  public void onWritable() {
    if (pausedForClient && !done) {
      pausedForClient = false;
      touch();
      conn.channel().read();
    }
  }

  /**
   * Drops the node's connection but keeps the body stream: a gRPC status made here still goes
   * through it (gRPC-Web's trailer frame); {@link #ended} frees it if nothing does.
   */
  private void abandonKeepingStream() {
    var s = bodyStream;
    bodyStream = null;
    abandonConnection();
    bodyStream = s;
  }

  void releaseHeld() {
    if (bodyStream != null) {
      var s = bodyStream;
      bodyStream = null;
      s.abort();
    }
    if (heldBody != null) {
      heldBody.release();
      heldBody = null;
    }
  }

  // Timeouts: the connection's timer is told the deadline; progress only moves lastActivity.

  void arm(long millis) {
    timeoutNanos = TimeUnit.MILLISECONDS.toNanos(millis);
    lastActivity = System.nanoTime();
    if (timeoutNanos > 0) {
      timer.watch(this, lastActivity + timeoutNanos);
    } else if (grpcDeadline != 0) {
      timer.watch(this, grpcDeadline);
    } else {
      timer.unwatch(this);
    }
  }

  void touch() {
    lastActivity = System.nanoTime();
  }

  @Override
  public long onDeadline(long now) {
    if (done) {
      return 0;
    }
    if (grpcDeadline != 0) {
      if (grpcDeadlinePassed(now)) {
        return 0;
      }
      long left = grpcDeadline - now;
      long wait = onTimeouts(now);
      return done ? 0 : wait == 0 ? left : Math.min(wait, left);
    }
    return onTimeouts(now);
  }

  /**
   * Ends the exchange as {@link #onDeadline} would when the request's {@code grpc-timeout} has
   * passed, and says so; for a failure of the node. The node is sent the same {@code grpc-timeout}
   * and resets its stream when that passes on its own clock: it started later than the gateway's,
   * but a busy event loop may read the reset before it runs the gateway's timer, and the failure is
   * then the deadline's, not the node's (no UNAVAILABLE, no passive health failure).
   */
  boolean grpcDeadlinePassed(long now) {
    if (done || grpcDeadline == 0 || now - grpcDeadline < 0) {
      return false;
    }
    metrics.error("grpc_deadline_exceeded");
    deadlineExceeded();
    return true;
  }

  /**
   * The request's {@code grpc-timeout} passed: the node's stream is reset and the client told
   * DEADLINE_EXCEEDED, in the trailers if the response has begun.
   */
  private void deadlineExceeded() {
    abandonKeepingStream();
    if (node != null) {
      upstream.end(node, 504, (System.nanoTime() - attemptStart) / 1000);
    }
    grpcEnd(GrpcStatus.DEADLINE_EXCEEDED, "deadline exceeded at the gateway", 504);
  }

  /**
   * Ends a gRPC exchange with {@code grpcStatus}: trailers after a response that began, else a
   * trailers-only answer.
   */
  void grpcEnd(int grpcStatus, String message, int loggedStatus) {
    var addr = node == null ? null : node.address();
    if (!responseStarted || heldHead != null) {
      // Nothing reached the client yet (a head held for a body filter is not sent): a whole answer.
      heldHead = null;
      ended();
      call.respondGrpc(null, grpcStatus, message, loggedStatus, addr);
      return;
    }
    HttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    GrpcStatus.set(((LastHttpContent) last).trailingHeaders(), grpcStatus, message);
    if (bodyStream != null) {
      // A plugin streams the body (gRPC-Web): the status goes through it like the node's would.
      last = encode(last);
    }
    ended();
    downstream.write(last);
    downstream.flush();
    call.finished(status, bytesSent, addr, System.nanoTime() - attemptStart);
    downstream.exchangeDone(false);
  }

  private long onTimeouts(long now) {
    long idle = now - lastActivity;
    if (awaitingClient && clientBodyNanos > 0) {
      // The client owes the next piece of its body: its time, not the node's.
      if (idle < clientBodyNanos) {
        return clientBodyNanos - idle;
      }
      if (call.pipeline().shedding().shedding()) {
        // The gateway stopped reading (memory past its mark), not the client: its time starts
        // again, and the largest bodies are reset by the shedding itself.
        lastActivity = now;
        return clientBodyNanos;
      }
      metrics.error("client_body_timeout");
      refuseBody(408, true);
      return 0;
    }
    if (pausedForClient) {
      // Waiting for the client to take what was sent: its time (send_timeout), not the node's.
      if (clientSendNanos <= 0) {
        return timeoutNanos;
      }
      if (idle < clientSendNanos) {
        return clientSendNanos - idle;
      }
      metrics.error("client_send_timeout");
      abandonConnection();
      finish(false);
      downstream.close();
      return 0;
    }
    if (timeoutNanos <= 0) {
      return 0;
    }
    if (idle < timeoutNanos) {
      return timeoutNanos - idle;
    }
    metrics.error(requestSent ? "upstream_read_timeout" : "upstream_send_timeout");
    if (responseStarted) {
      cutMidResponse(NodeState.Failure.TIMEOUT);
    } else {
      upstreamFailed(NodeState.Failure.TIMEOUT, 504);
    }
    return 0;
  }

  /** The node failed after the response began: the client can only be told by a close. */
  void cutMidResponse(NodeState.Failure kind) {
    if (grpcDeadlinePassed(System.nanoTime())) {
      return;
    }
    abandonKeepingStream();
    upstream.failed(node, kind);
    if (heldHead == null && GrpcStatus.isGrpc(call.exchange().request())) {
      // A gRPC client reads a cut stream as the node's failure only from a status.
      grpcEnd(GrpcStatus.UNAVAILABLE, "upstream failed mid-stream", status);
      return;
    }
    ended();
    call.finished(status, bytesSent, node.address(), System.nanoTime() - attemptStart);
    downstream.close();
  }
}
