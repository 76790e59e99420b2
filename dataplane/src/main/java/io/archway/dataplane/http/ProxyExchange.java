package io.archway.dataplane.http;

import io.archway.dataplane.config.CompiledRoute;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamConnection;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;

/**
 * One request proxied to a node, on the client connection's event loop. The request head goes out
 * as soon as a connection is had; the body follows chunk by chunk, the next chunk read from the
 * client only when the last one was written and the node can take more; the response comes back the
 * same way. Connect failures and timeouts before anything was streamed are retried on another node
 * (bounded by {@code retries} and {@code retry_timeout}); a pooled connection found closed is
 * replaced once without counting as a retry.
 */
final class ProxyExchange implements UpstreamConnection.Listener, ExchangeTimer.Watched {

  private final GatewayHandler owner;
  private final ChannelHandlerContext client;
  private final Gateway gateway;
  private final HttpRequest request;
  private final RequestVars vars;
  private final CompiledRoute route;
  private final UpstreamRuntime upstream;
  private final long start;
  private final String originalHost;
  private BitSet tried; // nodes that failed this request; made on the first failure
  private boolean expectContinue;
  private int failures;
  private int lastFailureStatus = 502;
  private boolean replacedStale;

  private NodeState node;
  private UpstreamConnection conn;
  private boolean reused;
  private long attemptStart;

  private boolean requestDone; // the client's last content has been read
  private boolean requestSent; // ... and written to the node
  private long bodyBytes;
  private boolean responseStarted;
  private int status;
  private long bytesSent;
  private boolean upstreamKeepAlive;
  private boolean pausedForClient;
  private boolean done;

  private final PluginRun run; // null when the route has no plugins
  // A body filter wants the whole body: the head waits here while the body gathers.
  private HttpResponse heldHead;
  private io.netty.buffer.CompositeByteBuf heldBody;

  private final ExchangeTimer timer;
  private final ChannelFutureListener afterWrite = this::afterWrite;
  private long timeoutNanos;
  private long lastActivity;

  ProxyExchange(
      GatewayHandler owner,
      ChannelHandlerContext client,
      Gateway gateway,
      HttpRequest request,
      RequestVars vars,
      CompiledRoute route,
      UpstreamRuntime upstream,
      boolean expectContinue,
      long start,
      PluginRun run) {
    this.run = run;
    this.owner = owner;
    this.client = client;
    this.gateway = gateway;
    this.request = request;
    this.vars = vars;
    this.route = route;
    this.upstream = upstream;
    this.expectContinue = expectContinue;
    this.start = start;
    this.timer = owner.timer();
    this.originalHost = request.headers().get(HttpHeaderNames.HOST);
    // The normalized path, unless plugins ran (they were given it, and may have rewritten it).
    vars.applyTarget(request);
    ProxyHeaders.removeHopByHop(request.headers());
    ProxyHeaders.forwarded(request.headers(), vars, originalHost);
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
  }

  CompiledRoute route() {
    return route;
  }

  long startNanos() {
    return start;
  }

  HttpRequest request() {
    return request;
  }

