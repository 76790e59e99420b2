package io.archway.dataplane.http2;

import io.archway.dataplane.exchange.Downstream;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.exchange.ExchangeTimer;
import io.archway.dataplane.exchange.LoadShedding;
import io.archway.dataplane.route.Peer;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 adapter for one stream: its child channel's handler, and the {@link Downstream} of the
 * stream's exchange. The child channel reads only when asked ({@code AUTO_READ} off): the request
 * head, then one DATA frame per {@link #pullBody()}; Netty's stream channel returns a frame's bytes
 * to the client's window when the frame is read, so the window refills only as fast as the pipeline
 * takes the body, and a slow node pauses this stream alone. Writes go out as HEADERS, DATA and
 * trailing HEADERS; the stream's writability (its window and the connection's socket) is the
 * exchange's. Closing resets the stream; the connection stays. While the server sheds load, a new
 * stream is refused ({@code REFUSED_STREAM}, safe to retry) and the connection told to go away
 * ({@code GOAWAY}), and a body being read stops being read ({@link LoadShedding}: parked until
 * shedding ends, or answered 503 and reset if it holds the most).
 */
final class H2Stream extends ChannelInboundHandlerAdapter
    implements Downstream, LoadShedding.Reader {

  private static final Logger LOG = LoggerFactory.getLogger(H2Stream.class);
  static final String PROTOCOL = "HTTP/2.0";

  private final H2Connection connection;
  private ChannelHandlerContext ctx;
  private Exchange exchange; // until the response is over or the stream closed
  private ExchangeTimer timer;
  private boolean started; // the request head arrived
  private boolean requestEnded; // END_STREAM came from the client
  private boolean bodyHandedOver; // the request's last content went to the exchange
  private boolean wanted; // the exchange asked for the next piece of the body
  // Pieces read before they were asked for: a stream channel hands over everything queued once
  // the client ended the stream. Bounded by the stream's window.
  private final ArrayDeque<HttpContent> early = new ArrayDeque<>(2);
  private long declared = -1;
  private long received;
  private H2Response response;
  private boolean parked; // the body's next read waits for shedding to end

  H2Stream(H2Connection connection) {
    this.connection = connection;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.response = new H2Response(ctx);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.read(); // the request head
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2HeadersFrame h) {
      if (!started) {
        head(h);
      } else {
        trailers(h);
      }
    } else if (msg instanceof Http2DataFrame d) {
      data(d);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void head(Http2HeadersFrame frame) {
    started = true;
    requestEnded = frame.isEndStream();
    long start = System.nanoTime();
    var gateway = connection.gateway();
    if (gateway.pipeline().shedding().shedRequest()) {
      // Not processed at all, so the client may send it again, and GOAWAY sends it elsewhere:
      // to a new connection, which another replica may take.
      gateway.metrics().error("overloaded");
      reset(Http2Error.REFUSED_STREAM);
      connection.goAwayShedding();
      return;
    }
    try {
      var req = H2RequestHead.toRequest(frame.headers(), frame.isEndStream());
      declared = H2RequestHead.declaredLength(req);
      response.noBody = req.method() == HttpMethod.HEAD;
      exchange = new Exchange(this, req, start);
      gateway.pipeline().run(exchange);
    } catch (H2RequestHead.Malformed e) {
      gateway.metrics().error("h2_malformed_request");
      LOG.debug("HTTP/2 request from {} malformed: {}", peer().addressText(), e.getMessage());
      reset(Http2Error.PROTOCOL_ERROR);
    } catch (H2RequestHead.Refused e) {
      gateway.metrics().error(e.error);
      LOG.debug("HTTP/2 request from {} refused: {}", peer().addressText(), e.getMessage());
      var req =
          e.request != null
              ? e.request
              : new DefaultHttpRequest(
                  HttpVersion.HTTP_1_1, HttpMethod.GET, "/", EmptyHttpHeaders.INSTANCE);
      response.noBody = req.method() == HttpMethod.HEAD;
      exchange = new Exchange(this, req, start);
      gateway.pipeline().refuse(exchange, e.status);
    }
  }

  private void trailers(Http2HeadersFrame frame) {
    if (!frame.isEndStream() || requestEnded) {
      malformed("HEADERS in the middle of a body");
      return;
    }
    requestEnded = true;
    var last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    try {
      H2RequestHead.checkTrailers(frame.headers(), last.trailingHeaders());
    } catch (H2RequestHead.Malformed e) {
      malformed(e.getMessage());
      return;
    }
    if (declared >= 0 && received != declared) {
      malformed("content-length " + declared + ", DATA " + received);
      return;
    }
    deliver(last);
  }

  private void data(Http2DataFrame frame) {
    if (requestEnded) {
      frame.release();
      return;
    }
    received += frame.content().readableBytes();
    if (declared >= 0 && (received > declared || (frame.isEndStream() && received != declared))) {
      frame.release();
      malformed("content-length " + declared + ", DATA " + received);
      return;
    }
    HttpContent piece;
    if (frame.isEndStream()) {
      requestEnded = true;
      piece = new DefaultLastHttpContent(frame.content());
    } else {
      piece = new DefaultHttpContent(frame.content());
    }
    deliver(piece);
  }

  private void deliver(HttpContent piece) {
    if (exchange == null || bodyHandedOver) {
      piece.release();
      return;
    }
    if (!wanted) {
      early.add(piece);
      return;
    }
    wanted = false;
    bodyHandedOver = piece instanceof LastHttpContent;
    exchange.content(piece);
  }

  private void malformed(String detail) {
    connection.gateway().metrics().error("h2_malformed_request");
    LOG.debug("HTTP/2 request from {} malformed: {}", peer().addressText(), detail);
    // The exchange, if any, hears that the stream is gone when the channel closes.
    reset(Http2Error.PROTOCOL_ERROR);
  }

  private void reset(Http2Error error) {
    if (ctx.channel().isActive()) {
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
    }
    ctx.channel().close();
  }

  // Downstream.

  @Override
  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  @Override
  public ByteBufAllocator alloc() {
    return ctx.alloc();
  }

  @Override
  public Peer peer() {
    return connection.peer();
  }

  @Override
  public String protocol() {
    return PROTOCOL;
  }

  @Override
  public ExchangeTimer timer() {
    if (timer == null) {
      timer = new ExchangeTimer(ctx.executor());
    }
    return timer;
  }

  @Override
  public void pullBody() {
    if (bodyHandedOver || exchange == null) {
      return;
    }
    wanted = true;
    var piece = early.poll();
    if (piece != null) {
      deliver(piece);
    } else if (requestEnded) {
      deliver(LastHttpContent.EMPTY_LAST_CONTENT);
    } else if (connection.gateway().pipeline().shedding().park(this, held())) {
      // Memory past its mark: the stream's window stays closed until it is under.
      parked = true;
    } else {
      ctx.read();
    }
  }

  // LoadShedding.Reader: the body of this stream's request, while shedding.

  private long held() {
    long n = exchange == null ? 0 : exchange.bodyHeld();
    for (var piece : early) {
      n += piece.content().readableBytes();
    }
    return n;
  }

  @Override
  public void resumeReads() {
    if (parked) {
      parked = false;
      if (wanted && !bodyHandedOver && exchange != null && ctx.channel().isActive()) {
        ctx.read();
      }
    }
  }

  @Override
  public void resetForMemory() {
    if (!parked) {
      return;
    }
    // Parked again since it was picked (a new request on the connection): not in the set again.
    unpark();
    if (exchange != null) {
      connection.gateway().metrics().error("overload_reset");
      // 503 if nothing was answered yet, then RST_STREAM (the body is not read further).
      exchange.bodyBroken(503);
    }
  }

  private void unpark() {
    if (parked) {
      parked = false;
      connection.gateway().pipeline().shedding().leave(this);
    }
  }

  @Override
  public void sendContinue() {
    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("100")));
  }

  @Override
  public void write(HttpObject msg) {
    if (msg instanceof io.netty.handler.codec.http.HttpResponse
        && connection.gateway().pipeline().shedding().shedding()) {
      connection.goAwayShedding();
    }
    response.write(msg);
  }

  @Override
  public void flush() {
    ctx.flush();
  }

  @Override
  public boolean isWritable() {
    return ctx.channel().isWritable();
  }

  @Override
  public boolean keepAlive() {
    return true; // the connection's, not the request's
  }

  @Override
  public void closeAfterResponse() {
    // The stream ends with its response; the connection serves its other streams.
  }

  @Override
  public void close() {
    // Explicitly: a stream channel closed after the client ended its side sends no RST_STREAM.
    reset(Http2Error.CANCEL);
  }

  @Override
  public void exchangeDone(boolean reusable) {
    exchange = null;
    unpark();
    releaseEarly();
    if (!ctx.channel().isActive()) {
      return;
    }
    if (!response.ended) {
      reset(Http2Error.CANCEL);
      return;
    }
    if (!requestEnded) {
      // Answered before the body ended (RFC 9113 §8.1): the client may stop sending. The stream's
      // channel closes after, releasing the DATA the client sent meanwhile (nothing reads it now).
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR))
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    // A client that never opens its window would hold the stream and what waits to be written
    // for good: reset it once send_timeout has passed.
    long nanos = connection.gateway().pipeline().limits().sendTimeout().toNanos();
    var stalled = response.lastWrite;
    if (stalled != null && !stalled.isDone() && nanos > 0) {
      ctx.executor()
          .schedule(
              () -> {
                if (!stalled.isDone() && ctx.channel().isActive()) {
                  connection.gateway().metrics().error("client_send_timeout");
                  reset(Http2Error.CANCEL);
                }
              },
              nanos,
              TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public boolean clientCertificateAdmits(String path) {
    return connection.clientCertificateAdmits(path);
  }

  @Override
  public ChannelHandlerContext connection() {
    return null; // a stream cannot be taken over (no WebSocket or pub-sub over HTTP/2)
  }

  @Override
  public void upgraded() {
    // never called: connection() is null
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && exchange != null) {
      exchange.writable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    unpark();
    releaseEarly();
    if (timer != null) {
      timer.stop();
    }
    var ex = exchange;
    exchange = null;
    if (ex != null) {
      ex.closed();
    }
    ctx.fireChannelInactive();
  }

  private void releaseEarly() {
    HttpContent piece;
    while ((piece = early.poll()) != null) {
      piece.release();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A stream error the codec found (content-length against DATA, a frame in the wrong state),
    // handed over as the multiplexer's exception or its cause: reset with its code, before the
    // multiplexer's close would send CANCEL.
    Http2Error error = null;
    if (cause instanceof Http2FrameStreamException e) {
      error = e.error();
    } else if (cause instanceof Http2Exception e) {
      error = e.error();
    }
    if (error != null) {
      connection.gateway().metrics().error("h2_stream_error");
      LOG.debug("HTTP/2 stream from {}: {}", peer().addressText(), cause.getMessage());
      reset(error);
      return;
    }
    if (!(cause instanceof java.io.IOException)) {
      LOG.debug("HTTP/2 stream failed", cause);
    }
    reset(Http2Error.INTERNAL_ERROR);
  }
}
