package io.archway.dataplane.upstream;

import io.archway.dataplane.support.EarliestTimer;
import io.archway.dataplane.support.LoopThread;
import io.archway.dataplane.support.Transport;
import io.archway.model.Pems;
import io.archway.model.Upstream;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keep-alive connections to nodes, one pool per event loop (a connection is only ever used on the
 * loop that made it, so pools take no locks). Idle connections are kept per {@link Endpoint} up to
 * {@code keepalive_pool.size}, closed after {@code idle_timeout}, and retired after {@code
 * requests}; a node that leaves the config has its idle connections closed while its busy ones
 * finish their request.
 */
public final class ConnectionPools {

  private static final Logger log = LoggerFactory.getLogger(ConnectionPools.class);

  private final Transport transport;
  private final Map<Endpoint, Idle>[] pools;
  private final SslContext verifying;
  private final SslContext trusting;
  private final Map<Endpoint.TlsOptions, Object> contexts = new ConcurrentHashMap<>();
  private volatile Set<Endpoint> live = Set.of();
  private final AtomicInteger open = new AtomicInteger();

  @SuppressWarnings("unchecked")
  ConnectionPools(Transport transport, int loops) {
    this.transport = transport;
    this.pools = new Map[loops];
    for (int i = 0; i < loops; i++) {
      pools[i] = new HashMap<>();
    }
    try {
      verifying = SslContextBuilder.forClient().build();
      trusting =
          SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
    } catch (SSLException e) {
      throw new IllegalStateException("TLS client set-up failed", e);
    }
  }

  /** The TLS client context towards nodes: verifying certificates, or trusting any. */
  SslContext sslContext(boolean verify) {
    return verify ? verifying : trusting;
  }

  /**
   * The TLS client context for {@code options}: made once per distinct set (a client certificate,
   * authorities) and shared by every node that uses it.
   */
  SslContext sslContext(Endpoint.TlsOptions options) throws SSLException {
    if (options.clientCert() == null && options.ca() == null) {
      return sslContext(options.verify());
    }
    var made = contexts.computeIfAbsent(options, ConnectionPools::build);
    if (made instanceof SslContext c) {
      return c;
    }
    throw (SSLException) made;
  }

  /**
   * A context, or the reason there is none (kept, so a bad certificate is not retried per call).
   */
  private static Object build(Endpoint.TlsOptions options) {
    try {
      var b = SslContextBuilder.forClient();
      if (!options.verify()) {
        b.trustManager(InsecureTrustManagerFactory.INSTANCE);
      } else if (options.ca() != null) {
        b.trustManager(Pems.certificates(options.ca()).toArray(X509Certificate[]::new));
      }
      if (options.clientCert() != null) {
        var chain = Pems.certificates(options.clientCert());
        var key = Pems.privateKey(options.clientKey());
        Pems.checkPair(chain.get(0), key);
        b.keyManager(key, chain);
      }
      return b.build();
    } catch (GeneralSecurityException | SSLException | RuntimeException e) {
      var failure = new SSLException("upstream TLS settings: " + e.getMessage());
      log.warn("{}", failure.getMessage());
      return failure;
    }
  }

  /** Connections open to nodes now, idle or busy. */
  public int open() {
    return open.get();
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
                      SslContext ctx;
                      try {
                        ctx = sslContext(ep.options());
                      } catch (SSLException e) {
                        promise.tryFailure(e);
                        ch.close();
                        return;
                      }
                      var handler =
                          ep.sni() == null
                              ? ctx.newHandler(ch.alloc(), ep.host(), ep.port())
                              : ctx.newHandler(ch.alloc(), ep.sni(), ep.port());
                      if (ep.verify()) {
                        var params = handler.engine().getSSLParameters();
                        params.setEndpointIdentificationAlgorithm("HTTPS");
                        handler.engine().setSSLParameters(params);
                      }
                      handler.setHandshakeTimeoutMillis(timeoutMillis);
                      ch.pipeline().addLast("tls", handler);
                    }
                    ch.pipeline()
                        .addLast("codec", new HttpClientCodec(4096, 64 * 1024, 16 * 1024))
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
              var tls = conn.channel().pipeline().get(SslHandler.class);
              if (tls == null) {
                promise.trySuccess(conn);
                return;
              }
              // The handshake needs the channel to read.
              conn.channel().read();
              tls.handshakeFuture()
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
   * Returns a connection whose exchange ended cleanly, or closes it when the pool is full, the
   * connection served its {@code requests}, or its node left the config.
   */
  public void release(UpstreamConnection c, Upstream.KeepalivePool settings) {
    c.detach();
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
