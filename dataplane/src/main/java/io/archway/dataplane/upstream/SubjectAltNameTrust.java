package io.archway.dataplane.upstream;

import io.archway.model.Pems;
import io.archway.model.Upstream;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust in a node's certificate as Envoy's {@code match_subject_alt_names} gives it ({@code
 * tls.subject_alt_names}): the chain verified against the authorities ({@code tls.ca}, or the
 * JVM's), then one of the certificate's subject alternative names must match one of the names. The
 * node's name is not checked against the host: the names replace that check (Istio's SNI names a
 * cluster, its certificates carry SPIFFE URIs only).
 */
final class SubjectAltNameTrust extends X509ExtendedTrustManager {

  private final X509ExtendedTrustManager chain;
  private final List<Upstream.SubjectAltName> names;

  /**
   * @param authorities the authorities to trust, or {@code null} for the JVM's
   */
  SubjectAltNameTrust(List<X509Certificate> authorities, List<Upstream.SubjectAltName> names)
      throws GeneralSecurityException {
    this.chain = Pems.trustManager(authorities);
    this.names = List.copyOf(names);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] certs, String authType, SSLEngine engine)
      throws CertificateException {
    // Without the engine: the JDK's checks on it do not hold for OpenSSL's engine, and the host
    // name is not checked here anyway (the names replace that check).
    chain.checkServerTrusted(certs, authType);
    check(certs[0]);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] certs, String authType, Socket socket)
      throws CertificateException {
    chain.checkServerTrusted(certs, authType);
    check(certs[0]);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] certs, String authType)
      throws CertificateException {
    chain.checkServerTrusted(certs, authType);
    check(certs[0]);
  }

  /** Fails unless one of the certificate's names matches one of {@link #names}. */
  void check(X509Certificate leaf) throws CertificateException {
    var sans = subjectAltNames(leaf);
    for (var san : sans) {
      for (var n : names) {
        if (n.matches(san[0], san[1])) {
          return;
        }
      }
    }
    throw new CertificateException(
        "the node's certificate names "
            + (sans.isEmpty() ? "nothing" : sans.stream().map(s -> s[1]).toList())
            + " (expected: one of tls.subject_alt_names "
            + names.stream().map(n -> n.exact() != null ? n.exact() : n.prefix() + "*").toList()
            + ")");
  }

  /**
   * The certificate's names as {type, value}: type {@code uri}, {@code dns}, {@code email}, {@code
   * ip}.
   */
  static List<String[]> subjectAltNames(X509Certificate cert) throws CertificateParsingException {
    var all = cert.getSubjectAlternativeNames();
    if (all == null) {
      return List.of();
    }
    var out = new java.util.ArrayList<String[]>();
    for (var entry : all) {
      var type =
          switch ((Integer) entry.get(0)) {
            case 1 -> "email";
            case 2 -> "dns";
            case 6 -> "uri";
            case 7 -> "ip";
            default -> null;
          };
      if (type != null && entry.get(1) instanceof String value) {
        out.add(new String[] {type, value});
      }
    }
    return out;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] certs, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("a client-side trust manager");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] certs, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("a client-side trust manager");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] certs, String authType)
      throws CertificateException {
    throw new CertificateException("a client-side trust manager");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return chain.getAcceptedIssuers();
  }
}
