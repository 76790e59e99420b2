package io.archway.dataplane.stream;

import io.archway.dataplane.config.CompiledConfig;
import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.route.Peer;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.stream.redis.RedisLinks;
import io.archway.dataplane.stream.redis.RedisSession;
import io.archway.dataplane.stream.redis.SharedLink;
import io.archway.dataplane.support.ChannelReady;
import io.archway.dataplane.support.Relay;
import io.archway.dataplane.support.ServerPort;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.BitSet;

/**
 * A client connection on a stream listener, until its upstream connection is made: it finds the
 * stream route, picks a node with the route's balancer, connects (retrying other nodes on failure,
 * bounded by the upstream's {@code retries}), then hands the connection to a byte {@link Relay} or,
 * for {@code protocol.name: redis}, to a {@link RedisSession}. The client is not read before that,
 * so nothing is buffered while connecting. One upstream connection per client connection, except
 * for multiplexed Redis routes, whose sessions start on the event loop's shared link to the node.
 *
 * <p>A route with stream plugins runs their preread first ({@link StreamPreread}), before any
 * upstream is picked; the client bytes a plugin asks for are read here, given to it, and kept to be
 * sent upstream unchanged. What plugins set ({@code mqtt_client_id}) is a variable for the
 * balancer.
 */
final class StreamHandler extends ChannelInboundHandlerAdapter {

  private final StreamGateway gateway;
  private ChannelHandlerContext ctx;
  private CompiledConfig snapshot;
  private CompiledStream route;
  private UpstreamRuntime upstream;
  private RequestVars vars;
  private NodeState node;
  private BitSet tried;
  private int failures;
  private Channel upstreamChannel;
  private boolean closed;
  // Netty reads a half-closed socket even with AUTO_READ off, to see the close: what it read before
  // the upstream is connected waits here and is replayed through the new handlers.
  private final ArrayDeque<Object> early = new ArrayDeque<>();
  private boolean inputShutdown;
  private boolean handedOver; // to a session or relay, which is given what was read early
  // A route with stream plugins: the connection as they see it, and their preread step.
  private StreamConnection session;
  private StreamPreread preread;

  // TLS passthrough: the route is chosen by the ClientHello's server name (null: none sent).
  private final boolean bySni;
  private final String sni;

  StreamHandler(StreamGateway gateway) {
    this(gateway, null, false);
  }

