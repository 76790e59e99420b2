package io.archway.dataplane.stream;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.plugin.StreamPluginInstance;
import io.archway.dataplane.plugin.StreamPluginInstance.Preread;
import io.archway.dataplane.route.Peer;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.support.ServerPort;
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

  /** A new session for {@code client}, or null (counted) when there is no route. */
  private Session open(InetSocketAddress client) {
    var local = ServerPort.local(listener);
    var config = gateway.config().current();
    var route = config.streamRoute(local.getPort(), client.getAddress(), local.getAddress(), true);
    if (route == null) {
      gateway.metrics().error("no_route");
      return null;
    }
    route.stats().connected();
    gateway.metrics().opened();
    var session = new Session(client, local, route, config.upstreamOf(route));
    session.start();
    return session;
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

  /**
   * One client address's datagrams and its connected channel to the node. A route with stream
   * plugins runs their preread first (with no bytes to look at: a plugin asking for more closes the
   * session) and their log when the session ends; datagrams wait in the queue meanwhile.
   */
  private final class Session {
    private final InetSocketAddress client;
    private final InetSocketAddress local;
    private final CompiledStream route;
    private final UpstreamRuntime upstream;
    private final StreamConnection plugins; // null: the route has none
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
    private final long timeoutNanos = gateway.settings().udpIdleTimeout().toNanos();
    private NodeState node;
    private Channel up;
    private boolean connected;
    private boolean ended;
    private boolean deciding; // a plugin's decision is pending: log waits for it
    private boolean logged;
    private int next;
    private long last = System.nanoTime();
    private ScheduledFuture<?> idle;

    Session(
        InetSocketAddress client,
        InetSocketAddress local,
        CompiledStream route,
        UpstreamRuntime upstream) {
      this.client = client;
      this.local = local;
      this.route = route;
      this.upstream = upstream;
      this.plugins =
          route.plugins().isEmpty() ? null : new StreamConnection(route, listener, client, local);
      sessions.put(client, this); // before anything can end it
    }

    void start() {
      schedule(timeoutNanos);
      if (plugins == null) {
        connect();
      } else {
        plugins.prereadDone(); // nothing to copy: a datagram is not a byte stream
        preread();
      }
    }

    private void preread() {
      var chain = route.plugins().instances();
      while (next < chain.size() && !ended) {
        Preread d;
        try {
          d = chain.get(next).preread(plugins);
        } catch (RuntimeException e) {
          gateway.metrics().error("plugin_failed");
          end();
          return;
        }
        if (!decide(d)) {
          return;
        }
      }
      if (!ended) {
        connect();
      }
    }

    private boolean decide(Preread d) {
      switch (d) {
        case StreamPluginInstance.Decision.CONTINUE -> {
          next++;
          return true;
        }
        case StreamPluginInstance.Decision.CLOSE, StreamPluginInstance.Decision.MORE -> {
          gateway.metrics().error("plugin_closed");
          end();
          return false;
        }
        case StreamPluginInstance.Later later -> {
          deciding = true;
          later
              .stage()
              .whenComplete(
                  (decided, err) ->
                      listener
                          .eventLoop()
                          .execute(
                              () -> {
                                deciding = false;
                                if (ended) {
                                  log();
                                } else if (err != null || decided == null) {
                                  gateway.metrics().error("plugin_failed");
                                  end();
                                } else if (decide(decided)) {
                                  preread();
                                }
                              }));
          return false;
        }
      }
    }

    private void connect() {
      if (upstream == null || upstream.nodes().isEmpty()) {
        gateway.metrics().error("no_upstream_nodes");
        end();
        return;
      }
      var vars =
          new RequestVars(
              "", "/", EmptyHttpHeaders.INSTANCE, Peer.of(client, local.getPort(), "udp"));
      if (plugins != null) {
        plugins.vars().forEach(vars::set);
      }
      node = upstream.pick(vars, null);
      if (node == null) {
        gateway.metrics().error("no_node_available");
        end();
        return;
      }
      upstream.begin(node);
      if (plugins != null) {
        plugins.set("upstream_addr", node.host() + ":" + node.port());
      }
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
    }

    /** Takes {@code content}: sends it, queues it while connecting, or releases it. */
    void fromClient(ByteBuf content) {
      last = System.nanoTime();
      if (plugins != null) {
        plugins.countReceived(content.readableBytes());
      }
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
      if (up != null) {
        up.close();
      }
      if (node != null) {
        upstream.release(node);
      }
      gateway.metrics().closed();
      if (plugins != null) {
        plugins.ended();
        if (!deciding) {
          log();
        }
      }
    }

    /** The plugins' log phase, once, after the session ended and no decision is pending. */
    private void log() {
      if (logged || plugins == null) {
        return;
      }
      logged = true;
      for (var p : route.plugins().instances()) {
        try {
          p.log(plugins);
        } catch (RuntimeException e) {
          gateway.metrics().error("plugin_failed");
        }
      }
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
        if (plugins != null) {
          plugins.countSent(reply.content().readableBytes());
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
