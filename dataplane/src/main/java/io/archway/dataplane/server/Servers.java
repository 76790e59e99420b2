package io.archway.dataplane.server;

import io.archway.dataplane.admin.AdminServer;
import io.archway.dataplane.admin.AdminSettings;
import io.archway.dataplane.admin.StandaloneAdminStore;
import io.archway.dataplane.config.CompiledRoute;
import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.config.ConfigHolder;
import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.discovery.KubernetesDiscovery;
import io.archway.dataplane.exchange.HttpMetrics;
import io.archway.dataplane.http.Gateway;
import io.archway.dataplane.http.HttpChannelInitializer;
import io.archway.dataplane.http.WebSocketProxy;
import io.archway.dataplane.http.WebSocketTunnels;
import io.archway.dataplane.http2.Http2Gateway;
import io.archway.dataplane.http2.Http2Server;
import io.archway.dataplane.pipeline.AccessLog;
import io.archway.dataplane.pipeline.HttpProxy;
import io.archway.dataplane.pipeline.InFlight;
import io.archway.dataplane.pipeline.Pipeline;
import io.archway.dataplane.pubsub.PubSub;
import io.archway.dataplane.stream.StreamGateway;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.tls.CertificateCompiler;
import io.archway.dataplane.tls.TlsHandlers;
import io.archway.dataplane.tls.TlsMetrics;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.source.ConfigSource;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dataplane's listeners: HTTP traffic, stream (TCP) traffic and the status port. {@link #stop}
 * stops accepting, lets in-flight requests finish within a bound, then closes what is left.
 */
