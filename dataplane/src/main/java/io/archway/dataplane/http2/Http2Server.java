package io.archway.dataplane.http2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.base64.Base64;
import io.netty.handler.codec.base64.Base64Dialect;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP/2 adapter's entry: puts HTTP/2 on a connection (after ALPN {@code h2}, the h2c preface,
 * or an {@code Upgrade: h2c}) and drains HTTP/2 connections on shutdown. A connection's pipeline
 * gets Netty's {@link Http2FrameCodec} (with the limits of {@link H2Settings} and Netty's own flood
 * caps: resets per window, queued control frames, empty DATA and small CONTINUATION frames), an
 * {@link Http2MultiplexHandler} that gives every stream a child channel with an {@link H2Stream},
 * and the {@link H2Connection}.
 */
public final class Http2Server {

  private static final AsciiString HTTP2_SETTINGS = AsciiString.cached("http2-settings");

  private final Http2Gateway gateway;

  public Http2Server(Http2Gateway gateway) {
    this.gateway = gateway;
  }

  public H2Settings settings() {
    return gateway.settings();
  }

  /**
   * The connection speaks HTTP/2 from its first byte: adds the handlers at the end of {@code p}.
   */
  public void start(ChannelPipeline p) {
    install(p, true);
  }

  /** Whether an {@code Upgrade: h2c} request's {@code HTTP2-Settings} decode. */
  public boolean acceptsUpgrade(HttpRequest upgrade) {
    return upgradeSettings(upgrade) != null;
  }

  /**
   * The {@code 101} went out: adds the HTTP/2 handlers at the end of {@code p} and serves the
   * upgrade request (which has no body) as stream 1, half-closed by the client.
   */
  public void upgrade(ChannelPipeline p, HttpRequest upgrade) {
    var settings = upgradeSettings(upgrade);
    var codec = install(p, false);
    try {
      codec.onHttpServerUpgrade(settings);
      var h = new DefaultHttp2Headers();
      h.method(upgrade.method().asciiName());
      h.path(upgrade.uri());
      h.scheme("http");
      for (var e : upgrade.headers()) {
        var name = AsciiString.of(e.getKey()).toLowerCase();
        if (name.contentEquals(HttpHeaderNames.HOST)) {
          h.authority(e.getValue());
        } else if (!name.contentEquals(HttpHeaderNames.CONNECTION)
            && !name.contentEquals(HttpHeaderNames.UPGRADE)
            && !name.contentEquals(HTTP2_SETTINGS)
            && !name.contentEquals(HttpHeaderNames.CONTENT_LENGTH)) {
          h.add(name, e.getValue());
        }
      }
      var codecCtx = p.context(codec);
      codec.decoder().frameListener().onHeadersRead(codecCtx, 1, h, 0, true);
    } catch (Http2Exception e) {
      p.fireExceptionCaught(e);
      p.close();
    }
  }

  private Http2FrameCodec install(ChannelPipeline p, boolean counted) {
    var s = gateway.settings();
    var codec =
        Http2FrameCodecBuilder.forServer()
            .initialSettings(
                Http2Settings.defaultSettings()
                    .maxConcurrentStreams(s.maxConcurrentStreams())
                    .maxHeaderListSize(s.maxHeaderListSize())
                    .initialWindowSize(s.initialWindowSize())
                    .maxFrameSize(s.maxFrameSize()))
            .validateHeaders(true)
            .decoderEnforceMaxRstFramesPerWindow(s.maxResets(), (int) s.resetWindow().toSeconds())
            .encoderEnforceMaxQueuedControlFrames(s.maxQueuedControlFrames())
            .gracefulShutdownTimeoutMillis(gateway.idleTimeout().toMillis())
            .build();
    var connection = new H2Connection(gateway, codec, counted);
    p.addLast("h2", codec);
    p.addLast(
        "h2-streams",
        new Http2MultiplexHandler(
            new ChannelInitializer<Http2StreamChannel>() {
              @Override
              protected void initChannel(Http2StreamChannel ch) {
                // Read only when the stream's exchange asks: the window follows what it took.
                ch.config().setAutoRead(false);
                connection.streamOpened();
                ch.closeFuture().addListener(f -> connection.streamClosed());
                ch.pipeline().addLast("stream", new H2Stream(connection));
              }
            }));
    p.addLast("h2-connection", connection);
    // Streams are paced by their windows, not by reading the socket: the connection reads on its
    // own (what a client can send unasked is bounded by the windows and Netty's caps).
    p.channel().config().setAutoRead(true);
    return codec;
  }

  /** The settings of an {@code HTTP2-Settings} field (base64url SETTINGS payload), or null. */
  private static Http2Settings upgradeSettings(HttpRequest req) {
    var value = req.headers().get(HTTP2_SETTINGS);
    if (value == null || value.length() > 1024) {
      return null;
    }
    var encoded = Unpooled.wrappedBuffer(value.strip().getBytes(StandardCharsets.US_ASCII));
    ByteBuf payload = null;
    ByteBuf frame = null;
    try {
      payload = Base64.decode(encoded, Base64Dialect.URL_SAFE);
      if (payload.readableBytes() % 6 != 0) {
        return null;
      }
      frame = Unpooled.buffer(Http2CodecUtil.FRAME_HEADER_LENGTH + payload.readableBytes());
      Http2CodecUtil.writeFrameHeader(
          frame, payload.readableBytes(), (byte) 0x4, new Http2Flags(), 0);
      frame.writeBytes(payload);
      var settings = new Http2Settings[1];
      try (var reader = new DefaultHttp2FrameReader()) {
        reader.readFrame(
            null,
            frame,
            new Http2FrameAdapter() {
              @Override
              public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings s) {
                settings[0] = s;
              }
            });
      }
      return settings[0];
    } catch (RuntimeException | Http2Exception e) {
      return null;
    } finally {
      encoded.release();
      if (payload != null) {
        payload.release();
      }
      if (frame != null) {
        frame.release();
      }
    }
  }

  /**
   * The server stops: every HTTP/2 connection among {@code connections} sends {@code GOAWAY} and
   * closes once its open streams are done.
   */
  public static void drain(Iterable<Channel> connections) {
    for (var ch : connections) {
      var h = ch.pipeline().get(H2Connection.class);
      if (h != null) {
        ch.eventLoop().execute(h::drain);
      }
    }
  }
}
