package io.archway.dataplane.server;

import io.archway.dataplane.config.CompiledListeners;
import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.config.ConfigHolder;
import io.archway.dataplane.config.ConfigSnapshot;
import io.archway.dataplane.http.Gateway;
import io.archway.dataplane.http.HttpChannelInitializer;
import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.http2.Http2Server;
import io.archway.dataplane.pipeline.Pipeline;
import io.archway.dataplane.stream.StreamChannelInitializer;
import io.archway.dataplane.stream.StreamGateway;
import io.archway.dataplane.stream.UdpStreamHandler;
import io.archway.dataplane.support.ServerPort;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.tls.TlsHandlers;
import io.archway.dataplane.tls.TlsMetrics;
import io.archway.dataplane.tls.TlsSettings;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Listener;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ports the {@code listeners} objects open ({@link CompiledListeners}), applied on every config
 * change on the config source's thread, after the compiler: a new port is bound (asynchronously:
 * nothing here waits on an event loop), a port no longer wanted stops accepting at once and its
 * connections are given the drain timeout to finish (HTTP/2 ones told by GOAWAY, HTTP/1.1 ones by
 * {@code Connection: close} on their next answer), then closed; a port whose {@code ssl_ids}
 * changed serves the new set to new connections without being bound again. A port that cannot be
 * bound (in use) is logged, shown in {@code archway_listener_bind_failed}, and tried again on the
 * next change; the dataplane goes on.
 */
final class ConfiguredListeners implements Consumer<ConfigSnapshot> {

  private static final Logger log = LoggerFactory.getLogger(ConfiguredListeners.class);

  /** What one listener port's connections need. */
  record Wiring(
      ServerSettings settings,
      Transport transport,
      EventLoopGroup workers,
      ChannelGroup connections,
      Function<ChannelInitializer<SocketChannel>, ServerBootstrap> bootstrap,
      Pipeline pipeline,
      io.archway.dataplane.exchange.HttpMetrics httpMetrics,
      io.archway.dataplane.http.Http2Handoff handoff,
      TlsMetrics tlsMetrics,
      StreamGateway streams,
      BooleanSupplier stopping) {

    String bindAddress() {
      return settings.bindAddress();
    }

    HttpSettings http() {
      return settings.http();
    }

    TlsSettings tls() {
      return settings.tls();
    }

    Duration drainTimeout() {
      return settings.drainTimeout();
    }

    io.archway.dataplane.http.Http2Handoff h2c() {
      return settings.http2().h2c() ? handoff : null;
    }

    io.archway.dataplane.http.Http2Handoff h2() {
      return settings.http2().tls() ? handoff : null;
    }
  }

  /** One bound (or binding) socket. */
  private final class Bound {
    final CompiledListeners.Socket socket;
    volatile CompiledListeners.Port spec;
    final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    volatile boolean draining;
    volatile Channel channel;

    Bound(CompiledListeners.Port spec) {
      this.spec = spec;
      this.socket = spec.socket();
    }
  }

  private final ConfigCompiler compiler;
  private final Wiring w;
  private final Map<CompiledListeners.Socket, Bound> bound = new ConcurrentHashMap<>();
  private final Map<CompiledListeners.Socket, String> failed = new ConcurrentHashMap<>();
  // The options' sockets (their protocol), which listeners may share only with the same.
  private final Map<CompiledListeners.Socket, String> optionPorts = new ConcurrentHashMap<>();

  ConfiguredListeners(ConfigCompiler compiler, Wiring wiring) {
    this.compiler = compiler;
    this.w = wiring;
  }

  /**
   * Compiles the listeners objects against the options' ports, bound now, and applies them, then on
   * every change of {@code config}.
   *
   * @param streamPorts the stream ports bound, TCP ones first, as {@link StreamListeners#ports}
   */
  void open(ConfigHolder config, int http, int https, int status, List<Integer> streamPorts) {
    optionPorts.put(CompiledListeners.Socket.tcp(http), "HTTP");
    optionPorts.put(CompiledListeners.Socket.tcp(https), "HTTPS");
    optionPorts.put(CompiledListeners.Socket.tcp(status), "status");
    int tcp = w.settings().stream().ports().size();
    for (int i = 0; i < streamPorts.size(); i++) {
      optionPorts.put(
          new CompiledListeners.Socket(streamPorts.get(i), i >= tcp), i < tcp ? "TCP" : "UDP");
    }
    config.subscribe(this);
    recompile();
  }

  /** Another TCP port of the dataplane's own (the Admin API's), which no listener may take. */
  void optionPort(int port, String what) {
    optionPorts.put(CompiledListeners.Socket.tcp(port), what);
    recompile();
  }

  private void recompile() {
    compiler.listenerSettings(
        new CompiledListeners.Settings(optionPorts, w.settings().privilegedPorts()));
    compiler.recompile();
    apply(compiler.current().listeners());
  }

  @Override
  public void accept(ConfigSnapshot snapshot) {
    apply(compiler.current().listeners());
  }

