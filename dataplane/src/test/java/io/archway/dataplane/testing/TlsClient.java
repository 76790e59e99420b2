package io.archway.dataplane.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * One HTTPS request on a new connection, with the handshake's details: a real TLS client (the
 * JDK's) with the SNI, protocols and signature schemes a test asks for.
 */
public final class TlsClient {

  /** What came back: the status code, the body, and what the handshake settled on. */
  public record Result(
      int status,
      String body,
      String subject,
      String serial,
      String protocol,
      String alpn,
      String keyType) {}

  private final SSLContext context;
  private String[] protocols;
  private String[] signatureSchemes;
  private List<String> alpn;
  private boolean resume;

  public TlsClient(SSLContext context) {
    this.context = context;
  }

  public TlsClient protocols(String... protocols) {
    this.protocols = protocols;
    return this;
  }

  /**
   * Offers only these signature schemes (e.g. {@code ecdsa_secp256r1_sha256}, {@code
   * rsa_pss_rsae_sha256}).
   */
  public TlsClient signatureSchemes(String... schemes) {
    this.signatureSchemes = schemes;
    return this;
  }

  /** Offers the last session for resumption instead of a full handshake each time. */
  public TlsClient resume() {
    this.resume = true;
    return this;
  }

  public TlsClient alpn(String... protocols) {
    this.alpn = List.of(protocols);
    return this;
  }

  /** GET {@code path} on {@code port} with {@code sni} ({@code null}: none sent). */
  public Result get(int port, String sni, String path) throws Exception {
    if (!resume) {
      var sessions = context.getClientSessionContext();
      for (var ids = sessions.getIds(); ids.hasMoreElements(); ) {
        var session = sessions.getSession(ids.nextElement());
        if (session != null) {
          session.invalidate();
        }
      }
    }
    try (var socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      var params = socket.getSSLParameters();
      params.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
      if (protocols != null) {
        params.setProtocols(protocols);
      }
      if (signatureSchemes != null) {
        params.setSignatureSchemes(signatureSchemes);
      }
      if (alpn != null) {
        params.setApplicationProtocols(alpn.toArray(String[]::new));
      }
      socket.setSSLParameters(params);
      socket.startHandshake();
      var session = socket.getSession();
      var leaf = (X509Certificate) session.getPeerCertificates()[0];
      var out = socket.getOutputStream();
      out.write(
          ("GET "
                  + path
                  + " HTTP/1.1\r\nHost: "
                  + (sni == null ? "127.0.0.1" : sni)
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      var bytes = new ByteArrayOutputStream();
      socket.getInputStream().transferTo(bytes);
      var text = bytes.toString(StandardCharsets.UTF_8);
      int status = Integer.parseInt(text.substring(9, 12));
      int split = text.indexOf("\r\n\r\n");
      return new Result(
          status,
          split < 0 ? "" : text.substring(split + 4),
          leaf.getSubjectX500Principal().getName(),
          leaf.getSerialNumber().toString(16),
          session.getProtocol(),
          socket.getApplicationProtocol(),
          leaf.getPublicKey().getAlgorithm());
    }
  }
}
