package io.archway.dataplane.upstream;

import io.archway.model.Pems;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.internal.tcnative.SSL;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;

/**
 * The TLS client contexts towards nodes, by settings and ALPN (h2 alone, or the settings' own):
 * made when the config that needs them is compiled ({@link #prepare}, on the config thread), never
 * at start (a dataplane with no TLS upstream makes none), shared by every node with the same
 * settings, and dropped with the last config that used them.
 */
public final class UpstreamTlsContexts {

  // A value is the context or the SSLException of a set that cannot be built, kept so that a bad
  // certificate is not parsed again per connection.
  private final Map<ContextKey, Object> contexts = new ConcurrentHashMap<>();

  /** HTTP/2 nodes only speak h2 after ALPN chose it: offered alone, and required. */
  public static SslContextBuilder alpnH2(SslContextBuilder b) {
    return offering(b, List.of(ApplicationProtocolNames.HTTP_2));
  }

  /** ALPN offering only {@code protocols}, and going on with what the node picks. */
  private static SslContextBuilder offering(SslContextBuilder b, List<String> protocols) {
    return b.applicationProtocolConfig(
        new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            protocols));
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
   * authorities) and shared by every node that uses it; with {@code h2}, offering only h2 by ALPN.
   * Made here only when {@link #prepare} has not made it (a caller outside the compiled upstreams).
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
        offering(b, options.alpn());
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

  /** Keeps the contexts of {@code endpoints}' settings and the two shared ones; drops the rest. */
  void retain(Set<Endpoint> endpoints) {
    var options = new HashSet<Endpoint.TlsOptions>();
    endpoints.forEach(e -> options.add(e.options()));
    // The two shared ones (health checks use them too) stay.
    options.add(Endpoint.TlsOptions.TRUSTING);
    options.add(Endpoint.TlsOptions.VERIFYING);
    contexts.keySet().removeIf(k -> !options.contains(k.options()));
  }

  /**
   * The TLS client handler towards {@code ep}: its server name, verification and handshake time.
   */
  SslHandler handler(Channel ch, Endpoint ep, long timeoutMillis) throws SSLException {
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
}
