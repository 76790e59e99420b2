package io.archway.dataplane.upstream;

import io.archway.model.Upstream;
import java.util.List;

/**
 * Where a pooled connection goes: connections are shared by every upstream that names the same node
 * with the same TLS settings, so they survive a reload that changes something else.
 *
 * @param sni the TLS server name, or {@code null} (plain HTTP, or an IP address)
 * @param options how TLS goes (verification, client certificate), or {@code null} for plain HTTP
 * @param h2 HTTP/2 to the node ({@code scheme: grpc}, {@code grpcs}): streams on shared connections
 *     ({@link H2Links}) instead of one request per pooled connection
 */
record Endpoint(String host, int port, boolean tls, String sni, TlsOptions options, boolean h2) {

  // Looked up in the pools two or three times per request: the host's (cached) hash and the port
  // tell endpoints apart well enough, without hashing the TLS options' certificates and lists.
  @Override
  public int hashCode() {
    return (31 * host.hashCode() + port) * 2 + (tls ? 1 : 0);
  }

  boolean verify() {
    return options != null && options.verify();
  }

  /** Whether the node's name is checked against the host (not when names to match are given). */
  boolean verifyHostName() {
    return verify() && options.sans() == null;
  }

  /**
   * TLS towards a node: verify its certificate (against {@code ca}, or the JVM's authorities; one
   * of {@code sans} in place of its name when they are given), show a client certificate when one
   * is given (PEM), and offer {@code alpn} (or the default protocols when {@code null}).
   */
  record TlsOptions(
      boolean verify,
      String clientCert,
      String clientKey,
      String ca,
      List<Upstream.SubjectAltName> sans,
      List<String> alpn) {

    static final TlsOptions TRUSTING = new TlsOptions(false, null, null, null, null, null);
    static final TlsOptions VERIFYING = new TlsOptions(true, null, null, null, null, null);

    TlsOptions(boolean verify, String clientCert, String clientKey, String ca) {
      this(verify, clientCert, clientKey, ca, null, null);
    }

    @Override
    public String toString() {
      // Never print the private key.
      return "TlsOptions[verify="
          + verify
          + ", client_cert="
          + (clientCert != null)
          + ", ca="
          + (ca != null)
          + ", sans="
          + sans
          + ", alpn="
          + alpn
          + "]";
    }
  }
}
