package io.archway.dataplane.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;

/**
 * The one handler that runs a request through the gateway. The router, plugin chain and proxy land
 * with the HTTP data plane; until then every well-formed request is answered as APISIX answers a
 * request no route matches. Request bodies are read and released as they stream in, never buffered.
 */
final class GatewayHandler extends SimpleChannelInboundHandler<HttpObject> {

  static final byte[] NOT_FOUND =
      "{\"error_msg\":\"404 Route Not Found\"}\n".getBytes(StandardCharsets.UTF_8);
  static final byte[] BAD_REQUEST =
      "{\"error_msg\":\"400 Bad Request\"}\n".getBytes(StandardCharsets.UTF_8);

  private final InFlight inFlight;
  private boolean keepAlive;
  private boolean inRequest;

  GatewayHandler(InFlight inFlight) {
    this.inFlight = inFlight;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
    if (msg.decoderResult().isFailure()) {
      if (!inRequest) {
        inFlight.begin();
      }
      inRequest = false;
      respond(ctx, HttpResponseStatus.BAD_REQUEST, BAD_REQUEST, false);
      return;
    }
    if (msg instanceof HttpRequest request) {
      inRequest = true;
      inFlight.begin();
      keepAlive = HttpUtil.isKeepAlive(request);
    }
    if (msg instanceof LastHttpContent && inRequest) {
      inRequest = false;
      respond(ctx, HttpResponseStatus.NOT_FOUND, NOT_FOUND, keepAlive);
    }
  }

  private void respond(
      ChannelHandlerContext ctx, HttpResponseStatus status, byte[] body, boolean keepAlive) {
    FullHttpResponse res =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    res.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.SERVER, "Archway");
    if (!keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    var done = ctx.writeAndFlush(res);
    done.addListener(f -> inFlight.end(status.code()));
    if (!keepAlive) {
      done.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (inRequest) {
      inRequest = false;
      inFlight.end(499);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
