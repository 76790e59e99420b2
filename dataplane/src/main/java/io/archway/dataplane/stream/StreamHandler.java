package io.archway.dataplane.stream;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.route.Peer;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.stream.redis.RedisLinks;
import io.archway.dataplane.stream.redis.RedisSession;
import io.archway.dataplane.stream.redis.RespCommandDecoder;
import io.archway.dataplane.stream.redis.SharedLink;
import io.archway.dataplane.support.Relay;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
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
 */
final class StreamHandler extends ChannelInboundHandlerAdapter {

  private final StreamGateway gateway;
  private ChannelHandlerContext ctx;
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

  StreamHandler(StreamGateway gateway) {
    this.gateway = gateway;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    var local = (InetSocketAddress) ctx.channel().localAddress();
    var remote = (InetSocketAddress) ctx.channel().remoteAddress();
    var config = gateway.config().current();
    route = config.streams().match(local.getPort(), remote.getAddress(), local.getAddress());
    if (route == null) {
      gateway.metrics().error("no_route");
      ctx.close();
      return;
    }
    route.stats().connected();
    upstream = config.upstreamOf(route);
    if (upstream == null || upstream.nodes().isEmpty()) {
      gateway.metrics().error("no_upstream_nodes");
      refuse("no upstream nodes");
      return;
    }
    vars =
        new RequestVars(
            "", "/", EmptyHttpHeaders.INSTANCE, Peer.of(remote, local.getPort(), "tcp"));
    attempt();
  }

  private void attempt() {
    node = upstream.pick(vars, tried);
    if (node == null) {
      gateway.metrics().error(failures == 0 ? "no_node_available" : "upstream_unavailable");
      refuse(failures == 0 ? "no upstream node available" : "upstream unavailable");
      return;
    }
    upstream.begin(node);
    var attemptNode = node;
    if (route.redis() != null && route.redis().multiplex()) {
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

  /** A new upstream connection to {@code n}, on the client's event loop, not read until asked. */
  private ChannelFuture connect(NodeState n) {
    return gateway
        .transport()
        .upstreamBootstrap(ctx.channel().eventLoop(), upstream.connectTimeoutMillis())
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .connect(n.host(), n.port());
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
    handedOver = true;
    var client = ctx.channel();
    var released = node;
    up.closeFuture().addListener(x -> upstream.release(released));
    var p = ctx.pipeline();
    if (route.redis() != null) {
      var session = new RedisSession(route, up, client, gateway.metrics());
      p.addBefore(ctx.name(), "resp", new RespCommandDecoder(gateway.settings().maxBulkBytes()));
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
    p.addBefore(ctx.name(), "resp", new RespCommandDecoder(gateway.settings().maxBulkBytes()));
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
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      inputShutdown = true;
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
