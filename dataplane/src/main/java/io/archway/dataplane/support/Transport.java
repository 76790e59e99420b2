package io.archway.dataplane.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's transports: epoll on Linux, io_uring where epoll cannot run and the kernel allows it (or
 * when forced: see {@link #AUTO} for why it is not first yet), NIO elsewhere. {@link #selected()}
 * makes the choice once per process; {@code -Darchway.transport} or {@code ARCHWAY_TRANSPORT}
 * ({@code auto}, {@code io_uring}, {@code epoll}, {@code nio}) forces one.
 *
 * <p>A channel must be of the transport of the loop it is registered on: a connection made on a
 * client's loop takes {@link #of(EventLoop)}'s classes.
 */
public enum Transport {
  IO_URING(
      "io_uring",
      IoUringIoHandler.class,
      // Its loops survive a failed completion, as epoll's do (GuardedIoHandler), and read into
      // buffers taken when data arrives (ReadRing).
      () -> GuardedIoHandler.factory(ReadRing.handlers()),
      IoUring::unavailabilityCause,
      IoUringSocketChannel.class,
      IoUringServerSocketChannel.class,
      IoUringDatagramChannel.class),
  EPOLL(
      "epoll",
      EpollIoHandler.class,
      EpollIoHandler::newFactory,
      Epoll::unavailabilityCause,
      EpollSocketChannel.class,
      EpollServerSocketChannel.class,
      EpollDatagramChannel.class),
  NIO(
      "nio",
      NioIoHandler.class,
      NioIoHandler::newFactory,
      () -> null,
      NioSocketChannel.class,
      NioServerSocketChannel.class,
      NioDatagramChannel.class);

  /** The system property that forces a transport; the environment variable is {@link #ENV}. */
  public static final String PROPERTY = "archway.transport";

  public static final String ENV = "ARCHWAY_TRANSPORT";

  private static final Logger log = LoggerFactory.getLogger(Transport.class);

  static {
    // Before Netty's io_uring classes read their settings: see ReadRing.oneReceivePerRead.
    ReadRing.oneReceivePerRead();
  }

  private static volatile Transport selected;

  /**
   * What {@code auto} tries, in order. epoll comes before io_uring. The Redis replies lost under
   * io_uring were found and fixed (see DESIGN.md), and so was the cause of OverloadChaosE2E's
   * {@code /metrics} time-out (see {@link GuardedIoHandler}) and its higher direct memory (reads
   * held a buffer while they waited: see {@link ReadRing}). What is left: io_uring was not faster
   * than epoll in the benchmark's latest rounds (bench/RESULTS.md). io_uring can be forced.
   */
  private static final List<Transport> AUTO = List.of(EPOLL, IO_URING, NIO);

  private final String label;
  private final Class<? extends IoHandler> handler;
  private final Supplier<IoHandlerFactory> factory;
  private final Supplier<Throwable> unavailability;
  private final Class<? extends SocketChannel> socket;
  private final Class<? extends ServerChannel> server;
  private final Class<? extends DatagramChannel> datagram;

  Transport(
      String label,
      Class<? extends IoHandler> handler,
      Supplier<IoHandlerFactory> factory,
      Supplier<Throwable> unavailability,
      Class<? extends SocketChannel> socket,
      Class<? extends ServerChannel> server,
      Class<? extends DatagramChannel> datagram) {
    this.label = label;
    this.handler = handler;
    this.factory = factory;
    this.unavailability = unavailability;
    this.socket = socket;
    this.server = server;
    this.datagram = datagram;
  }

  /** The name operators use ({@code io_uring}, {@code epoll}, {@code nio}). */
  public String label() {
    return label;
  }

  /** Why this transport cannot run here, or {@code null} when it can. */
  Throwable unavailabilityCause() {
    return unavailability.get();
  }

  /**
   * The transport of this process, chosen (and logged) on the first call.
   *
   * @throws IllegalStateException when the forced transport is unknown or cannot run here
   */
  public static Transport selected() {
    var t = selected;
    if (t == null) {
      synchronized (Transport.class) {
        t = selected;
        if (t == null) {
          var requested = System.getProperty(PROPERTY, System.getenv(ENV));
          var choice = choose(requested, Transport::unavailabilityCause);
          log.info("transport: {} ({})", choice.transport().label, choice.reason());
          selected = t = choice.transport();
        }
      }
    }
    return t;
  }

  /** A choice and why it was made. */
  record Choice(Transport transport, String reason) {}

  /**
   * Chooses from {@code requested} ({@code null}, blank or {@code auto}: the best that runs).
   *
   * @param cause why a transport cannot run, {@code null} when it can
   */
  static Choice choose(String requested, Function<Transport, Throwable> cause) {
    var wanted = requested == null ? "" : requested.strip().toLowerCase(Locale.ROOT);
    if (wanted.isEmpty() || wanted.equals("auto")) {
      var skipped = new StringBuilder();
      for (var t : AUTO) {
        var why = cause.apply(t);
        if (why == null) {
          // io_uring is not probed when epoll runs: the probe loads its native library and calls
          // io_uring_setup, which a seccomp profile may log or kill for a transport not taken.
          return new Choice(t, skipped.isEmpty() ? "auto" : "auto; " + skipped);
        }
        skipped.append(skipped.isEmpty() ? "" : "; ").append(t.label).append(": ").append(why);
      }
      throw new IllegalStateException("transport: none can run here (" + skipped + ")");
    }
    for (var t : values()) {
      if (t.label.equals(wanted) || t.name().toLowerCase(Locale.ROOT).equals(wanted)) {
        var why = cause.apply(t);
        if (why != null) {
          throw new IllegalStateException(
              "transport: "
                  + t.label
                  + " was forced ("
                  + PROPERTY
                  + " / "
                  + ENV
                  + ") but cannot run here: "
                  + why,
              why);
        }
        return new Choice(t, "forced");
      }
    }
    throw new IllegalStateException(
        "transport: '"
            + requested
            + "' ("
            + PROPERTY
            + " / "
            + ENV
            + ") (expected: auto, io_uring, epoll or nio)");
  }

  /** The transport whose channels {@code loop} takes. */
  public static Transport of(EventLoop loop) {
    if (loop instanceof IoEventLoop io) {
      if (io.isIoType(GuardedIoHandler.class)) {
        return IO_URING;
      }
      for (var t : values()) {
        if (io.isIoType(t.handler)) {
          return t;
        }
      }
    }
    throw new IllegalArgumentException("transport: unknown event loop " + loop.getClass());
  }

  public EventLoopGroup newGroup(int threads, String name) {
    return newGroup(threads, new DefaultThreadFactory(name, true));
  }

  /** The I/O loops: their threads are {@link LoopThread}s numbered 0..threads-1. */
  public EventLoopGroup newLoopGroup(int threads, String name) {
    return newGroup(threads, LoopThread.factory(name));
  }

  private EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
    return new MultiThreadIoEventLoopGroup(threads, threadFactory, factory.get());
  }

  public Class<? extends SocketChannel> socketChannel() {
    return socket;
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
    var b =
        new Bootstrap()
            .group(loop)
            .channel(socketChannel())
            .handler(NO_HANDLERS)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(connectTimeoutMillis, 1 << 30))
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.TCP_NODELAY, true);
    return this == IO_URING ? ReadRing.apply(b) : b;
  }

  /**
   * {@code b}'s accepted connections set up for this transport (io_uring: they read from the loop's
   * buffer ring). {@code b}'s loops must be this transport's, made by {@link #newLoopGroup}.
   */
  public ServerBootstrap accepting(ServerBootstrap b) {
    return this == IO_URING ? ReadRing.applyToAccepted(b) : b;
  }

  /** UDP: the stream proxy's UDP listeners and their connected channels to the nodes. */
  public Class<? extends DatagramChannel> datagramChannel() {
    return datagram;
  }

  public Class<? extends ServerChannel> serverChannel() {
    return server;
  }
}
