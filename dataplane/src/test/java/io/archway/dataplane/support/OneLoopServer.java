package io.archway.dataplane.support;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A server on {@code 127.0.0.1:0} whose one event loop of {@code transport} accepts and serves
 * every connection, each with a new {@code handler}: if that loop ends, nothing is served any more.
 */
final class OneLoopServer implements AutoCloseable {

  private final EventLoopGroup loop;
  private final Channel server;

  private OneLoopServer(EventLoopGroup loop, Channel server) {
    this.loop = loop;
    this.server = server;
  }

  /**
   * @param setup more options on the bootstrap (an allocator, the transport's own)
   */
  static OneLoopServer start(
      Transport transport,
      String name,
      UnaryOperator<ServerBootstrap> setup,
      Supplier<ChannelHandler> handler)
      throws InterruptedException {
    var loop = transport.newLoopGroup(1, name);
    try {
      var bootstrap =
          new ServerBootstrap()
              .group(loop, loop)
              .channel(transport.serverChannel())
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline().addLast(handler.get());
                    }
                  });
      return new OneLoopServer(loop, setup.apply(bootstrap).bind("127.0.0.1", 0).sync().channel());
    } catch (InterruptedException | RuntimeException e) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
