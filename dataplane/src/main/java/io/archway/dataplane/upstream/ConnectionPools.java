package io.archway.dataplane.upstream;

import io.archway.dataplane.support.EarliestTimer;
import io.archway.dataplane.support.LoopThread;
import io.archway.dataplane.support.Transport;
import io.archway.model.Pems;
import io.archway.model.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.internal.tcnative.SSL;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SNIHostName;
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
  // TLS client contexts by settings and ALPN (h2 alone, or the settings' own), made when the config
  // that needs them is compiled (prepare, on the config thread), never at start: a dataplane with
  // no TLS upstream makes none. A value is the context or the SSLException of a set that cannot be
  // built, kept so that a bad certificate is not parsed again per connection.
  private final Map<ContextKey, Object> contexts = new ConcurrentHashMap<>();
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

  /** HTTP/2 nodes only speak h2 after ALPN chose it: offered alone, and required. */
  public static SslContextBuilder alpnH2(SslContextBuilder b) {
    return b.applicationProtocolConfig(
        new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2));
  }

  /** The HTTP/2 connections to nodes ({@code scheme: grpc}, {@code grpcs}). */
  public H2Links h2() {
    return h2;
  }

  private record ContextKey(Endpoint.TlsOptions options, boolean h2) {}

  /** The TLS client context towards nodes: verifying certificates, or trusting any. */
  SslContext sslContext(boolean verify) {
    try {
      return sslContext(
          verify ? Endpoint.TlsOptions.VERIFYING : Endpoint.TlsOptions.TRUSTING, false);
    } catch (SSLException e) {
      throw new IllegalStateException("TLS client set-up failed", e);
    }
  }

  /**
   * The TLS client context for {@code options}: made once per distinct set (a client certificate,
   * authorities) and shared by every node that uses it.
   */
  SslContext sslContext(Endpoint.TlsOptions options) throws SSLException {
    return sslContext(options, false);
  }

  /**
   * As {@link #sslContext(Endpoint.TlsOptions)}; with {@code h2}, offering only h2 by ALPN. Made
   * here only when {@link #prepare} has not made it (a caller outside the compiled upstreams).
   */
  SslContext sslContext(Endpoint.TlsOptions options, boolean h2) throws SSLException {
    // Built outside the map: computeIfAbsent would hold its bucket's lock through OpenSSL's set-up,
    // and an event loop looking up another context of that bucket would wait for it.
    var key = new ContextKey(options, h2);
    var made = contexts.get(key);
    if (made == null) {
      var built = build(key);
      made = contexts.putIfAbsent(key, built);
      if (made == null) {
        made = built;
      }
    }
    if (made instanceof SslContext c) {
      return c;
    }
    throw (SSLException) made;
  }

  /**
   * Makes the TLS client contexts {@code endpoints} connect with, on the calling thread (the
   * config's, as the upstreams are compiled), so that no event loop makes one on a first
   * connection; settings that cannot be made are checked here, at compile time.
   *
   * @return why the contexts of settings that cannot be made are missing, empty when none
   */
  Optional<String> prepare(Iterable<Endpoint> endpoints) {
    String problem = null;
    for (var e : endpoints) {
      if (e.tls()) {
        try {
          sslContext(e.options(), e.h2());
        } catch (SSLException x) {
          problem = x.getMessage();
        }
      }
    }
    return Optional.ofNullable(problem);
  }

  /** Whether a context for these settings is made (for tests). */
  boolean made(Endpoint.TlsOptions options, boolean h2) {
    return contexts.get(new ContextKey(options, h2)) instanceof SslContext;
  }

  /**
   * A context, or the reason there is none (kept, so a bad certificate is not retried per call).
   */
  private static Object build(ContextKey wanted) {
    var options = wanted.options();
    var h2 = wanted.h2();
    try {
      var b = SslContextBuilder.forClient();
      if (h2) {
        alpnH2(b);
      } else if (options.alpn() != null) {
        b.applicationProtocolConfig(
            new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                options.alpn()));
      }
      if (!options.verify()) {
        b.trustManager(InsecureTrustManagerFactory.INSTANCE);
      } else if (options.sans() != null) {
        b.trustManager(
            new SubjectAltNameTrust(
                options.ca() == null ? null : Pems.certificates(options.ca()), options.sans()));
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
      return new SSLException("upstream TLS settings: " + e.getMessage());
    }
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
                        ch.pipeline().addLast("tls", tlsHandler(ch, ep, timeoutMillis));
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
   * The TLS client handler towards node {@code n} of {@code upstream} (a TLS upstream): for the
   * stream proxy's {@code scheme: tls}, with the same contexts, server name and verification as
   * HTTPS to nodes.
   */
  public SslHandler tlsHandler(Channel ch, UpstreamRuntime upstream, NodeState n)
      throws SSLException {
    return tlsHandler(ch, upstream.endpoint(n), upstream.connectTimeoutMillis());
  }

  /**
   * The TLS client handler towards {@code ep}: its server name, verification and handshake time.
   */
  SslHandler tlsHandler(Channel ch, Endpoint ep, long timeoutMillis) throws SSLException {
    var ctx = sslContext(ep.options(), ep.h2());
    var handler =
        ep.sni() == null
            ? ctx.newHandler(ch.alloc(), ep.host(), ep.port())
            : ctx.newHandler(ch.alloc(), ep.sni(), ep.port());
    if (ep.verifyHostName()) {
      var params = handler.engine().getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      handler.engine().setSSLParameters(params);
    }
    if (ep.sni() != null
        && !jdkHostName(ep.sni())
        && handler.engine() instanceof ReferenceCountedOpenSslEngine openSsl) {
      // Istio's names (outbound_.9080_._.reviews…) hold underscores, which Netty's and the JDK's
      // host name rules leave out of the SNI; Envoy sends them, and so does OpenSSL when asked.
      SSL.setTlsExtHostName(openSsl.sslPointer(), ep.sni());
    }
    handler.setHandshakeTimeoutMillis(timeoutMillis);
    return handler;
  }

  private static boolean jdkHostName(String name) {
    try {
      new SNIHostName(name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
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
    var options = new java.util.HashSet<Endpoint.TlsOptions>();
    live.forEach(e -> options.add(e.options()));
    // The two shared ones (health checks use them too) stay.
    options.add(Endpoint.TlsOptions.TRUSTING);
    options.add(Endpoint.TlsOptions.VERIFYING);
    contexts.keySet().removeIf(k -> !options.contains(k.options()));
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
