package io.archway.dataplane.server;

import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.stream.StreamChannelInitializer;
import io.archway.dataplane.stream.StreamGateway;
import io.archway.dataplane.stream.UdpStreamHandler;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.upstream.ConnectionPools;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The stream listeners: one TCP port per {@code stream_ports} entry and one UDP port per {@code
 * stream_udp_ports} entry, all sharing one {@link StreamGateway}.
 */
final class StreamListeners {

  private final Transport transport;
  private final StreamMetrics metrics;
  private final ChannelGroup connections;
  private final List<Channel> channels = new ArrayList<>();

  StreamListeners(Transport transport, StreamMetrics metrics, ChannelGroup connections) {
    this.transport = transport;
    this.metrics = metrics;
    this.connections = connections;
  }

  /**
   * Binds every stream port, TCP ones first, each in the order configured.
   *
   * @param workers the dataplane's I/O loops, which serve the UDP ports
   * @param bootstrap a server bootstrap on the dataplane's accept and worker loops
   * @param gate holds the UDP ports until the first config is in force, as {@code bootstrap} holds
   *     the TCP ones
   */
  void start(
      ServerSettings server,
      ConfigCompiler compiler,
      EventLoopGroup workers,
      ConnectionPools pools,
      Function<ChannelInitializer<SocketChannel>, ServerBootstrap> bootstrap,
      FirstConfigGate gate)
      throws InterruptedException {
    var settings = server.stream();
    var bindAddress = server.bindAddress();
    var gateway = new StreamGateway(compiler, transport, settings, metrics, pools);
    for (int port : settings.ports()) {
      channels.add(
          Listening.bound(
              bootstrap
                  .apply(new StreamChannelInitializer(gateway, connections))
                  .childOption(ChannelOption.AUTO_READ, false)
                  .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                  .bind(bindAddress, port),
              "stream (TCP)",
              bindAddress,
              port));
    }
    for (int port : settings.udpPorts()) {
      channels.add(
          Listening.bound(
              new Bootstrap()
                  .group(workers)
                  .channel(transport.datagramChannel())
                  .handler(
                      new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                          // Datagrams wait in the socket's buffer until the first config is in
                          // force.
                          gate.hold(ch);
                          ch.pipeline().addLast(new UdpStreamHandler(gateway));
                        }
                      })
                  .bind(bindAddress, port),
              "stream (UDP)",
              bindAddress,
              port));
    }
  }

  /** The bound ports, TCP ones first, each in the order configured. */
  List<Integer> ports() {
    return channels.stream().map(c -> ((InetSocketAddress) c.localAddress()).getPort()).toList();
  }

  /** Stops accepting: closes every stream port, not the connections already accepted. */
  void close() {
    channels.forEach(c -> c.close().awaitUninterruptibly());
  }
}
