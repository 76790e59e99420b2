package io.archway.dataplane.stream;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.TimeUnit;

/**
 * A stream listener's connection: idle timeout (no bytes either way), then the stream handler, or
 * on a TLS passthrough listener the ClientHello reader that chooses the route by server name first.
 */
public final class StreamChannelInitializer extends ChannelInitializer<SocketChannel> {

  private final StreamGateway gateway;
  private final ChannelGroup connections;
  private final boolean tlsPassthrough;

  public StreamChannelInitializer(StreamGateway gateway, ChannelGroup connections) {
    this(gateway, connections, false);
  }

  /**
   * @param tlsPassthrough routes are chosen by the ClientHello's server name, TLS not terminated
   */
  public StreamChannelInitializer(
      StreamGateway gateway, ChannelGroup connections, boolean tlsPassthrough) {
    this.gateway = gateway;
    this.connections = connections;
    this.tlsPassthrough = tlsPassthrough;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    connections.add(ch);
    gateway.metrics().opened();
    ch.closeFuture().addListener(f -> gateway.metrics().closed());
    long idle = gateway.settings().idleTimeout().toMillis();
    if (idle > 0) {
      ch.pipeline()
          .addLast("idle", new StreamIdle(idle, TimeUnit.MILLISECONDS))
          .addLast("idle-close", IdleClose.INSTANCE);
    }
    if (tlsPassthrough) {
      ch.pipeline().addLast("client-hello", new TlsPassthroughHandler(gateway));
    } else {
      ch.pipeline().addLast("stream", new StreamHandler(gateway));
    }
  }

  /** Closes the connection when it has been idle for the timeout. */
  @ChannelHandler.Sharable
  static final class IdleClose extends ChannelInboundHandlerAdapter {
    static final IdleClose INSTANCE = new IdleClose();

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        ctx.close();
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }
  }
}
