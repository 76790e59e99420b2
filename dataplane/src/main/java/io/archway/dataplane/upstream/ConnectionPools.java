package io.archway.dataplane.upstream;

import io.archway.dataplane.support.EarliestTimer;
import io.archway.dataplane.support.LoopThread;
import io.archway.dataplane.support.Transport;
import io.archway.model.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLException;

/**
 * Keep-alive connections to nodes, one pool per event loop (a connection is only ever used on the
 * loop that made it, so pools take no locks). Idle connections are kept per {@link Endpoint} up to
 * {@code keepalive_pool.size}, closed after {@code idle_timeout}, and retired after {@code
 * requests}; a node that leaves the config has its idle connections closed while its busy ones
 * finish their request.
 */
public final class ConnectionPools {

  private final Transport transport;
  private final Map<Endpoint, Idle>[] pools;
  private final UpstreamTlsContexts tls = new UpstreamTlsContexts();
  private final H2Links h2;
  private volatile Set<Endpoint> live = Set.of();
  private final AtomicInteger open = new AtomicInteger();

  @SuppressWarnings("unchecked")
  ConnectionPools(Transport transport, int loops) {
    this.transport = transport;
    this.pools = new Map[loops];
    for (int i = 0; i < loops; i++) {
      pools[i] = new HashMap<>();
    }
    this.h2 = new H2Links(this, transport, loops);
  }

  /** The TLS client contexts towards nodes (and the health checks' two). */
  UpstreamTlsContexts tls() {
    return tls;
  }

  /** The HTTP/2 connections to nodes ({@code scheme: grpc}, {@code grpcs}). */
  public H2Links h2() {
    return h2;
  }

  /** Connections open to nodes now, idle or busy. */
  public int open() {
    return open.get() + h2.open();
  }

  /** An idle connection to {@code endpoint} made by this loop, or {@code null}. */
  public UpstreamConnection poll(Endpoint endpoint) {
    int loop = LoopThread.current();
    if (loop < 0 || loop >= pools.length) {
      return null;
    }
    var idle = pools[loop].get(endpoint);
    if (idle == null) {
      return null;
    }
    UpstreamConnection c;
    while ((c = idle.queue.pollLast()) != null) {
      c.idleIn(null);
      if (c.channel().isActive()) {
        return c;
      }
    }
    return null;
  }