  /** Binds, keeps, updates and closes ports to make them {@code wanted}'s. */
  synchronized void apply(CompiledListeners wanted) {
    for (var it = bound.values().iterator(); it.hasNext(); ) {
      var b = it.next();
      var want = wanted.ports().get(b.socket);
      if (want == null
          || want.options()
          || want.protocol() != b.spec.protocol()
          || want.port() != b.spec.port()) {
        it.remove();
        drain(b);
      }
    }
    failed.keySet().retainAll(wanted.ports().keySet());
    for (var want : wanted.ports().values()) {
      if (want.options()) {
        continue; // the options' server of that port serves it
      }
      var b = bound.get(want.socket());
      if (b != null) {
        b.spec = want; // ssl_ids: new connections get the new set
      } else {
        bind(want);
      }
    }
  }

  /** Sockets that failed to bind at the last try, with the reason. */
  Map<CompiledListeners.Socket, String> failed() {
    var out = new TreeMap<CompiledListeners.Socket, String>(BY_PORT);
    out.putAll(failed);
    return out;
  }

  /** The sockets bound now, and their declared port. */
  Map<CompiledListeners.Socket, Integer> ports() {
    var out = new TreeMap<CompiledListeners.Socket, Integer>(BY_PORT);
    bound.values().forEach(b -> out.put(b.socket, b.spec.port()));
    return out;
  }

  private static final Comparator<CompiledListeners.Socket> BY_PORT =
      Comparator.comparingInt(CompiledListeners.Socket::port)
          .thenComparing(CompiledListeners.Socket::udp);

  private void bind(CompiledListeners.Port spec) {
    var b = new Bound(spec);
    bound.put(b.socket, b);
    var ids = spec.ids().stream().map(id -> Keys.item(Kind.LISTENERS, id)).toList();
    if (spec.bindPort() != spec.port()) {
      log.info(
          "{}: port {} bound at {} (privileged; allow with --privileged-ports); server_port is {}",
          ids,
          spec.port(),
          spec.bindPort(),
          spec.port());
    }
    ChannelFuture binding;
    if (spec.protocol() == Listener.Protocol.UDP) {
      binding =
          new Bootstrap()
              .group(w.workers())
              .channel(w.transport().datagramChannel())
              .attr(ServerPort.DECLARED, spec.port())
              .handler(new UdpStreamHandler(w.streams()))
              .bind(w.bindAddress(), spec.bindPort());
    } else {
      var server = w.bootstrap().apply(initializer(b)).childOption(ChannelOption.AUTO_READ, false);
      if (!spec.protocol().http()) {
        server.childOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
      }
      binding = server.bind(w.bindAddress(), spec.bindPort());
    }
    binding.addListener(
        (ChannelFuture f) -> {
          if (!f.isSuccess()) {
            bound.remove(b.socket, b);
            var why = f.cause().getMessage();
            failed.put(b.socket, why == null ? f.cause().toString() : why);
            log.warn(
                "{}: port {} not bound ({}); tried again on the next config change",
                ids,
                b.socket,
                failed.get(b.socket));
            return;
          }
          failed.remove(b.socket);
          b.channel = f.channel();
          if (bound.get(b.socket) != b) {
            drain(b); // removed while binding
            return;
          }
          log.info("{}: {} listener on port {}", ids, spec.protocol(), b.socket);
        });
  }

  private ChannelInitializer<SocketChannel> initializer(Bound b) {
    var spec = b.spec;
    var inner = handler(b, spec.protocol());
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        ch.attr(ServerPort.DECLARED).set(b.spec.port());
        b.children.add(ch);
        ch.pipeline().addLast(inner);
      }
    };
  }

  private ChannelHandler handler(Bound b, Listener.Protocol protocol) {
    BooleanSupplier stopping = () -> b.draining || w.stopping().getAsBoolean();
    var gateway = new Gateway(w.pipeline(), w.httpMetrics(), w.http(), stopping);
    return switch (protocol) {
      case HTTP -> new HttpChannelInitializer(gateway, w.connections(), null, w.h2c());
      case HTTPS ->
          new HttpChannelInitializer(
              gateway,
              w.connections(),
              p -> TlsHandlers.addTo(p, () -> b.spec.certificates(), w.tls(), w.tlsMetrics()),
              w.h2());
      case TLS -> new StreamChannelInitializer(w.streams(), w.connections(), true);
      case TCP -> new StreamChannelInitializer(w.streams(), w.connections());
      case UDP -> throw new IllegalArgumentException("UDP is not a server bootstrap");
    };
  }

  /** Stops accepting now; the connections get the drain timeout to finish, then are closed. */
  private void drain(Bound b) {
    b.draining = true;
    var ch = b.channel;
    if (ch == null) {
      return; // still binding: closed when the bind completes
    }
    ch.close();
    log.info(
        "{}: port {} closed; {} connection(s) draining",
        b.spec.ids().stream().map(id -> Keys.item(Kind.LISTENERS, id)).toList(),
        b.socket,
        b.children.size());
    if (b.children.isEmpty()) {
      return;
    }
    Http2Server.drain(b.children);
    var timer =
        ch.eventLoop()
            .schedule(
                () -> {
                  b.children.close();
                },
                Math.max(1, w.drainTimeout().toMillis()),
                TimeUnit.MILLISECONDS);
    b.children.newCloseFuture().addListener(f -> timer.cancel(false));
  }

  /** Closes every port (the dataplane stops: its own drain follows). */
  synchronized void close() {
    for (var b : bound.values()) {
      b.draining = true;
      var ch = b.channel;
      if (ch != null) {
        ch.close().awaitUninterruptibly();
      }
    }
    bound.clear();
  }
}