  void start() {
    attempt();
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
      node = upstream.pick(vars, tried);
      if (node == null) {
        fail(failures == 0 ? 503 : lastFailureStatus, failures == 0 ? "no_node_available" : null);
        return;
      }
    }
    upstream.begin(node);
    attemptStart = System.nanoTime();
    ProxyHeaders.host(request.headers(), upstream, node, originalHost);
    if (run != null && run.context().upstreamHost() != null) {
      request.headers().set(HttpHeaderNames.HOST, run.context().upstreamHost());
    }
    var endpoint = upstream.endpoint(node);
    var pooled = replacedStale ? null : gateway.pools().poll(endpoint);
    if (pooled != null) {
      reused = true;
      connected(pooled);
      return;
    }
    reused = false;
    var attemptNode = node;
    gateway
        .pools()
        .connect(client.channel().eventLoop(), endpoint, connectMillis())
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
                gateway
                    .metrics()
                    .error(timeout ? "upstream_connect_timeout" : "upstream_connect_failed");
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
    if (requestDone) {
      // A retry: the (empty) body was read already.
      ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(afterWrite);
      requestSent = true;
      arm(readMillis());
    } else {
      arm(sendMillis());
      if (expectContinue) {
        expectContinue = false;
        ch.flush();
        client.writeAndFlush(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
      owner.pull();
    }
    ch.read();
  }

  /** A piece of the request body from the client. */
  void onClientContent(HttpContent content) {
    if (done || conn == null) {
      ReferenceCountUtil.release(content);
      return;
    }
    touch();
    int n = content.content().readableBytes();
    bodyBytes += n;
    route.stats().bytesIn.add(n);
    long max = gateway.settings().maxBodySize();
    if (max > 0 && bodyBytes > max) {
      ReferenceCountUtil.release(content);
      gateway.metrics().error("body_too_large");
      abandonConnection();
      if (!responseStarted) {
        upstream.release(node);
        owner.respond(413, Outcome.errorBody(413), route, node.address(), start, request);
        done = true;
        cancelTimer();
      } else {
        finish(false);
      }
      return;
    }
    boolean last = content instanceof LastHttpContent;
    if (last) {
      requestDone = true;
    }
    conn.channel().writeAndFlush(content).addListener(afterWrite);
    if (last) {
      requestSent = true;
      arm(readMillis());
    }
  }

  private void afterWrite(io.netty.util.concurrent.Future<? super Void> f) {
    if (done) {
      return;
    }
    if (!f.isSuccess()) {
      // The node closed: onUpstreamClosed decides what it means.
      return;
    }
    touch();
    if (!requestDone && conn.channel().isWritable()) {
      owner.pull();
    }
  }

  @Override
  public void onUpstreamWritable() {
    if (!done && !requestDone) {
      owner.pull();
    }
  }

  @Override
  public void onUpstreamMessage(Object msg) {
    if (done) {
      ReferenceCountUtil.release(msg);
      return;
    }
    touch();
    if (msg instanceof HttpResponse res) {
      // A 101 needs a tunnel; a plain exchange (the route allows no upgrade) cannot switch.
      if (res.decoderResult().isFailure() || res.status().code() == 101) {
        ReferenceCountUtil.release(msg);
        gateway.metrics().error("upstream_bad_response");
        upstreamFailed(NodeState.Failure.TCP, 502);
        return;
      }
      if (res.status().code() == 100) {
        ReferenceCountUtil.release(msg);
        conn.channel().read();
        return;
      }
      responseStarted = true;
      status = res.status().code();
      upstreamKeepAlive = HttpUtil.isKeepAlive(res);
      ProxyHeaders.removeHopByHop(res.headers());
      res.setProtocolVersion(HttpVersion.HTTP_1_1);
      if (!owner.keepAlive()) {
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      if (run != null && run.headerFilter(res)) {
        heldHead = res;
        heldBody = client.alloc().compositeBuffer(Integer.MAX_VALUE);
      } else {
        client.write(res);
      }
    }
    if (msg instanceof HttpContent c && heldHead != null) {
      gather(c);
      return;
    }
    if (msg instanceof HttpContent c) {
      bytesSent += c.content().readableBytes();
      if (c instanceof LastHttpContent) {
        var written = client.writeAndFlush(c);
        if (!owner.keepAlive()) {
          written.addListener(ChannelFutureListener.CLOSE);
        }
        finish(true);
        return;
      }
      client.write(c);
    }
  }

  /**
   * Gathers the body for the body filters; at its end sends the head and the filtered body with its
   * new length.
   */
  private void gather(HttpContent c) {
    var content = c.content();
    long max = Math.max(gateway.settings().maxBodySize(), 8L << 20);
    if (heldBody.readableBytes() + (long) content.readableBytes() > max) {
      ReferenceCountUtil.release(c);
      gateway.metrics().error("response_too_large_to_filter");
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
    ReferenceCountUtil.release(c);
    if (!last) {
      return;
    }
    var bytes = io.netty.buffer.ByteBufUtil.getBytes(heldBody);
    heldBody.release();
    heldBody = null;
    var body = run.bodyFilter(bytes);
    var head = heldHead;
    heldHead = null;
    head.headers()
        .remove(HttpHeaderNames.TRANSFER_ENCODING)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    client.write(head);
    bytesSent += body.length;
    var written =
        client.writeAndFlush(
            new io.netty.handler.codec.http.DefaultLastHttpContent(
                io.netty.buffer.Unpooled.wrappedBuffer(body)));
    if (!owner.keepAlive()) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
    finish(true);
  }

  @Override
  public void onUpstreamReadComplete() {
    if (done) {
      return;
    }
    client.flush();
    if (client.channel().isWritable()) {
      conn.channel().read();
    } else {
      pausedForClient = true;
    }
  }

  void onClientWritable() {
    if (pausedForClient && !done) {
      pausedForClient = false;
      touch();
      conn.channel().read();
    }
  }

  @Override
  public void onUpstreamClosed() {
    if (done) {
      return;
    }
    conn = null;
    if (responseStarted) {
      gateway.metrics().error("upstream_closed_mid_response");
      cutMidResponse(NodeState.Failure.TCP);
      return;
    }
    if (reused && !replacedStale && bodyBytes == 0) {
      // A kept-alive connection the node had closed: try once more on a fresh one.
      replacedStale = true;
      upstream.release(node);
      attempt();
      return;
    }
    gateway.metrics().error("upstream_closed");
    upstreamFailed(NodeState.Failure.TCP, 502);
  }

  void onClientClosed() {
    if (done) {
      return;
    }
    done = true;
    cancelTimer();
    abandonConnection();
    if (node != null) {
      upstream.end(node, 499, (System.nanoTime() - attemptStart) / 1000);
    }
  }

  /** The node failed this attempt: retry elsewhere if nothing was streamed yet, else give up. */
  private void upstreamFailed(NodeState.Failure kind, int statusIfFinal) {
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
    if (!responseStarted && bodyBytes == 0 && failures <= upstream.retries() && withinTime) {
      gateway.metrics().error("upstream_retry");
      attempt();
      return;
    }
    fail(statusIfFinal, null, failedAddr);
  }

  private void fail(int code, String cause) {
    fail(code, cause, null);
  }

  private void fail(int code, String cause, String addr) {
    if (cause != null) {
      gateway.metrics().error(cause);
    }
    done = true;
    cancelTimer();
    if (responseStarted) {
      client.close();
      return;
    }
    owner.exchangeFailed(code, addr);
  }

  private void finish(boolean complete) {
    done = true;
    cancelTimer();
    long upstreamNanos = System.nanoTime() - attemptStart;
    upstream.end(node, status, upstreamNanos / 1000);
    var c = conn;
    conn = null;
    if (c != null) {
      if (complete && requestSent && upstreamKeepAlive) {
        gateway.pools().release(c, upstream.pool());
      } else {
        c.detach();
        c.channel().close();
      }
    }
    owner.finished(status, bytesSent, route, node.address(), upstreamNanos, start, request);
    owner.exchangeDone(complete);
  }

  private void abandonConnection() {
    releaseHeld();
    var c = conn;
    conn = null;
    if (c != null) {
      c.detach();
      c.channel().close();
    }
  }

  private void releaseHeld() {
    if (heldBody != null) {
      heldBody.release();
      heldBody = null;
    }
  }

  // Timeouts: the connection's timer is told the deadline; progress only moves lastActivity.

  private void arm(long millis) {
    timeoutNanos = TimeUnit.MILLISECONDS.toNanos(millis);
    lastActivity = System.nanoTime();
    if (timeoutNanos > 0) {
      timer.watch(this, lastActivity + timeoutNanos);
    } else {
      timer.unwatch(this);
    }
  }

  private void touch() {
    lastActivity = System.nanoTime();
  }

  private void cancelTimer() {
    timer.unwatch(this);
  }

  @Override
  public long onDeadline(long now) {
    if (done || timeoutNanos <= 0) {
      return 0;
    }
    if (pausedForClient) {
      // Waiting for the client to take what was sent: not the node's fault.
      return timeoutNanos;
    }
    long idle = now - lastActivity;
    if (idle < timeoutNanos) {
      return timeoutNanos - idle;
    }
    gateway.metrics().error(requestSent ? "upstream_read_timeout" : "upstream_send_timeout");
    if (responseStarted) {
      cutMidResponse(NodeState.Failure.TIMEOUT);
    } else {
      upstreamFailed(NodeState.Failure.TIMEOUT, 504);
    }
    return 0;
  }

  /** The node failed after the response began: the client can only be told by a close. */
  private void cutMidResponse(NodeState.Failure kind) {
    abandonConnection();
    upstream.failed(node, kind);
    done = true;
    cancelTimer();
    owner.finished(
        status, bytesSent, route, node.address(), System.nanoTime() - attemptStart, start, request);
    client.close();
  }
}
