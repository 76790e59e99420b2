package io.archway.dataplane.http2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * The response half of an {@link H2Stream}: the exchange's {@code HttpObject}s as HEADERS, DATA and
 * trailing HEADERS. A whole response with no body and no trailers (an error made here, a gRPC
 * trailers-only answer) is one HEADERS frame that ends the stream.
 */
final class H2Response {

  private final ChannelHandlerContext ctx;
  boolean noBody; // HEAD, 204, 304: the response carries no DATA
  boolean ended;
  ChannelFuture lastWrite;

  H2Response(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  /** Writes the response's next part (owned) as frames. */
  void write(HttpObject msg) {
    if (ended || !ctx.channel().isActive()) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse res) {
      int code = res.status().code();
      noBody = noBody || code == 204 || code == 304;
      var headers = HttpConversionUtil.toHttp2Headers(res, false);
      if (res instanceof FullHttpResponse full) {
        var content = full.content();
        var trailers = full.trailingHeaders();
        if (noBody || (!content.isReadable() && trailers.isEmpty())) {
          full.release();
          end(ctx.write(new DefaultHttp2HeadersFrame(headers, true)));
        } else {
          ctx.write(new DefaultHttp2HeadersFrame(headers, false));
          end(content.retain(), trailers);
          full.release();
        }
        return;
      }
      if (noBody) {
        // Nothing follows the head: it ends the stream, and the body pieces still written (the
        // node's, for a HEAD) are dropped.
        end(ctx.write(new DefaultHttp2HeadersFrame(headers, true)));
      } else {
        ctx.write(new DefaultHttp2HeadersFrame(headers, false));
      }
      return;
    }
    if (msg instanceof HttpContent c) {
      if (c instanceof LastHttpContent last) {
        if (noBody) {
          last.release();
          end(Unpooled.EMPTY_BUFFER, last.trailingHeaders());
        } else {
          end(last.content(), last.trailingHeaders());
        }
      } else if (noBody || !c.content().isReadable()) {
        c.release();
      } else {
        ctx.write(new DefaultHttp2DataFrame(c.content(), false));
      }
      return;
    }
    ReferenceCountUtil.release(msg);
  }

  /** Ends the response with {@code content} (owned) and, if any, trailers. */
  private void end(ByteBuf content, HttpHeaders trailers) {
    if (trailers.isEmpty()) {
      end(ctx.write(new DefaultHttp2DataFrame(content, true)));
      return;
    }
    if (content.isReadable()) {
      ctx.write(new DefaultHttp2DataFrame(content, false));
    } else {
      content.release();
    }
    Http2Headers h2 = new DefaultHttp2Headers();
    HttpConversionUtil.toHttp2Headers(trailers, h2);
    end(ctx.write(new DefaultHttp2HeadersFrame(h2, true)));
  }

  private void end(ChannelFuture written) {
    ended = true;
    lastWrite = written;
    ctx.flush();
  }
}
