package io.archway.dataplane.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/** {@code Upgrade: h2c} on the HTTP/1.1 side: which requests may switch, and the answer. */
final class H2cUpgrade {

  private H2cUpgrade() {}

  static final AsciiString HTTP2_SETTINGS = AsciiString.cached("http2-settings");
  private static final AsciiString H2C = AsciiString.cached("h2c");

  /**
   * {@code Upgrade: h2c} with one {@code HTTP2-Settings}, both named by {@code Connection}, and no
   * body: a request with a body is served over HTTP/1.1 (RFC 7540 §3.2 lets the server ignore the
   * upgrade), so no body has to be carried across the switch.
   */
  static boolean isH2cUpgrade(HttpRequest req) {
    var h = req.headers();
    var upgrade = h.get(HttpHeaderNames.UPGRADE);
    return upgrade != null
        && H2C.contentEqualsIgnoreCase(upgrade.strip())
        && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        && h.containsValue(HttpHeaderNames.CONNECTION, HTTP2_SETTINGS, true)
        && h.getAll(HTTP2_SETTINGS).size() == 1
        && !h.contains(HttpHeaderNames.TRANSFER_ENCODING)
        && HttpUtil.getContentLength(req, 0L) == 0
        && req.protocolVersion() == HttpVersion.HTTP_1_1;
  }

  /** The {@code 101} that switches the connection to h2c. */
  static FullHttpResponse switchingProtocols() {
    var res =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
    res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    res.headers().set(HttpHeaderNames.UPGRADE, H2C);
    return res;
  }

  /**
   * Answers {@code 101} through the HTTP/1.1 encoder, then hands the connection to HTTP/2 and takes
   * the HTTP/1.1 handlers ({@code timeouts}, the codec, {@code gateway}) out.
   */
  static void handOver(
      ChannelHandlerContext ctx,
      ChannelHandler timeouts,
      ChannelHandler gateway,
      Http2Handoff h2c,
      HttpRequest req) {
    ctx.writeAndFlush(switchingProtocols());
    var p = ctx.pipeline();
    p.remove(timeouts);
    // Out of the pipeline before HTTP/2 writes its first frame. Its decoder finishes its current
    // read first: bytes it holds past the request (a preface sent early) come to the gateway's
    // handler and go on to HTTP/2, what it decoded (the request's empty last content) is dropped.
    p.remove(Http1ServerCodec.class);
    h2c.upgrade(p, req);
    // The gateway's handler leaves after that.
    ctx.executor().execute(() -> p.remove(gateway));
  }
}
