package io.archway.dataplane.pipeline;

import io.archway.dataplane.exchange.RequestBodyCopy;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.PluginContext;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * The request body's intake for one {@link ProxyCall}: it is read up to {@code
 * client_body_buffer_size} (or its end) and held before a node is picked, so that a client that
 * sends slowly holds no upstream connection while it does, and a retry can write it again; the rest
 * streams to the node piece by piece. It counts the body against {@code client_max_body_size},
 * copies it for plugins that asked, and passes it through a plugin's request stream.
 */
final class BodyIntake {

  private final ProxyCall proxy;
  private final RouteCall call;
  private final boolean grpc;
  private final boolean transformed; // a plugin's stream changes the body on its way
  private boolean complete; // the client's last content has been read
  private long bytes;
  private boolean buffering = true;
  private CompositeByteBuf early;
  private boolean written; // some of the body went to a node in this attempt
  private boolean streamed; // some went past what is held: it cannot be sent again
  // A plugin transforms the body on its way to the node (grpc-web's base64): every piece goes
  // through it; null when none does, and once it was finished or aborted.
  private BodyStream stream;

  BodyIntake(ProxyCall proxy, RouteCall call, HttpRequest request, boolean grpc) {
    this.proxy = proxy;
    this.call = call;
    this.grpc = grpc;
    var ex = call.exchange();
    this.stream = ex.attribute(PluginContext.REQUEST_BODY_STREAM);
    this.transformed = stream != null;
    if (stream != null) {
      // Its length changes on the way: framed by chunks (HTTP/1.1 nodes) or by DATA frames.
      ex.attribute(PluginContext.REQUEST_BODY_STREAM, null);
      request.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
      HttpUtil.setTransferEncodingChunked(request, true);
    }
  }

  /** Reads the body up to the buffer's size (or its end), then has a node picked. */
  void start() {
    var whole = call.exchange().body();
    if (whole != null) {
      // A plugin read the body whole (and may have replaced it): it goes on as it is now.
      buffering = false;
      complete = true;
      early = call.downstream().alloc().compositeBuffer(1);
      early.addComponent(true, Unpooled.wrappedBuffer(whole));
      proxy.attempt();
      return;
    }
    var prefix = call.exchange().takeBodyPrefix();
    if (prefix != null) {
      // Routing read this much of the body (a route matches on it) and stopped at its bound: it
      // goes first, as the start of the buffered body, and the rest follows as it comes.
      proxy.onContent(new DefaultHttpContent(Unpooled.wrappedBuffer(prefix)));
      return;
    }
    if (call.expectContinue()) {
      // The gateway reads the body itself before a node is chosen, so it answers the expectation.
      call.downstream().sendContinue();
    }
    var limits = call.pipeline().limits();
    if (limits.clientBodyBufferSize() <= 0 || grpc || !call.exchange().requestBuffering()) {
      // gRPC streams: a message may wait for the node's answer (bidi), so none is held back.
      buffering = false;
      proxy.attempt();
      return;
    }
    proxy.pullBody();
  }

  /** Still reading the body before a node is picked. */
  boolean buffering() {
    return buffering;
  }

  /** The client's last content has been read. */
  boolean complete() {
    return complete;
  }

  /** Some of the body went to the node of this attempt: a failure is not retried. */
  boolean written() {
    return written;
  }

  /**
   * The request can go to another node unchanged: its whole body is held (or it has none) and no
   * plugin's stream changed it on the way.
   */
  boolean replayable() {
    return complete && !streamed && !transformed;
  }

  /** A new attempt sends the held body again (only when {@link #replayable}). */
  void rewind() {
    written = false;
  }

  /**
   * Writes a request that has no body to an HTTP/1.1 node as one message, head and end together
   * (one trip through the node's pipeline instead of two), and flushes; false, writing nothing,
   * when there is a body to send.
   */
  boolean writeBodiless(Channel ch, HttpRequest head) {
    if (!complete || early != null) {
      return false;
    }
    ch.writeAndFlush(
        new DefaultFullHttpRequest(
            head.protocolVersion(),
            head.method(),
            head.uri(),
            Unpooled.EMPTY_BUFFER,
            head.headers(),
            EmptyHttpHeaders.INSTANCE),
        ch.voidPromise());
    return true;
  }

  /**
   * Writes what is held to a node after the request's head: the buffered body, or the end of an
   * empty one; flushes. {@code afterWrite} follows a body write.
   */
  void writeHeld(Channel ch, ChannelFutureListener afterWrite) {
    if (early != null) {
      var body = early.retainedDuplicate();
      written = true;
      ch.writeAndFlush(complete ? new DefaultLastHttpContent(body) : new DefaultHttpContent(body))
          .addListener(afterWrite);
    } else if (complete) {
      // No body: nothing to pull after the write (the read timeout is armed next), no listener.
      ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
    } else {
      ch.flush();
    }
  }

  /** Nothing of the body is held yet: the node's connection asks the client for it. */
  boolean nothingHeld() {
    return early == null;
  }

  /**
   * A piece of the body from the client: held while buffering (and a node picked once enough is),
   * else returned to be written to the node; {@code null} when held, or refused (then released).
   */
  HttpContent take(HttpContent content) {
    int n = content.content().readableBytes();
    bytes += n;
    var copy = call.exchange().attribute(RequestBodyCopy.KEY);
    if (copy != null) {
      copy.add(content.content(), content instanceof LastHttpContent);
    }
    call.route().stats().bodyIn(n);
    var metrics = call.pipeline().metrics();
    long max = HttpProxy.maxBodySize(call);
    if (max > 0 && bytes > max) {
      ReferenceCountUtil.release(content);
      metrics.error("body_too_large");
      proxy.refuseBody(413, false);
      return null;
    }
    boolean last = content instanceof LastHttpContent;
    if (stream != null) {
      try {
        content = transform(content, last);
      } catch (IllegalArgumentException e) {
        metrics.error("request_body_refused");
        proxy.refuseBody(400, true);
        return null;
      }
    }
    if (last) {
      complete = true;
    }
    if (buffering) {
      if (n > 0) {
        if (early == null) {
          early = call.downstream().alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        early.addComponent(true, content.content().retain());
        call.exchange().intakeHeld(early.readableBytes());
      }
      content.release();
      if (last
          || early != null
              && early.readableBytes() >= call.pipeline().limits().clientBodyBufferSize()) {
        buffering = false;
        proxy.attempt();
      } else {
        proxy.pullBody();
      }
      return null;
    }
    written = true;
    streamed |= content.content().isReadable();
    return content;
  }

  /** One piece of the request body through the plugin's request stream (released on failure). */
  private HttpContent transform(HttpContent content, boolean last) {
    var s = stream;
    if (last) {
      stream = null; // finished or aborted now, exactly once
    }
    return BodyStreams.through(s, content, call.downstream().alloc());
  }

  /** The exchange is over: the held body goes, and the plugin's stream is aborted. */
  void release() {
    if (early != null) {
      early.release();
      early = null;
      call.exchange().intakeHeld(0);
    }
    if (stream != null) {
      var s = stream;
      stream = null;
      s.abort();
    }
  }
}
