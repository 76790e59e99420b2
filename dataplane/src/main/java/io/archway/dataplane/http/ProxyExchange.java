package io.archway.dataplane.http;

import io.archway.dataplane.config.CompiledRoute;
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
  // The body is read up to client_body_buffer_size before a node is picked, so a client that
  // sends slowly holds no upstream connection while it does; a retry writes it again.
  private boolean buffering = true;
  private io.netty.buffer.CompositeByteBuf early;
  private boolean bodyWritten; // some of the body went to a node: no retry from here on
  private boolean awaitingClient; // body content was asked of the client and has not come
  private final long clientBodyNanos;
  private final long clientSendNanos; // send_timeout: how long a client may leave the answer unread
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
    this.clientBodyNanos = gateway.settings().clientBodyTimeout().toNanos();
    this.clientSendNanos = gateway.settings().sendTimeout().toNanos();
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

  /** Reads the body up to the buffer's size (or its end), then picks a node. */
  void start() {
    if (expectContinue) {
      // The gateway reads the body itself before a node is chosen, so it answers the expectation.
      expectContinue = false;
      client.writeAndFlush(
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    if (gateway.settings().clientBodyBufferSize() <= 0) {
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
    owner.pull();
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
    if (early != null) {
      var body = early.retainedDuplicate();
      bodyWritten = true;
      ch.writeAndFlush(
              requestDone
                  ? new io.netty.handler.codec.http.DefaultLastHttpContent(body)
                  : new io.netty.handler.codec.http.DefaultHttpContent(body))
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
  void onClientContent(HttpContent content) {
    if (done || (conn == null && !buffering)) {
      ReferenceCountUtil.release(content);
      return;
    }
    awaitingClient = false;
    touch();
    int n = content.content().readableBytes();
    bodyBytes += n;
    route.stats().bytesIn.add(n);
    long max = gateway.settings().maxBodySize();
    if (max > 0 && bodyBytes > max) {
      ReferenceCountUtil.release(content);
      gateway.metrics().error("body_too_large");
      refuseBody(413, false);
      return;
    }
    boolean last = content instanceof LastHttpContent;
    if (last) {
      requestDone = true;
    }
    if (buffering) {
      if (n > 0) {
        if (early == null) {
          early = client.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        early.addComponent(true, content.content().retain());
      }
      content.release();
      if (last || early.readableBytes() >= gateway.settings().clientBodyBufferSize()) {
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

  /**
   * The client's body cannot go on: over the size limit (413), not sent in time (408), or broken
   * framing mid-body (400). The node is not to blame. With {@code close}, the connection closes
   * after the answer (the rest of the body cannot be skipped safely).
   */
  private void refuseBody(int code, boolean close) {
    abandonConnection();
    if (responseStarted) {
      finish(false);
      client.close();
      return;
    }
    if (node != null) {
      upstream.release(node);
    }
    var addr = node == null ? null : node.address();
    ended();
    owner.refuse(code, close, route, addr, start, request);
  }

  /** The request body's framing broke after its head was accepted (a bad chunk). */
  void onClientBodyBroken(int code) {
    if (!done) {
      refuseBody(code, true);
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
      touch();
      if (clientSendNanos > 0) {
        timer.watch(this, lastActivity + clientSendNanos);
      }
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
    if (reused && !replacedStale && !bodyWritten) {
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
    ended();
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
    if (!responseStarted && !bodyWritten && failures <= upstream.retries() && withinTime) {
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
    ended();
    if (responseStarted) {
      client.close();
      return;
    }
    owner.exchangeFailed(code, addr);
  }

  private void finish(boolean complete) {
    ended();
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

  /** The exchange is over: no more timeouts, and the buffered body goes. */
  private void ended() {
    done = true;
    timer.unwatch(this);
    if (early != null) {
      early.release();
      early = null;
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

  @Override
  public long onDeadline(long now) {
    if (done) {
      return 0;
    }
    if (awaitingClient && clientBodyNanos > 0) {
      // The client owes the next piece of its body: its time, not the node's.
      long idle = now - lastActivity;
      if (idle < clientBodyNanos) {
        return clientBodyNanos - idle;
      }
      gateway.metrics().error("client_body_timeout");
      refuseBody(408, true);
      return 0;
    }
    if (pausedForClient) {
      // Waiting for the client to take what was sent: its time (send_timeout), not the node's.
      if (clientSendNanos <= 0) {
        return timeoutNanos;
      }
      long idle = now - lastActivity;
      if (idle < clientSendNanos) {
        return clientSendNanos - idle;
      }
      gateway.metrics().error("client_send_timeout");
      abandonConnection();
      finish(false);
      client.close();
      return 0;
    }
    if (timeoutNanos <= 0) {
      return 0;
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
    ended();
    owner.finished(
        status, bytesSent, route, node.address(), System.nanoTime() - attemptStart, start, request);
    client.close();
  }
}
