package io.archway.dataplane.upstream;

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

  boolean verify() {
    return options != null && options.verify();
  }

  /**
   * TLS towards a node: verify its certificate (against {@code ca}, or the JVM's authorities), and
   * show a client certificate when one is given (PEM).
   */
  record TlsOptions(boolean verify, String clientCert, String clientKey, String ca) {

    static final TlsOptions TRUSTING = new TlsOptions(false, null, null, null);

    @Override
    public String toString() {
      // Never print the private key.
      return "TlsOptions[verify="
          + verify
          + ", client_cert="
          + (clientCert != null)
          + ", ca="
          + (ca != null)
          + "]";
    }
  }
}
