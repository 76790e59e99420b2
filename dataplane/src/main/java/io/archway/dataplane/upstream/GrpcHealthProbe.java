package io.archway.dataplane.upstream;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.util.function.Consumer;

/**
 * The {@code grpc} active health check: {@code grpc.health.v1.Health/Check} for the whole server
 * (an empty {@code HealthCheckRequest}) over h2c, one connection per probe. The answer is a {@code
 * HealthCheckResponse} whose field 1 is the status: 1 is SERVING; NOT_SERVING, UNKNOWN, a gRPC
 * error (UNIMPLEMENTED when the node has no health service) or a malformed answer are not.
 */
final class GrpcHealthProbe {

  private static final String PATH = "/grpc.health.v1.Health/Check";
  private static final int SERVING = 1;

  private GrpcHealthProbe() {}

  /** The connection's handlers: HTTP/2 with streams as child channels. */
  static void install(Channel ch) {
    ch.pipeline()
        .addLast(Http2FrameCodecBuilder.forClient().build())
        .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
  }

  /** Sends the check on a new stream of the connected {@code ch}; one of the two callbacks runs. */
  static void send(Channel ch, String authority, Consumer<Boolean> answered, Runnable failed) {
    new Http2StreamChannelBootstrap(ch)
        .handler(
            new ChannelInitializer<Http2StreamChannel>() {
              @Override
              protected void initChannel(Http2StreamChannel s) {
                s.pipeline()
                    .addLast(new Http2StreamFrameToHttpObjectCodec(false))
                    .addLast(new HttpObjectAggregator(64 * 1024))
                    .addLast(
                        new SimpleChannelInboundHandler<FullHttpResponse>() {
                          @Override
                          protected void channelRead0(
                              ChannelHandlerContext ctx, FullHttpResponse res) {
                            answered.accept(serving(res));
                            ch.close();
                          }

                          @Override
                          public void exceptionCaught(ChannelHandlerContext ctx, Throwable c) {
                            failed.run();
                            ch.close();
                          }
                        });
              }
            })
        .open()
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                failed.run();
                ch.close();
                return;
              }
              // An empty message: no compression flag, length 0.
              var req =
                  new DefaultFullHttpRequest(
                      HttpVersion.HTTP_1_1,
                      HttpMethod.POST,
                      PATH,
                      Unpooled.wrappedBuffer(new byte[5]));
              req.headers()
                  .set(HttpHeaderNames.HOST, authority)
                  .set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
                  .set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS)
                  .set(HttpHeaderNames.USER_AGENT, "archway-healthcheck");
              ((Channel) f.getNow()).writeAndFlush(req);
            });
  }

  /** Whether the answer is grpc-status 0 with status SERVING. */
  static boolean serving(FullHttpResponse res) {
    if (res.status().code() != 200) {
      return false;
    }
    var status = res.trailingHeaders().get("grpc-status");
    if (status == null) {
      status = res.headers().get("grpc-status"); // trailers-only
    }
    if (!"0".equals(status)) {
      return false;
    }
    var body = res.content();
    // One uncompressed message: flag 0, a 4-byte length, then the protobuf fields.
    if (body.readableBytes() < 5 || body.getByte(0) != 0) {
      return false;
    }
    long length = body.getUnsignedInt(1);
    if (length != body.readableBytes() - 5) {
      return false;
    }
    int i = 5;
    int end = body.writerIndex();
    int value = 0; // status absent: UNKNOWN
    while (i < end) {
      int tag = body.getByte(i++) & 0xff;
      if (tag == 0x08 && i < end) {
        // field 1, varint; statuses are small, so one byte
        value = body.getByte(i++);
      } else {
        return false;
      }
    }
    return value == SERVING;
  }
}
