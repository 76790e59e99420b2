package io.archway.dataplane.stream;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.route.Peer;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A UDP stream listener (APISIX's {@code stream_proxy.udp}): datagrams are grouped into sessions by
 * the client's address, as nginx does. A client's first datagram finds the stream route (by
 * listener port, client and server address), picks a node with the route's balancer, and opens a
 * UDP channel connected to it, on this listener's event loop; the client's datagrams go to that
 * channel and whatever the node sends back goes to the client, from the listener's address. A
 * session ends after {@code udpIdleTimeout} without a datagram either way, or when the node is
 * unreachable (ICMP), and gives its node back to the balancer.
 *
 * <p>Every datagram is owned once: its content is handed to the channel that sends it, or released
 * where it is dropped (no route, too many sessions, a full queue while the upstream channel opens,
 * a session that ended).
 */
public final class UdpStreamHandler extends ChannelInboundHandlerAdapter {

  /** Sessions one listener keeps at most; a datagram from a new client beyond it is dropped. */
  static final int MAX_SESSIONS = 65_536;

  /** Datagrams queued per session while its upstream channel opens. */
  static final int MAX_PENDING = 64;

  private final StreamGateway gateway;
  // Only touched on the listener's event loop.
  private final Map<InetSocketAddress, Session> sessions = new HashMap<>();
  private Channel listener;

  public UdpStreamHandler(StreamGateway gateway) {
    this.gateway = gateway;
  }

  /** Sessions open now (for tests and metrics). */
  int sessions() {
    return sessions.size();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    listener = ctx.channel();
    ctx.fireChannelActive();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    listener = ctx.channel();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof DatagramPacket packet)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    var client = packet.sender();
    var session = sessions.get(client);
    if (session == null) {
      if (sessions.size() >= MAX_SESSIONS) {
        gateway.metrics().error("udp_sessions_full");
        packet.release();
        return;
      }
      session = open(client);
      if (session == null) {
        packet.release();
        return;
      }
    }
    session.fromClient(packet.content());
  }

  /** A new session for {@code client}, or null (counted) when there is no route or node. */
  private Session open(InetSocketAddress client) {
    var local = (InetSocketAddress) listener.localAddress();
    var config = gateway.config().current();
    var route = config.streams().match(local.getPort(), client.getAddress(), local.getAddress());
    if (route == null) {
      gateway.metrics().error("no_route");
      return null;
    }
    route.stats().connected();
    var upstream = config.upstreamOf(route);
    if (upstream == null || upstream.nodes().isEmpty()) {
      gateway.metrics().error("no_upstream_nodes");
      return null;
    }
    var vars =
        new RequestVars(
            "", "/", EmptyHttpHeaders.INSTANCE, Peer.of(client, local.getPort(), "udp"));
    var node = upstream.pick(vars, null);
    if (node == null) {
      gateway.metrics().error("no_node_available");
      return null;
    }
    upstream.begin(node);
    gateway.metrics().opened();
    return new Session(client, route, upstream, node);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    for (var s : sessions.values().toArray(Session[]::new)) {
      s.end();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A listener's error (an ICMP error for a reply, a full buffer) is not the listener's end.
  }

  /** One client address's datagrams and its connected channel to the node. */
  private final class Session {
    private final InetSocketAddress client;
    private final UpstreamRuntime upstream;
    private final NodeState node;
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
    private final long timeoutNanos = gateway.settings().udpIdleTimeout().toNanos();
    private Channel up;
    private boolean connected;
    private boolean ended;
    private long last = System.nanoTime();
    private ScheduledFuture<?> idle;

    Session(
        InetSocketAddress client, CompiledStream route, UpstreamRuntime upstream, NodeState node) {
      this.client = client;
      this.upstream = upstream;
      this.node = node;
      sessions.put(client, this); // before connecting: a failure reported at once removes it
      var bootstrap =
          new Bootstrap()
              .group(listener.eventLoop())
              .channel(gateway.transport().datagramChannel())
              .handler(
                  new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                      ch.pipeline().addLast("replies", new Replies());
                    }
                  });
      var connecting = bootstrap.connect(node.host(), node.port());
      up = connecting.channel();
      connecting.addListener(
          (ChannelFutureListener)
              f -> {
                if (ended) {
                  f.channel().close();
                } else if (!f.isSuccess()) {
                  gateway.metrics().error("upstream_connect_failed");
                  upstream.failed(node, NodeState.Failure.TCP);
                  end();
                } else {
                  connected = true;
                  ByteBuf b;
                  while ((b = pending.poll()) != null) {
                    up.write(b, up.voidPromise());
                  }
                  up.flush();
                }
              });
      up.closeFuture().addListener(f -> end());
      schedule(timeoutNanos);
    }

    /** Takes {@code content}: sends it, queues it while connecting, or releases it. */
    void fromClient(ByteBuf content) {
      last = System.nanoTime();
      if (ended) {
        content.release();
      } else if (connected) {
        up.writeAndFlush(content, up.voidPromise());
      } else if (pending.size() < MAX_PENDING) {
        pending.add(content);
      } else {
        gateway.metrics().error("udp_pending_full");
        content.release();
      }
    }

    private void schedule(long nanos) {
      idle = listener.eventLoop().schedule(this::checkIdle, nanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
      long quiet = System.nanoTime() - last;
      if (quiet >= timeoutNanos) {
        end();
      } else {
        schedule(timeoutNanos - quiet);
      }
    }

    void end() {
      if (ended) {
        return;
      }
      ended = true;
      if (idle != null) {
        idle.cancel(false);
      }
      ByteBuf b;
      while ((b = pending.poll()) != null) {
        b.release();
      }
      sessions.remove(client, this);
      up.close();
      upstream.release(node);
      gateway.metrics().closed();
    }

    /** What the node sends back goes to the client, from the listener's address. */
    private final class Replies extends ChannelInboundHandlerAdapter {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket reply)) {
          ReferenceCountUtil.release(msg);
          return;
        }
        last = System.nanoTime();
        if (ended || !listener.isActive()) {
          reply.release();
          return;
        }
        listener.writeAndFlush(new DatagramPacket(reply.content(), client), listener.voidPromise());
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // The node's port is closed (ICMP port unreachable): the session ends; the client's next
        // datagram starts a new one, which may pick another node.
        gateway.metrics().error("upstream_unreachable");
        upstream.failed(node, NodeState.Failure.TCP);
        end();
      }
    }
  }
}
