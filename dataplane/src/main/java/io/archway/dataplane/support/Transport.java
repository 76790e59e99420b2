package io.archway.dataplane.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ThreadFactory;

/** Epoll on Linux when its native library loads, NIO elsewhere. */
public enum Transport {
  EPOLL,
  NIO;

  public static Transport best() {
    return Epoll.isAvailable() ? EPOLL : NIO;
  }

  public EventLoopGroup newGroup(int threads, String name) {
    return newGroup(threads, new DefaultThreadFactory(name, true));
  }

  /** The I/O loops: their threads are {@link LoopThread}s numbered 0..threads-1. */
  public EventLoopGroup newLoopGroup(int threads, String name) {
    return newGroup(threads, LoopThread.factory(name));
  }

  private EventLoopGroup newGroup(int threads, ThreadFactory factory) {
    return this == EPOLL
        ? new MultiThreadIoEventLoopGroup(threads, factory, EpollIoHandler.newFactory())
        : new MultiThreadIoEventLoopGroup(threads, factory, NioIoHandler.newFactory());
  }

  public Class<? extends SocketChannel> socketChannel() {
    return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  /** The handler of a connection whose caller adds its own handlers once it is connected. */
  private static final ChannelInitializer<Channel> NO_HANDLERS =
      new ChannelInitializer<>() {
        @Override
        protected void initChannel(Channel ch) {}
      };

  /**
   * A connection to an upstream on {@code loop}, as the proxies make them: no read until asked
   * (read-after-write backpressure), no Nagle delay, and a connect timeout. Its pipeline starts
   * empty unless the caller sets a handler.
   */
  public Bootstrap upstreamBootstrap(EventLoop loop, long connectTimeoutMillis) {
    return new Bootstrap()
        .group(loop)
        .channel(socketChannel())
        .handler(NO_HANDLERS)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(connectTimeoutMillis, 1 << 30))
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.TCP_NODELAY, true);
  }

  /** UDP: the stream proxy's UDP listeners and their connected channels to the nodes. */
  public Class<? extends io.netty.channel.socket.DatagramChannel> datagramChannel() {
    return this == EPOLL
        ? io.netty.channel.epoll.EpollDatagramChannel.class
        : io.netty.channel.socket.nio.NioDatagramChannel.class;
  }

  public Class<? extends ServerChannel> serverChannel() {
    return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }
}
