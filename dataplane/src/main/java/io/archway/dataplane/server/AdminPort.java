package io.archway.dataplane.server;

import io.archway.dataplane.admin.AdminMetrics;
import io.archway.dataplane.admin.AdminServer;
import io.archway.dataplane.admin.AdminSettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Admin API's port for {@link Servers}: its server bound on the dataplane's event loops, the
 * handlers it also puts on the HTTP port when configured to, and its close.
 */
final class AdminPort {

  private static final Logger log = LoggerFactory.getLogger(AdminPort.class);

  private final AdminMetrics metrics = new AdminMetrics();
  private volatile AdminServer server;
  private volatile Supplier<ChannelHandler> onHttp;
  private Channel channel;

  AdminMetrics metrics() {
    return metrics;
  }

  /**
   * Binds {@code server} at the settings' address and port.
   *
   * @param bootstrap a server bootstrap on the dataplane's loops for an initializer
   * @param bindAddress the data ports' address, for the handlers on the HTTP port
   * @throws IllegalStateException when the port cannot be bound, saying what to do
   */
  void start(
      AdminSettings settings,
      AdminServer server,
      Function<ChannelInitializer<SocketChannel>, ServerBootstrap> bootstrap,
      String bindAddress)
      throws InterruptedException {
    this.server = server;
    // A second gateway on one host meets the first one's 9180: say which port and what to do.
    channel =
        Listening.bound(
            bootstrap.apply(server.initializer()).bind(settings.address(), settings.port()),
            "the Admin API",
            settings.address(),
            settings.port(),
            "; choose another port with --admin-port N, or turn it off with --admin-port off");
    log.info("admin API on {}:{}", settings.address(), port());
    onHttp = server.dataPortHandlers(bindAddress);
  }

  /** The handler that serves the Admin API on the HTTP port, or {@code null} (the default). */
  /**
   * The HTTP listener's initializer: the Admin API on the HTTP port too (off by default), looking
   * first, then {@code http}.
   */
  ChannelInitializer<SocketChannel> sniffing(ChannelHandler http) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        var sniff = onHttp;
        if (sniff != null) {
          ch.pipeline().addLast("admin-sniff", sniff.get());
        }
        ch.pipeline().addLast(http);
      }
    };
  }

  Supplier<ChannelHandler> onHttp() {
    return onHttp;
  }

  /** The admin port, or {@code -1} when there is none. */
  int port() {
    return channel == null ? -1 : ((InetSocketAddress) channel.localAddress()).getPort();
  }

  void close() {
    if (channel != null) {
      channel.close().awaitUninterruptibly();
    }
    if (server != null) {
      server.close();
    }
  }
}
