package io.archway.dataplane.tls;

import com.google.re2j.Pattern;
import io.archway.model.UserRegex;
import io.netty.handler.ssl.SslContext;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The certificates the HTTPS listener serves, by server name: compiled from the {@code ssls}
 * objects once per config change ({@link CertificateCompiler}), immutable, and swapped whole with
 * the rest of the config, so a handshake uses one set from start to end and open connections keep
 * the certificate they were made with.
 *
 * <p>A name is looked up exactly first, then as a wildcard one label deep ({@code *.example.com}
 * covers {@code a.example.com}, not {@code example.com} nor {@code a.b.example.com}), then falls
 * back to the default certificate unless unknown names are refused.
 */
public final class ServerCertificates {

  /**
   * One {@code ssls} object ready to serve.
   *
   * @param id the object's id
   * @param contexts a TLS context per key pair (an RSA and an ECDSA pair may share names), each
   *     with the same protocols, ciphers and client verification
   * @param names the names it was configured for
   * @param notAfter when its (first) leaf certificate expires
   * @param clientCertificates whether clients must show a certificate (mTLS)
   * @param skipClientCertificates request paths exempt from mTLS ({@code skip_mtls_uri_regex}): the
   *     handshake asks for a certificate without requiring one, and requests outside these paths
   *     without one get 400
   */
  /** A TLS context holding one key pair, and the pair's key algorithm ({@code RSA}, {@code EC}). */
  record Keyed(String keyAlgorithm, SslContext context) {}

  public record Entry(
      String id,
      List<Keyed> contexts,
      List<String> names,
      Instant notAfter,
      boolean clientCertificates,
      List<Pattern> skipClientCertificates) {

    /**
     * The context for a client whose signature algorithms take ECDSA and/or RSA certificates: ECDSA
     * where both are possible (smaller, faster handshakes), else what the client takes.
     */
    SslContext context(boolean ecdsa, boolean rsa) {
      if (contexts.size() > 1) {
        for (var want : ecdsa ? new String[] {"EC", "RSA"} : new String[] {"RSA", "EC"}) {
          if (want.equals("RSA") && !rsa && ecdsa) {
            continue;
          }
          for (var k : contexts) {
            if (k.keyAlgorithm().equals(want)) {
              return k.context();
            }
          }
        }
      }
      return contexts.get(0).context();
    }

    boolean expired(Instant now) {
      return notAfter.isBefore(now);
    }

    /** Whether a request for {@code path} on a connection without a client certificate passes. */
    public boolean admits(String path) {
      if (!clientCertificates) {
        return true;
      }
      for (var p : skipClientCertificates) {
        if (UserRegex.find(p, path)) {
          return true;
        }
      }
      return false;
    }
  }

  public static final ServerCertificates EMPTY =
      new ServerCertificates(Map.of(), Map.of(), null, Map.of());

  private final Map<String, Entry> exact;
  private final Map<String, Entry> wildcard; // by the name without its "*."
  private final Entry fallback;
  private final Map<String, Entry> byId; // every entry served, by its object's id

  ServerCertificates(Map<String, Entry> exact, Map<String, Entry> wildcard, Entry fallback) {
    this(exact, wildcard, fallback, Map.of());
  }

  ServerCertificates(
      Map<String, Entry> exact,
      Map<String, Entry> wildcard,
      Entry fallback,
      Map<String, Entry> byId) {
    this.exact = Map.copyOf(exact);
    this.wildcard = Map.copyOf(wildcard);
    this.fallback = fallback;
    this.byId = Map.copyOf(byId);
  }

  /**
   * The certificates of the objects {@code ids} only, as a listener with {@code ssl_ids} serves
   * them: looked up by name among them alone, the first one (in {@code ids}' order) when none
   * answers. Ids not served (missing, or left out) are skipped. Built once per config change.
   */
  public ServerCertificates only(List<String> ids) {
    var ex = new java.util.HashMap<String, Entry>();
    var wild = new java.util.HashMap<String, Entry>();
    var kept = new java.util.LinkedHashMap<String, Entry>();
    for (var id : ids) {
      var e = byId.get(id);
      if (e == null || kept.containsKey(id)) {
        continue;
      }
      kept.put(id, e);
      for (var name : e.names()) {
        if (name.startsWith("*.")) {
          wild.putIfAbsent(name.substring(2), e);
        } else {
          ex.putIfAbsent(name, e);
        }
      }
    }
    var first = kept.isEmpty() ? null : kept.values().iterator().next();
    return new ServerCertificates(ex, wild, first, kept);
  }

  /** Whether the object {@code id} is served. */
  public boolean serves(String id) {
    return byId.containsKey(id);
  }

  /**
   * The certificate for a handshake that asked for {@code serverName} ({@code null}: no SNI), or
   * {@code null} when none answers it.
   */
  Entry select(String serverName) {
    if (serverName != null) {
      var name = serverName.toLowerCase(Locale.ROOT);
      if (name.endsWith(".")) {
        name = name.substring(0, name.length() - 1);
      }
      var e = exact.get(name);
      if (e != null) {
        return e;
      }
      int dot = name.indexOf('.');
      if (dot > 0) {
        e = wildcard.get(name.substring(dot + 1));
        if (e != null) {
          return e;
        }
      }
    }
    return fallback;
  }
}
