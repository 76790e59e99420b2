package io.archway.dataplane.testing;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.StringWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * Certificates for TLS tests, made in the test: authorities, server certificates for names (RSA or
 * EC, current or expired), client certificates, and their PEM text as {@code ssls} objects and
 * Kubernetes Secrets hold it.
 */
public final class Pki {

  private Pki() {}

  /** A root authority (EC). */
  public static X509Bundle authority(String name) throws Exception {
    return authority(name, false);
  }

  /** A root authority, signing with RSA when {@code rsa}. */
  public static X509Bundle authority(String name, boolean rsa) throws Exception {
    var b = new CertificateBuilder().subject("CN=" + name).setIsCertificateAuthority(true);
    return (rsa ? b.rsa2048() : b.ecp256()).buildSelfSigned();
  }

  /** An intermediate authority issued by {@code ca}. */
  public static X509Bundle intermediate(X509Bundle ca, String name) throws Exception {
    return new CertificateBuilder()
        .subject("CN=" + name)
        .setIsCertificateAuthority(true)
        .ecp256()
        .buildIssuedBy(ca);
  }

  /** A server certificate for {@code names} (the first is its CN), EC unless {@code rsa}. */
  public static X509Bundle server(X509Bundle ca, boolean rsa, String... names) throws Exception {
    return server(ca, rsa, Instant.now().plus(30, ChronoUnit.DAYS), names);
  }

  /** A server certificate for an IP address (as clients that dial 127.0.0.1 check it). */
  public static X509Bundle serverForIp(X509Bundle ca, String ip) throws Exception {
    return new CertificateBuilder()
        .subject("CN=" + ip)
        .addSanIpAddress(ip)
        .addExtendedKeyUsageServerAuth()
        .ecp256()
        .buildIssuedBy(ca);
  }

  /** A server certificate that expired yesterday. */
  public static X509Bundle expired(X509Bundle ca, String... names) throws Exception {
    return server(ca, false, Instant.now().minus(1, ChronoUnit.DAYS), names);
  }

  private static X509Bundle server(X509Bundle ca, boolean rsa, Instant notAfter, String... names)
      throws Exception {
    var b =
        new CertificateBuilder()
            .subject("CN=" + names[0])
            .notBefore(Instant.now().minus(2, ChronoUnit.DAYS))
            .notAfter(notAfter)
            .addExtendedKeyUsageServerAuth();
    for (var n : names) {
      if (!n.startsWith("*.")) { // the builder takes no wildcards; the CN carries them here
        b.addSanDnsName(n);
      }
    }
    return (rsa ? b.rsa2048() : b.ecp256()).buildIssuedBy(ca);
  }

  /** A client certificate for mTLS. */
  public static X509Bundle client(X509Bundle ca, String name) throws Exception {
    return new CertificateBuilder()
        .subject("CN=" + name)
        .addExtendedKeyUsageClientAuth()
        .ecp256()
        .buildIssuedBy(ca);
  }

  /**
   * A mesh workload's certificate as Istio's CA issues it: its SPIFFE identity as the only (URI)
   * name, for both ends of mutual TLS.
   */
  public static X509Bundle workload(X509Bundle ca, String spiffeId) throws Exception {
    return new CertificateBuilder()
        .subject("O=cluster.local")
        .addSanUriName(spiffeId)
        .addExtendedKeyUsageServerAuth()
        .addExtendedKeyUsageClientAuth()
        .ecp256()
        .buildIssuedBy(ca);
  }

  /** The certificate and the intermediates above it (not the root), PEM. */
  public static String chainPem(X509Bundle b) {
    var path = b.getCertificatePath();
    var out = new StringBuilder();
    for (var c : path) {
      if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
        out.append(pem("CERTIFICATE", encoded(c)));
      }
    }
    return out.length() == 0 ? b.getCertificatePEM() : out.toString();
  }

  /** The private key, PKCS#8 ({@code BEGIN PRIVATE KEY}). */
  public static String keyPem(X509Bundle b) {
    return b.getPrivateKeyPEM();
  }

  /** The private key as openssl and cert-manager write it: PKCS#1 for RSA, SEC1 for EC. */
  public static String traditionalKeyPem(X509Bundle b) throws Exception {
    var out = new StringWriter();
    try (var w = new JcaPEMWriter(out)) {
      w.writeObject(b.getKeyPair().getPrivate());
    }
    return out.toString();
  }

  /** A client's TLS context: trusting {@code trust}'s root, showing {@code identity} if given. */
  public static SSLContext clientContext(X509Bundle trust, X509Bundle identity) throws Exception {
    var tmf = trust.toTrustManagerFactory();
    KeyManagerFactory kmf = identity == null ? null : identity.toKeyManagerFactory();
    var ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  /** A client's TLS context trusting every certificate. */
  public static SSLContext trustingContext() throws Exception {
    var ctx = SSLContext.getInstance("TLS");
    ctx.init(
        null,
        io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE.getTrustManagers(),
        null);
    return ctx;
  }

  /** An {@code ssls} item in standalone YAML. */
  public static String ssl(String id, X509Bundle b, List<String> snis, String extra) {
    var out = new StringBuilder();
    out.append("  - id: ").append(id).append('\n');
    out.append("    snis: [").append(String.join(", ", quoted(snis))).append("]\n");
    out.append("    cert: ").append(yaml(chainPem(b))).append('\n');
    out.append("    key: ").append(yaml(keyPem(b))).append('\n');
    if (extra != null && !extra.isBlank()) {
      extra.lines().forEach(l -> out.append("    ").append(l).append('\n'));
    }
    return out.toString();
  }

  /** PEM text as a double-quoted YAML scalar. */
  public static String yaml(String pem) {
    return "\"" + pem.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + "\"";
  }

  private static List<String> quoted(List<String> names) {
    var out = new ArrayList<String>();
    names.forEach(n -> out.add("\"" + n + "\""));
    return out;
  }

  private static byte[] encoded(java.security.cert.X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
