package io.archway.dataplane.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import java.util.function.Consumer;

/**
 * The client-facing HTTP/1.1 pipeline, built in named steps: TLS on the HTTPS listener (SNI, the
 * handshake), timeouts on raw bytes, where HTTP/2 is on the protocol's choice (ALPN, or the h2c
 * preface; HTTP/2 connections are handed over), the strict codec with the size limits, flow control
 * (one decoded message per {@code read()}, so pipelined requests wait their turn), and the gateway
 * handler.
 */
public final class HttpChannelInitializer extends ChannelInitializer<SocketChannel> {

  private final Gateway gateway;
  private final ChannelGroup connections;
  private final Consumer<ChannelPipeline> tls;
  private final Http2Handoff http2;

  /**
   * @param tls adds the TLS steps in front of the rest (the HTTPS listener), or {@code null}
   */
  public HttpChannelInitializer(
      Gateway gateway, ChannelGroup connections, Consumer<ChannelPipeline> tls) {
    this(gateway, connections, tls, null);
  }

  /**
   * @param tls adds the TLS steps in front of the rest (the HTTPS listener), or {@code null}
   * @param http2 where HTTP/2 connections go: chosen by ALPN on TLS, by the preface or an {@code
   *     Upgrade: h2c} in cleartext; {@code null}: HTTP/1.1 only
   */
  public HttpChannelInitializer(
      Gateway gateway,
      ChannelGroup connections,
      Consumer<ChannelPipeline> tls,
      Http2Handoff http2) {
    this.gateway = gateway;
    this.connections = connections;
    this.tls = tls;
    this.http2 = http2;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    connections.add(ch);
    var p = ch.pipeline();
    if (tls != null) {
      tls.accept(p);
    }
    var timeouts = addTimeoutHandlers(p);
    if (http2 == null) {
      addHttp1Handlers(p, timeouts);
    } else {
      addProtocolSelector(p, timeouts);
    }
  }

  private void addProtocolSelector(ChannelPipeline p, ClientTimeouts timeouts) {
    p.addLast(
        "protocol",
        new ProtocolSelector(tls != null, http2, pipeline -> addHttp1Handlers(pipeline, timeouts)));
  }

  private void addHttp1Handlers(ChannelPipeline p, ClientTimeouts timeouts) {
    addCodecHandlers(p);
    addGatewayHandler(p, timeouts);
  }

  private ClientTimeouts addTimeoutHandlers(ChannelPipeline p) {
    var timeouts = new ClientTimeouts(gateway.settings(), gateway.metrics());
    p.addLast("timeouts", timeouts);
    return timeouts;
  }

  private void addCodecHandlers(ChannelPipeline p) {
    var s = gateway.settings();
    p.addLast("codec", new Http1ServerCodec(s.maxUriLength(), s.maxHeaderSize()));
  }

  private void addGatewayHandler(ChannelPipeline p, ClientTimeouts timeouts) {
    // Upgrade: h2c only in cleartext; on TLS, ALPN is the way to HTTP/2.
    p.addLast(
        "gateway", new GatewayHandler(gateway, timeouts, tls != null, tls == null ? http2 : null));
  }
}