  /**
   * @param sni the server name a TLS passthrough connection's ClientHello asked for
   * @param bySni whether the route is chosen by {@code sni} (a TLS passthrough listener, whose
   *     connection is active already when this handler is added)
   */
  StreamHandler(StreamGateway gateway, String sni, boolean bySni) {
    this.gateway = gateway;
    this.sni = sni;
    this.bySni = bySni;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (bySni && ctx.channel().isActive()) {
      channelActive(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    var local = ServerPort.local(ctx.channel());
    var remote = (InetSocketAddress) ctx.channel().remoteAddress();
    var config = gateway.config().current();
    snapshot = config;
    route =
        bySni
            ? config.streamRouteBySni(local.getPort(), sni, remote.getAddress(), local.getAddress())
            : config.streamRoute(local.getPort(), remote.getAddress(), local.getAddress(), false);
    if (route == null) {
      gateway.metrics().error("no_route");
      ctx.close();
      return;
    }
    route.stats().connected();
    if (!route.plugins().isEmpty()) {
      session = new StreamConnection(route, ctx.channel(), remote, local);
      ctx.pipeline().addFirst("bytes", session.counter());
      preread = new StreamPreread(gateway, ctx, route, session, () -> closed, this::toUpstream);
      ctx.channel().closeFuture().addListener(f -> closedWithPlugins());
      preread.run();
      return;
    }
    toUpstream();
  }

  private void closedWithPlugins() {
    closed = true;
    preread.closed();
  }

  private void toUpstream() {
    upstream = snapshot.upstreamOf(route);
    if (upstream == null || upstream.nodes().isEmpty()) {
      gateway.metrics().error("no_upstream_nodes");
      refuse("no upstream nodes");
      return;
    }
    var local = ServerPort.local(ctx.channel());
    var remote = (InetSocketAddress) ctx.channel().remoteAddress();
    vars =
        new RequestVars(
            "", "/", EmptyHttpHeaders.INSTANCE, Peer.of(remote, local.getPort(), "tcp"));
    if (session != null) {
      session.vars().forEach(vars::set);
    }
    attempt();
  }

  private void attempt() {
    if (upstream.tls() && gateway.pools() == null) {
      gateway.metrics().error("upstream_tls_unavailable");
      refuse("no TLS towards the upstream");
      return;
    }
    node = upstream.pick(vars, tried);
    if (node == null) {
      gateway.metrics().error(failures == 0 ? "no_node_available" : "upstream_unavailable");
      refuse(failures == 0 ? "no upstream node available" : "upstream unavailable");
      return;
    }
    upstream.begin(node);
    var attemptNode = node;
    // The shared Redis links speak plain TCP: over TLS each client has its own connection.
    if (route.redis() != null && route.redis().multiplex() && !upstream.tls()) {
      var links =
          gateway
              .redisLinks()
              .node(
                  ctx.channel().eventLoop(),
                  node.host(),
                  node.port(),
                  upstream.connectTimeoutMillis());
      // Only a client that a new server connection would find authenticated may share a link.
      links.admit(
          (authenticated, cause) -> {
            if (closed) {
              upstream.release(attemptNode);
            } else if (cause != null) {
              failed(attemptNode, cause);
            } else if (!authenticated) {
              ownConnection(attemptNode, links.own(false));
            } else {
              links
                  .link()
                  .addListener(
                      f -> {
                        if (closed) {
                          upstream.release(attemptNode);
                        } else if (!f.isSuccess()) {
                          failed(attemptNode, f.cause());
                        } else if (!((SharedLink) f.getNow()).usable()) {
                          ownConnection(attemptNode, links.own(false));
                        } else {
                          onSharedLink((SharedLink) f.getNow(), links);
                        }
                      });
            }
          });
      return;
    }
    ownConnection(attemptNode, connect(attemptNode));
  }

  private void ownConnection(NodeState attemptNode, ChannelFuture connecting) {
    connecting.addListener(
        (ChannelFutureListener)
            f -> {
              if (closed) {
                upstream.release(attemptNode);
                f.channel().close();
              } else if (f.isSuccess()) {
                connected(f.channel());
              } else {
                failed(attemptNode, f.cause());
              }
            });
  }

  /**
   * A new upstream connection to {@code n}, on the client's event loop, not read until asked; for
   * {@code scheme: tls}, complete once its TLS handshake is.
   */
  private ChannelFuture connect(NodeState n) {
    var bootstrap =
        gateway
            .transport()
            .upstreamBootstrap(ctx.channel().eventLoop(), upstream.connectTimeoutMillis())
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true);
    if (!upstream.tls(n)) {
      return bootstrap.connect(n.host(), n.port());
    }
    var pools = gateway.pools();
    var up = upstream;
    bootstrap.handler(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) throws Exception {
            ch.pipeline().addLast("tls", pools.tlsHandler(ch, up, n));
          }
        });
    return ChannelReady.after(
        bootstrap.connect(n.host(), n.port()),
        (ch, ready) -> {
          var tls = ch.pipeline().get(SslHandler.class);
          ch.read(); // the handshake needs the channel to read
          tls.handshakeFuture()
              .addListener(
                  h -> {
                    if (h.isSuccess()) {
                      ready.trySuccess();
                    } else {
                      ch.close();
                      ready.tryFailure(h.cause());
                    }
                  });
        });
  }

  private void failed(NodeState attemptNode, Throwable cause) {
    var timeout = cause instanceof ConnectTimeoutException;
    gateway.metrics().error(timeout ? "upstream_connect_timeout" : "upstream_connect_failed");
    upstream.failed(attemptNode, timeout ? NodeState.Failure.TIMEOUT : NodeState.Failure.TCP);
    if (tried == null) {
      tried = new BitSet();
    }
    tried.set(attemptNode.index());
    failures++;
    if (failures <= upstream.retries()) {
      attempt();
    } else {
      gateway.metrics().error("upstream_unavailable");
      refuse("upstream unavailable (" + cause.getMessage() + ")");
    }
  }

  private void connected(Channel up) {
    upstreamChannel = up;
    if (session != null) {
      session.set("upstream_addr", node.host() + ":" + node.port());
    }
    handedOver = true;
    var client = ctx.channel();
    var released = node;
    up.closeFuture().addListener(x -> upstream.release(released));
    var p = ctx.pipeline();
    if (route.redis() != null) {
      var session = new RedisSession(route, up, client, gateway.metrics());
      p.addBefore(ctx.name(), "resp", session.decoder(gateway.settings().maxBulkBytes()));
      p.replace(this, "redis", session);
      up.pipeline().addLast("replies", session.upstreamHandler());
    } else {
      p.replace(this, "relay", new Relay(up));
      up.pipeline().addLast("relay", new Relay(client));
    }
    start(p);
    up.read();
  }

  /**
   * A Redis session on the event loop's shared link; its own connection, if ever, goes to the same
   * node.
   */
  private void onSharedLink(SharedLink link, RedisLinks.Node links) {
    if (!link.isActive()) { // closed by the server between connect and now
      failed(node, new ConnectException("shared connection closed"));
      return;
    }
    handedOver = true;
    var client = ctx.channel();
    var released = node;
    client.closeFuture().addListener(x -> upstream.release(released));
    var p = ctx.pipeline();
    var session = new RedisSession(route, link, client, gateway.metrics(), links);
    p.addBefore(ctx.name(), "resp", session.decoder(gateway.settings().maxBulkBytes()));
    p.replace(this, "redis", session);
    start(p);
  }

  /** Replays what was read while connecting through the new handlers, then reads the client. */
  private void start(ChannelPipeline p) {
    Object m;
    while ((m = early.poll()) != null) {
      p.fireChannelRead(m);
    }
    if (inputShutdown) {
      p.fireChannelReadComplete();
      p.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    } else {
      ctx.channel().read();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    early.add(msg);
    if (preread != null) {
      preread.read(msg);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      inputShutdown = true;
      if (preread != null) {
        preread.inputShutdown();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (!handedOver) { // else what was read early is replayed through the new handlers
      Object m;
      while ((m = early.poll()) != null) {
        ReferenceCountUtil.release(m);
      }
    }
  }

  /** No upstream: a Redis client is told why, as Redis itself tells of refused connections. */
  private void refuse(String why) {
    if (route != null && route.redis() != null) {
      var reply = "-ERR " + why + "\r\n";
      ctx.writeAndFlush(Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8))
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.close();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed = true;
    Object m;
    while ((m = early.poll()) != null) {
      ReferenceCountUtil.release(m);
    }
    if (upstreamChannel != null) {
      upstreamChannel.close();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