public final class Servers implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Servers.class);

  private final Transport transport = Transport.selected();
  private final EventLoopGroup boss = transport.newGroup(1, "archway-accept");
  // The status port's own loop, as Envoy keeps its admin listener off the workers: /metrics and
  // /readyz answer while traffic holds or stalls the I/O loops (memory past its mark, a flood).
  private final EventLoopGroup statusLoop = transport.newGroup(1, "archway-status");
  private EventLoopGroup workers;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final InFlight inFlight = new InFlight();
  private final WebSocketTunnels webSockets = new WebSocketTunnels();
  private final HttpMetrics httpMetrics = new HttpMetrics();
  private final StreamMetrics streamMetrics = new StreamMetrics();
  private final SyslogSinks sinks = new SyslogSinks();
  private final StreamListeners streams =
      new StreamListeners(transport, streamMetrics, connections);
  private Upstreams upstreams;
  private volatile ConfigCompiler compiler;
  private KubernetesDiscovery discovery;
  private AccessLog accessLog;
  private PubSub pubsub;
  private volatile boolean stopping;
  private Channel http;
  private Channel https;
  private final TlsMetrics tlsMetrics = new TlsMetrics();
  private CertificateCompiler certificates;
  private Channel status;
  private final AdminPort admin = new AdminPort();
  Overload overload; // package-private for OverloadIT: the memory figures it sets

  private String bindAddress;
  private ConfigHolder config;
  private FirstConfigGate gate;
  private ConfiguredListeners listeners;
  private io.archway.dataplane.flow.FlowTrace.Limits dryRunLimits =
      io.archway.dataplane.flow.FlowTrace.Limits.DEFAULTS;

  public Servers start(ServerSettings settings, ConfigHolder config, ConfigSource source)
      throws InterruptedException, IOException {
    bindAddress = settings.bindAddress();
    this.config = config;
    dryRunLimits =
        new io.archway.dataplane.flow.FlowTrace.Limits(
            io.archway.dataplane.http.HttpSettings.MAX_HEADERS,
            settings.http().maxHeaderSize(),
            settings.http().maxBodySize(),
            io.archway.dataplane.flow.FlowTrace.Limits.DEFAULTS.concurrent());
    int loops =
        settings.workers() > 0 ? settings.workers() : Runtime.getRuntime().availableProcessors();
    workers = transport.newLoopGroup(loops, "archway-io");
    overload = new Overload(settings.overload(), MemoryProbe.jvm()).start();
    upstreams = new Upstreams(transport, workers, loops);
    var kubernetes = settings.kubernetes();
    discovery = new KubernetesDiscovery(kubernetes::client, () -> compiler.recompile());
    // ALPN offers h2 first where HTTP/2 is on, then http/1.1.
    certificates =
        new CertificateCompiler(
            settings.tls(),
            tlsMetrics,
            settings.http2().tls()
                ? List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)
                : List.of(ApplicationProtocolNames.HTTP_1_1));
    compiler =
        new ConfigCompiler(upstreams, httpMetrics, streamMetrics, sinks, discovery, certificates);
    compiler.pluginServices().httpsPort(settings.tls().redirectPort());
    compiler.accept(config.current());
    config.subscribe(compiler);
    gate = new FirstConfigGate(config);
    config.subscribe(gate); // after the compiler: opens on the first config compiled
    accessLog = AccessLog.open(settings.http().accessLog());
    var services = compiler.pluginServices();
    accessLog.rotation(() -> services.metadata("log-rotate"));
    pubsub = new PubSub(settings.pubsub());
    var proxy = new HttpProxy();
    var pipeline =
        new Pipeline(
            compiler,
            upstreams.pools(),
            httpMetrics,
            inFlight,
            accessLog,
            settings.http().requestLimits(),
            Map.of(
                CompiledRoute.Handler.HTTP, proxy,
                CompiledRoute.Handler.WEBSOCKET, new WebSocketProxy(proxy, webSockets),
                CompiledRoute.Handler.PUBSUB, pubsub),
            overload.loadShedding());
    var gateway = new Gateway(pipeline, httpMetrics, settings.http(), () -> stopping);
    var h2 =
        new Http2Server(
            new Http2Gateway(
                pipeline, httpMetrics, settings.http2(), settings.http().idleTimeout()));
    var handoff = new H2Handoff(h2);
    var metrics =
        new Metrics(
            config,
            source,
            inFlight,
            httpMetrics,
            streamMetrics,
            sinks,
            upstreams,
            compiler,
            pubsub.metrics(),
            tlsMetrics,
            admin.metrics(),
            discovery::status);
    var statusHandler =
        new StatusHandler(
            config,
            source,
            metrics,
            upstreams,
            () -> stopping,
            discovery::status,
            compiler.pluginServices());
    metrics.overload(overload);
    var httpInitializer =
        new HttpChannelInitializer(
            gateway, connections, null, settings.http2().h2c() ? handoff : null);
    http =
        Listening.bound(
            guarded(admin.sniffing(httpInitializer))
                .childOption(ChannelOption.AUTO_READ, false)
                .bind(settings.bindAddress(), settings.httpPort()),
            "HTTP",
            settings.bindAddress(),
            settings.httpPort());
    https =
        Listening.bound(
            guarded(
                    new HttpChannelInitializer(
                        gateway,
                        connections,
                        p ->
                            TlsHandlers.addTo(
                                p,
                                () -> compiler.current().certificates(),
                                settings.tls(),
                                tlsMetrics),
                        settings.http2().tls() ? handoff : null))
                .childOption(ChannelOption.AUTO_READ, false)
                .bind(settings.bindAddress(), settings.httpsPort()),
            "HTTPS",
            settings.bindAddress(),
            settings.httpsPort());
    status =
        Listening.bound(
            bootstrap(
                    statusLoop,
                    statusLoop,
                    new ChannelInitializer<SocketChannel>() {
                      @Override
                      protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                            .addLast("codec", new HttpServerCodec())
                            .addLast("aggregator", new HttpObjectAggregator(8192))
                            .addLast("status", statusHandler);
                      }
                    })
                .bind(settings.bindAddress(), settings.statusPort()),
            "status",
            settings.bindAddress(),
            settings.statusPort());
    // The public endpoints (node-status, server-info, batch-requests, prometheus) read the node.
    compiler
        .pluginServices()
        .gateway(new NodeInfo(httpMetrics, inFlight, this::httpPort, metrics::render));
    streams.start(settings, compiler, workers, upstreams.pools(), this::guarded, gate);
    // Ports from listeners objects, once the options' ports are bound.
    listeners =
        new ConfiguredListeners(
            compiler,
            new ConfiguredListeners.Wiring(
                settings,
                transport,
                workers,
                connections,
                this::guarded,
                pipeline,
                httpMetrics,
                handoff,
                tlsMetrics,
                new StreamGateway(
                    compiler, transport, settings.stream(), streamMetrics, upstreams.pools()),
                () -> stopping));
    metrics.listeners(listeners);
    listeners.open(config, httpPort(), httpsPort(), statusPort(), streams.ports());
    log.info(
        "listening: http {}, https {}, status {}, stream {} ({})",
        ((InetSocketAddress) http.localAddress()).getPort(),
        httpsPort(),
        ((InetSocketAddress) status.localAddress()).getPort(),
        streamPorts(),
        transport);
    return this;
  }

  /**
   * Opens the Admin API's port over the standalone config, on the same event loops.
   *
   * @throws IllegalStateException when no key is set and the address is not loopback
   */
  public void startAdmin(AdminSettings settings, String prefix, StandaloneAdminStore store)
      throws InterruptedException {
    startAdmin(
        settings,
        AdminServer.standalone(settings, prefix, store, admin.metrics(), compiler::recompile));
  }

  /**
   * Starts the Admin API over etcd ({@code --etcd}): its writes go to the keys we watch, and each
   * answers once the snapshot compiled here has reached its revision (read-your-writes).
   */
  public void startAdmin(
      AdminSettings settings,
      String prefix,
      List<String> etcdEndpoints,
      String etcdUser,
      String etcdPassword,
      io.archway.model.source.EtcdTls etcdTls)
      throws InterruptedException {
    // Subscribed after the compiler (start), so a snapshot seen there is compiled and served.
    var applied = new AppliedRevisions(config.current().revision());
    config.subscribe(applied);
    startAdmin(
        settings,
        AdminServer.etcd(
            settings,
            prefix,
            etcdEndpoints,
            etcdUser,
            etcdPassword,
            etcdTls,
            admin.metrics(),
            compiler::recompile,
            applied));
  }

  private void startAdmin(AdminSettings settings, AdminServer server) throws InterruptedException {
    server.flows(compiler, dryRunLimits);
    server.health(upstreams::health);
    admin.start(settings, server, this::bootstrap, bindAddress);
    if (listeners != null) {
      listeners.optionPort(adminPort(), "admin");
    }
    if (admin.onHttp() != null) {
      log.info("admin API also on the HTTP port {}", httpPort());
    }
  }

  /** The admin port, or {@code -1} when there is none. */
  public int adminPort() {
    return admin.port();
  }

  private ServerBootstrap bootstrap(ChannelInitializer<SocketChannel> initializer) {
    return bootstrap(boss, workers, initializer);
  }

  private ServerBootstrap bootstrap(
      EventLoopGroup accept, EventLoopGroup io, ChannelInitializer<SocketChannel> initializer) {
    return transport.accepting(
        new ServerBootstrap()
            .group(accept, io)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(initializer));
  }

  /**
   * A bootstrap for a traffic listener: {@code max_connections} and shedding apply, and it accepts
   * once the first config is in force ({@link FirstConfigGate}).
   */
  private ServerBootstrap guarded(ChannelInitializer<SocketChannel> initializer) {
    return bootstrap(initializer)
        .handler(
            new ChannelInitializer<ServerChannel>() {
              @Override
              protected void initChannel(ServerChannel ch) {
                ch.pipeline().addLast("connection-limit", new ConnectionLimit(overload));
                gate.hold(ch);
              }
            });
  }

  public int httpPort() {
    return ((InetSocketAddress) http.localAddress()).getPort();
  }

  public int httpsPort() {
    return ((InetSocketAddress) https.localAddress()).getPort();
  }

  public TlsMetrics tlsMetrics() {
    return tlsMetrics;
  }

  /** The ports from listeners objects ({@code null} before start). */
  ConfiguredListeners listeners() {
    return listeners;
  }

  /** The stream listeners' ports, in the order configured. */
  public List<Integer> streamPorts() {
    return streams.ports();
  }

  public StreamMetrics streamMetrics() {
    return streamMetrics;
  }

  public int statusPort() {
    return ((InetSocketAddress) status.localAddress()).getPort();
  }

  public InFlight inFlight() {
    return inFlight;
  }

  public HttpMetrics httpMetrics() {
    return httpMetrics;
  }

  public ConfigCompiler compiler() {
    return compiler;
  }

  public Upstreams upstreams() {
    return upstreams;
  }

  public PubSub pubsub() {
    return pubsub;
  }

  public KubernetesDiscovery discovery() {
    return discovery;
  }

  /**
   * Stops accepting HTTP connections at once, waits up to {@code timeout} for in-flight requests,
   * then closes every connection and the status port.
   */
  public void stop(Duration timeout) {
    stopping = true;
    if (http != null) {
      http.close().awaitUninterruptibly();
    }
    if (https != null) {
      https.close().awaitUninterruptibly();
    }
    streams.close();
    if (listeners != null) {
      listeners.close();
    }
    // HTTP/2 clients are told at once (GOAWAY) to open no more streams here; HTTP/1.1 ones get
    // Connection: close on their next answer.
    Http2Server.drain(connections);
    // WebSocket tunnels get a Close frame (1001 going away) each way, and close once answered.
    webSockets.drain();
    InFlightDrain.await(inFlight, webSockets, timeout);
    connections.close().awaitUninterruptibly();
    if (pubsub != null) {
      pubsub.close();
    }
    if (status != null) {
      status.close().awaitUninterruptibly();
    }
    admin.close();
    if (discovery != null) {
      discovery.close();
    }
    if (upstreams != null) {
      upstreams.close();
    }
    if (workers != null) {
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
    if (accessLog != null) {
      accessLog.close();
    }
    sinks.close();
    if (compiler != null) {
      compiler.pluginServices().close();
      compiler.close();
    }
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    statusLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    if (overload != null) {
      overload.close();
    }
  }

  @Override
  public void close() {
    stop(Duration.ZERO);
  }
}
