package io.archway.dataplane.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.util.concurrent.TimeUnit;

/** The client-facing HTTP/1.1 pipeline, built in named steps. */
public final class HttpChannelInitializer extends ChannelInitializer<SocketChannel> {

  /** Closes a connection that sent nothing for this long (an idle keep-alive connection). */
  static final int IDLE_SECONDS = 60;

  private final InFlight inFlight;
  private final ChannelGroup connections;

  public HttpChannelInitializer(InFlight inFlight, ChannelGroup connections) {
    this.inFlight = inFlight;
    this.connections = connections;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    connections.add(ch);
    var p = ch.pipeline();
    addTimeoutHandlers(p);
    addCodecHandlers(p);
    addGatewayHandler(p);
  }

  private void addTimeoutHandlers(ChannelPipeline p) {
    p.addLast("readTimeout", new ReadTimeoutHandler(IDLE_SECONDS, TimeUnit.SECONDS));
  }

  private void addCodecHandlers(ChannelPipeline p) {
    p.addLast("codec", new HttpServerCodec(8192, 32 * 1024, 16 * 1024));
  }

  private void addGatewayHandler(ChannelPipeline p) {
    p.addLast("gateway", new GatewayHandler(inFlight));
  }
}
