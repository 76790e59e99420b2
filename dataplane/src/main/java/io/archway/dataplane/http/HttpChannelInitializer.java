package io.archway.dataplane.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import java.util.function.Consumer;

/**
 * The client-facing HTTP/1.1 pipeline, built in named steps: TLS on the HTTPS listener (SNI, the
 * handshake), timeouts on raw bytes, the strict codec with the size limits, flow control (one
 * decoded message per {@code read()}, so pipelined requests wait their turn), and the gateway
 * handler.
 */
public final class HttpChannelInitializer extends ChannelInitializer<SocketChannel> {

  private final Gateway gateway;
  private final ChannelGroup connections;
  private final Consumer<ChannelPipeline> tls;

  /**
   * @param tls adds the TLS steps in front of the rest (the HTTPS listener), or {@code null}
   */
  public HttpChannelInitializer(
      Gateway gateway, ChannelGroup connections, Consumer<ChannelPipeline> tls) {
    this.gateway = gateway;
    this.connections = connections;
    this.tls = tls;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    connections.add(ch);
    var p = ch.pipeline();
    if (tls != null) {
      tls.accept(p);
    }
    var timeouts = addTimeoutHandlers(p);
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
    p.addLast("gateway", new GatewayHandler(gateway, timeouts, tls != null));
  }
}
