package io.archway.dataplane.plugins;

import io.archway.dataplane.support.Transport;
import io.archway.dataplane.upstream.UpstreamTlsContexts;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * proxy-mirror's copies to a {@code grpc://} mirror (HTTP/2 in clear text, prior knowledge, as gRPC
 * servers take it) or a {@code grpcs://} one (h2 chosen by ALPN over TLS; the mirror's certificate
 * is not verified, as for {@code https://} mirrors). One connection per copy, made on the request's
 * event loop: the copy's HEADERS (and its body in one DATA frame) go on one stream, the answer is
 * read and dropped, and the connection is closed when the stream ends or is reset, on an error, or
 * after the timeout, whichever comes first.
 */
final class ProxyMirrorH2 {

  private final String host;
  private final int port;
  private final String scheme;
  private final String authority;
  private final SslContext tls;

  private ProxyMirrorH2(URI uri, SslContext tls) {
    this.host = uri.getHost();
    this.tls = tls;
    this.scheme = tls == null ? "http" : "https";
    this.port = uri.getPort() > 0 ? uri.getPort() : tls == null ? 80 : 443;
    this.authority = uri.getRawAuthority();
  }

  /** The sender for a {@code grpc://} or {@code grpcs://} host; made when the plugin compiles. */
  static ProxyMirrorH2 of(String mirror) {
    var uri = URI.create(mirror);
    if (!"grpcs".equals(uri.getScheme())) {
      return new ProxyMirrorH2(uri, null);
    }
    try {
      return new ProxyMirrorH2(
          uri,
          UpstreamTlsContexts.alpnH2(
                  SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE))
              .build());
    } catch (SSLException e) {
      throw new IllegalStateException("host: TLS client set-up failed: " + e.getMessage(), e);
    }
  }

  /**
   * Sends one copy; {@code done} runs once when its connection is closed (or could not be made).
   *
   * @param headers the copy's header fields, lower case, without hop-by-hop ones
   * @param body the whole body, or {@code null} for none
   */
  void send(
      EventLoop loop,
      String method,
      String target,
      List<Map.Entry<String, String>> headers,
      byte[] body,
      Duration timeout,
      Runnable done) {
    var connecting =
        Transport.of(loop)
            .upstreamBootstrap(loop, timeout.toMillis())
            .option(ChannelOption.AUTO_READ, true)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (tls != null) {
                      ch.pipeline().addLast(tls.newHandler(ch.alloc(), host, port));
                    }
                    ch.pipeline()
                        .addLast(Http2FrameCodecBuilder.forClient().build())
                        .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                  }
                })
            .connect(host, port);
    var ch = connecting.channel();
    var timer = loop.schedule(() -> ch.close(), timeout.toMillis(), TimeUnit.MILLISECONDS);
    ch.closeFuture()
        .addListener(
            f -> {
              timer.cancel(false);
              done.run();
            });
    connecting.addListener(
        (ChannelFutureListener)
            f -> {
              if (f.isSuccess()) {
                openStream(ch, method, target, headers, body);
              } else {
                ch.close();
              }
            });
  }

  private void openStream(
      Channel ch,
      String method,
      String target,
      List<Map.Entry<String, String>> fields,
      byte[] body) {
    new Http2StreamChannelBootstrap(ch)
        .handler(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                boolean ended =
                    msg instanceof Http2ResetFrame
                        || (msg instanceof io.netty.handler.codec.http2.Http2HeadersFrame h
                            && h.isEndStream())
                        || (msg instanceof io.netty.handler.codec.http2.Http2DataFrame d
                            && d.isEndStream());
                ReferenceCountUtil.release(msg);
                if (ended) {
                  ch.close();
                }
              }

              @Override
              public void channelInactive(ChannelHandlerContext ctx) {
                ch.close();
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ch.close();
              }
            })
        .open()
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                ch.close();
                return;
              }
              var stream = (Http2StreamChannel) f.getNow();
              var h2 = new DefaultHttp2Headers();
              h2.method(method).scheme(scheme).authority(authority).path(target);
              for (var e : fields) {
                h2.add(e.getKey(), e.getValue());
              }
              h2.set("te", "trailers"); // gRPC wants it; the client's hop-by-hop one is not kept
              boolean hasBody = body != null && body.length > 0;
              Http2StreamFrame head = new DefaultHttp2HeadersFrame(h2, !hasBody);
              ChannelFuture written = stream.write(head);
              if (hasBody) {
                written =
                    stream.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
              }
              stream.flush();
              written.addListener(
                  (ChannelFutureListener)
                      w -> {
                        if (!w.isSuccess()) {
                          ch.close();
                        }
                      });
            });
  }
}