  /** A new connection on {@code loop}; for TLS it completes after the handshake. */
  public Future<UpstreamConnection> connect(EventLoop loop, Endpoint ep, long timeoutMillis) {
    Promise<UpstreamConnection> promise = loop.newPromise();
    var conn = new UpstreamConnection(ep);
    var b =
        transport
            .upstreamBootstrap(loop, timeoutMillis)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (ep.tls()) {
                      try {
                        ch.pipeline().addLast("tls", tls.handler(ch, ep, timeoutMillis));
                      } catch (SSLException e) {
                        promise.tryFailure(e);
                        ch.close();
                        return;
                      }
                    }
                    // Body pieces up to 64 KiB: the most one read brings (the receive allocator's
                    // maximum), so a read is one message down the pipeline rather than four. The
                    // decoder hands on slices of what was read, never copies: the size buffers
                    // nothing more.
                    ch.pipeline()
                        .addLast("codec", new UpstreamHttpCodec(4096, 64 * 1024, 64 * 1024))
                        .addLast("connection", conn);
                  }
                });
    b.connect(ep.host(), ep.port())
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
              }
              open.incrementAndGet();
              conn.channel().closeFuture().addListener(x -> open.decrementAndGet());
              var ssl = conn.channel().pipeline().get(SslHandler.class);
              if (ssl == null) {
                promise.trySuccess(conn);
                return;
              }
              // The handshake needs the channel to read.
              conn.channel().read();
              ssl.handshakeFuture()
                  .addListener(
                      h -> {
                        if (h.isSuccess()) {
                          promise.trySuccess(conn);
                        } else {
                          conn.channel().close();
                          promise.tryFailure(h.cause());
                        }
                      });
            });
    return promise;
  }

  /**
   * The TLS client handler towards node {@code n} of {@code upstream} (a TLS upstream): for the
   * stream proxy's {@code scheme: tls}, with the same contexts, server name and verification as
   * HTTPS to nodes.
   */
  public SslHandler tlsHandler(Channel ch, UpstreamRuntime upstream, NodeState n)
      throws SSLException {
    return tls.handler(ch, upstream.endpoint(n), upstream.connectTimeoutMillis());
  }

  /**
   * Returns a connection whose exchange ended cleanly, or closes it when the pool is full, the
   * connection served its {@code requests}, or its node left the config.
   */
  public void release(UpstreamConnection c, Upstream.KeepalivePool settings) {
    c.detach();
    if (c.endpoint().h2()) {
      // A stream is used once; its connection stays for the next ones.
      h2.release(c, settings.idleTimeout());
      return;
    }
    int loop = LoopThread.current();
    var ch = c.channel();
    if (loop < 0
        || loop >= pools.length
        || !ch.isActive()
        || c.requests() >= settings.requests()
        || !live.contains(c.endpoint())) {
      ch.close();
      return;
    }
    var pool = pools[loop];
    var idle = pool.get(c.endpoint());
    if (idle == null) {
      idle = new Idle(pool, c.endpoint(), ch.eventLoop());
      pool.put(c.endpoint(), idle);
    }
    if (idle.queue.size() >= settings.size()) {
      ch.close();
      return;
    }
    idle.add(c, (long) (settings.idleTimeout() * 1e9));
    // Read while idle so that a close by the node is seen at once.
    ch.read();
  }

  /** The endpoints of the config in force; idle connections to others are closed. */
  void retain(Set<Endpoint> endpoints, Iterable<EventLoop> loops) {
    live = Set.copyOf(endpoints);
    // Contexts of settings no longer in force (a rotated certificate) go with them.
    tls.retain(live);
    h2.retain(live, loops);
    for (var loop : loops) {
      loop.execute(
          () -> {
            int i = LoopThread.current();
            if (i < 0 || i >= pools.length) {
              return;
            }
            for (var idle : pools[i].values().toArray(Idle[]::new)) {
              if (!live.contains(idle.endpoint)) {
                for (var c : idle.queue.toArray(UpstreamConnection[]::new)) {
                  c.channel().close();
                }
              }
            }
          });
    }
  }

  /**
   * The idle connections to one endpoint on one loop. Idle timeouts take one timer per pool, not
   * one per connection: a sweep closes the connections past their deadline and runs again at the
   * next one, so a busy pool schedules nothing per request.
   */
  static final class Idle {
    private final Map<Endpoint, Idle> owner;
    private final Endpoint endpoint;
    private final ArrayDeque<UpstreamConnection> queue = new ArrayDeque<>();
    private final EarliestTimer sweep;

    Idle(Map<Endpoint, Idle> owner, Endpoint endpoint, EventLoop loop) {
      this.owner = owner;
      this.endpoint = endpoint;
      this.sweep = new EarliestTimer(loop, this::sweep);
    }

    void add(UpstreamConnection c, long idleNanos) {
      queue.addLast(c);
      c.idleIn(this);
      if (idleNanos <= 0) {
        c.idleDeadline = Long.MAX_VALUE;
        return;
      }
      c.idleDeadline = System.nanoTime() + idleNanos;
      if (c.idleDeadline == Long.MAX_VALUE) {
        c.idleDeadline--;
      }
      sweep.atOrBefore(c.idleDeadline);
    }

    private void sweep() {
      long now = System.nanoTime();
      long next = 0;
      boolean more = false;
      for (var it = queue.iterator(); it.hasNext(); ) {
        var c = it.next();
        if (c.idleDeadline == Long.MAX_VALUE) {
          continue;
        }
        if (c.idleDeadline - now <= 0) {
          it.remove();
          c.idleIn(null);
          c.channel().close();
        } else if (!more || c.idleDeadline - next < 0) {
          next = c.idleDeadline;
          more = true;
        }
      }
      if (more) {
        sweep.atOrBefore(next);
      } else if (queue.isEmpty()) {
        owner.remove(endpoint, this);
      }
    }

    void remove(UpstreamConnection c) {
      queue.remove(c);
      if (queue.isEmpty()) {
        owner.remove(endpoint, this);
      }
    }
  }
}
