package io.archway.dataplane.tls;

import com.google.re2j.Pattern;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Pems;
import io.archway.model.Ssl;
import io.archway.model.UserRegex;
import io.archway.model.source.ConfigItem;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles the {@code ssls} objects into {@link ServerCertificates}, once per config change and
 * incrementally: an object whose item did not change keeps its compiled context (parsing keys and
 * building contexts is the expensive part). An object that cannot be served (malformed PEM, a key
 * that is not the certificate's, an unknown protocol or cipher) is left out alone, with a warning
 * naming it and the problem; every other name keeps being served.
 */
public final class CertificateCompiler {

  private static final Logger log = LoggerFactory.getLogger(CertificateCompiler.class);

  private final TlsSettings settings;
  private volatile SslProvider provider; // null until the first context: see provider()
  private final TlsMetrics metrics;
  private final List<String> alpn;
  private Map<String, Compiled> cache = Map.of();

  /** An object's compiled entry, or {@code null} when it is not served (a warning said why). */
  private record Compiled(ConfigItem item, ServerCertificates.Entry entry) {}

  public CertificateCompiler(TlsSettings settings, TlsMetrics metrics) {
    this(settings, metrics, List.of(ApplicationProtocolNames.HTTP_1_1));
  }

  /**
   * @param alpn the application protocols offered, in order of preference
   */
  public CertificateCompiler(TlsSettings settings, TlsMetrics metrics, List<String> alpn) {
    this.alpn = List.copyOf(alpn);
    this.settings = settings;
    this.metrics = metrics;
    if (!"auto".equals(settings.provider())) {
      // Asked for by name: a provider that does not load stops the start.
      provider();
    }
  }

  /**
   * The provider, chosen the first time a context is made (on the config thread), not at start:
   * loading netty-tcnative and setting OpenSSL up takes seconds on a busy machine, which a
   * dataplane with no {@code ssls} object never needs.
   */
  private SslProvider provider() {
    var p = provider;
    if (p == null) {
      synchronized (this) {
        p = provider;
        if (p == null) {
          p = provider(settings.provider());
          log.info(
              "TLS: {} ({})",
              p == SslProvider.OPENSSL ? "OpenSSL" : "JDK",
              p == SslProvider.OPENSSL
                  ? OpenSsl.versionString()
                  : System.getProperty("java.vm.version"));
          provider = p;
        }
      }
    }
    return p;
  }

  private static SslProvider provider(String wanted) {
    return switch (wanted) {
      case "jdk" -> SslProvider.JDK;
      case "openssl" -> {
        if (!OpenSsl.isAvailable()) {
          throw new IllegalStateException(
              "tls.provider: openssl, but netty-tcnative does not load here: "
                  + OpenSsl.unavailabilityCause());
        }
        yield SslProvider.OPENSSL;
      }
      default -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    };
  }

  /**
   * The certificates of {@code items} ({@code ssls} by id); {@code rejected} counts the objects
   * left out.
   */
  public synchronized ServerCertificates compile(Map<String, ConfigItem> items, int[] rejected) {
    var next = new HashMap<String, Compiled>(items.size() * 2);
    var served = new TreeMap<String, ServerCertificates.Entry>();
    for (var e : items.entrySet()) {
      var id = e.getKey();
      var item = e.getValue();
      var ssl = (Ssl) item.value();
      if ("client".equals(ssl.type()) || Integer.valueOf(0).equals(ssl.status())) {
        continue; // towards upstreams, or switched off
      }
      var before = cache.get(id);
      var compiled = before != null && before.item == item ? before : compile(id, item, ssl);
      next.put(id, compiled);
      if (compiled.entry != null) {
        served.put(id, compiled.entry);
      } else {
        rejected[0]++;
      }
    }
    cache = next;
    var exact = new HashMap<String, ServerCertificates.Entry>();
    var wildcard = new HashMap<String, ServerCertificates.Entry>();
    var now = Instant.now();
    int expired = 0;
    // In id order, so that when two objects claim a name the first one keeps it, every time.
    for (var entry : served.values()) {
      for (var name : entry.names()) {
        var map = name.startsWith("*.") ? wildcard : exact;
        var key = name.startsWith("*.") ? name.substring(2) : name;
        var had = map.putIfAbsent(key, entry);
        if (had != null && had != entry) {
          log.warn(
              "{}: {} is served by {} already",
              Keys.item(Kind.SSLS, entry.id()),
              name,
              Keys.item(Kind.SSLS, had.id()));
        }
      }
      if (entry.expired(now)) {
        expired++;
      }
    }
    ServerCertificates.Entry fallback = null;
    if (!settings.rejectUnknownSni()) {
      if (settings.fallbackSni() != null) {
        // The certificate a handshake asking for that name would get.
        fallback = new ServerCertificates(exact, wildcard, null).select(settings.fallbackSni());
      } else if (!served.isEmpty()) {
        fallback = served.firstEntry().getValue();
      }
    }
    metrics.certificates(served.values(), expired);
    return new ServerCertificates(exact, wildcard, fallback, served);
  }

  private Compiled compile(String id, ConfigItem item, Ssl ssl) {
    try {
      var entry = entry(id, ssl);
      if (entry.expired(Instant.now())) {
        // Served, so that a lapse in renewal degrades to browser warnings rather than an outage;
        // the metric and this line are for the alert that should have fired before.
        log.warn(
            "{}: certificate expired at {}; served until it is replaced",
            Keys.item(Kind.SSLS, id),
            entry.notAfter());
      }
      return new Compiled(item, entry);
    } catch (GeneralSecurityException | SSLException | IllegalArgumentException e) {
      log.warn("{}: not served: {}", Keys.item(Kind.SSLS, id), e.getMessage());
      return new Compiled(item, null);
    }
  }

  private ServerCertificates.Entry entry(String id, Ssl ssl)
      throws GeneralSecurityException, SSLException {
    var certs = new ArrayList<String>();
    var keys = new ArrayList<String>();
    certs.add(resolve("cert", ssl.cert()));
    keys.add(resolve("key", ssl.key()));
    if (ssl.certs() != null) {
      for (int i = 0; i < ssl.certs().size(); i++) {
        certs.add(resolve("certs[" + i + "]", ssl.certs().get(i)));
        keys.add(resolve("keys[" + i + "]", ssl.keys().get(i)));
      }
    }
    var chains = new ArrayList<List<X509Certificate>>();
    var privateKeys = new ArrayList<PrivateKey>();
    for (int i = 0; i < certs.size(); i++) {
      var where = i == 0 ? "" : "certs[" + (i - 1) + "]: ";
      List<X509Certificate> chain;
      PrivateKey key;
      try {
        chain = Pems.certificates(certs.get(i));
      } catch (GeneralSecurityException e) {
        throw new GeneralSecurityException(where + (i == 0 ? "cert: " : "") + e.getMessage());
      }
      try {
        key = Pems.privateKey(keys.get(i));
      } catch (GeneralSecurityException e) {
        throw new GeneralSecurityException(
            (i == 0 ? "key: " : "keys[" + (i - 1) + "]: ") + e.getMessage());
      }
      try {
        Pems.checkPair(chain.get(0), key);
      } catch (GeneralSecurityException e) {
        throw new GeneralSecurityException(
            (i == 0 ? "cert and key: " : "certs[" + (i - 1) + "] and keys[" + (i - 1) + "]: ")
                + e.getMessage());
      }
      chains.add(chain);
      privateKeys.add(key);
    }
    boolean mtls = ssl.client() != null;
    List<Pattern> skip = List.of();
    List<X509Certificate> cas = List.of();
    int depth = 1;
    if (mtls) {
      var client = ssl.client();
      try {
        cas = Pems.certificates(resolve("client.ca", client.ca()));
      } catch (GeneralSecurityException e) {
        throw new GeneralSecurityException("client.ca: " + e.getMessage());
      }
      depth = client.depth() == null ? 1 : client.depth();
      skip =
          client.skipMtlsUriRegex() == null
              ? List.of()
              : UserRegex.compileAll("client.skip_mtls_uri_regex", client.skipMtlsUriRegex(), 0);
    }
    var protocols = ssl.sslProtocols() != null ? ssl.sslProtocols() : settings.protocols();
    // One context per key pair: with an RSA and an ECDSA pair for the same names, the handshake
    // takes the one the client's signature algorithms allow (BoringSSL holds one pair per
    // connection, so the choice is made here, from the ClientHello).
    var contexts = new ArrayList<ServerCertificates.Keyed>();
    for (int i = 0; i < chains.size(); i++) {
      var builder =
          SslContextBuilder.forServer(privateKeys.get(i), chains.get(i))
              .sslProvider(provider())
              .protocols(protocols)
              .ciphers(
                  settings.ciphers().isEmpty() ? null : settings.ciphers(),
                  SupportedCipherSuiteFilter.INSTANCE)
              .applicationProtocolConfig(
                  new ApplicationProtocolConfig(
                      ApplicationProtocolConfig.Protocol.ALPN,
                      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                      alpn));
      if (mtls) {
        builder
            .trustManager(new ClientCertificateTrust(cas, depth))
            .clientAuth(skip.isEmpty() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
      }
      SslContext context = builder.build();
      if (context.sessionContext() instanceof OpenSslServerSessionContext sessions) {
        // Resumption (session ids and TLS 1.3 tickets) with keys of this context alone, and a
        // session id context of its own: a session resumes only with the certificate it was
        // made with.
        sessions.setSessionIdContext(sessionIdContext(id, chains.get(i)));
        sessions.setTicketKeys(ticketKey());
      }
      contexts.add(new ServerCertificates.Keyed(privateKeys.get(i).getAlgorithm(), context));
    }
    var names = new ArrayList<String>();
    if (ssl.sni() != null) {
      names.add(ssl.sni().toLowerCase(Locale.ROOT));
    }
    if (ssl.snis() != null) {
      ssl.snis().forEach(n -> names.add(n.toLowerCase(Locale.ROOT)));
    }
    var notAfter = chains.get(0).get(0).getNotAfter().toInstant();
    for (var chain : chains) {
      var t = chain.get(0).getNotAfter().toInstant();
      if (t.isBefore(notAfter)) {
        notAfter = t;
      }
    }
    return new ServerCertificates.Entry(
        id, List.copyOf(contexts), List.copyOf(names), notAfter, mtls, skip);
  }

  /** 32 bytes naming the object and its certificate (OpenSSL's limit for the context). */
  private static byte[] sessionIdContext(String id, List<X509Certificate> chain)
      throws GeneralSecurityException {
    var digest = MessageDigest.getInstance("SHA-256");
    digest.update(id.getBytes(StandardCharsets.UTF_8));
    digest.update(chain.get(0).getEncoded());
    return digest.digest();
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  /** Fresh session ticket keys: name, HMAC key and AES key, 16 bytes each. */
  private static OpenSslSessionTicketKey ticketKey() {
    var name = new byte[16];
    var hmac = new byte[16];
    var aes = new byte[16];
    RANDOM.nextBytes(name);
    RANDOM.nextBytes(hmac);
    RANDOM.nextBytes(aes);
    return new OpenSslSessionTicketKey(name, hmac, aes);
  }

  /**
   * PEM text, or APISIX's {@code $env://NAME} reference to an environment variable holding it;
   * {@code $secret://} (a secret manager) is not supported here.
   */
  private static String resolve(String field, String value) throws GeneralSecurityException {
    if (value.startsWith("$env://")) {
      var name = value.substring("$env://".length());
      var v = System.getenv(name);
      if (v == null || v.isBlank()) {
        throw new GeneralSecurityException(
            field + ": environment variable " + name + " is not set (from " + value + ")");
      }
      return v;
    }
    if (value.startsWith("$secret://")) {
      throw new GeneralSecurityException(
          field
              + ": $secret:// references are not supported by this dataplane (expected: PEM text"
              + " or $env://NAME)");
    }
    return value;
  }
}
