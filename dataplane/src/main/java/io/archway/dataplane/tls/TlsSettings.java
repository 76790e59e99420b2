package io.archway.dataplane.tls;

import java.time.Duration;
import java.util.List;

/**
 * The HTTPS listener's TLS: what the settings file's {@code tls:} block and {@code --https-port}
 * say.
 *
 * @param protocols the protocol versions offered ({@code TLSv1.2}, {@code TLSv1.3})
 * @param ciphers cipher suites in order of preference (OpenSSL or IANA names as the provider takes
 *     them); empty: the provider's secure defaults
 * @param fallbackSni the name whose certificate answers a handshake with no SNI or one that no
 *     certificate covers; {@code null}: the certificate of the first {@code ssls} object by id
 * @param rejectUnknownSni refuse such handshakes instead (an {@code unrecognized_name} alert)
 * @param provider {@code auto} (OpenSSL/BoringSSL through netty-tcnative when it loads, else the
 *     JDK's), {@code openssl} or {@code jdk}
 * @param redirectPort the HTTPS port clients are sent to by {@code redirect: {http_to_https}}: the
 *     port they see (443 behind a Service), not the one the dataplane listens on
 * @param handshakeTimeout how long a client may take to complete its handshake
 */
public record TlsSettings(
    List<String> protocols,
    List<String> ciphers,
    String fallbackSni,
    boolean rejectUnknownSni,
    String provider,
    int redirectPort,
    Duration handshakeTimeout) {

  public static final TlsSettings DEFAULTS =
      new TlsSettings(
          List.of("TLSv1.2", "TLSv1.3"),
          List.of(),
          null,
          false,
          "auto",
          443,
          Duration.ofSeconds(10));

  public TlsSettings {
    protocols = List.copyOf(protocols);
    ciphers = List.copyOf(ciphers);
  }

  public TlsSettings withProtocols(List<String> protocols) {
    return new TlsSettings(
        protocols,
        ciphers,
        fallbackSni,
        rejectUnknownSni,
        provider,
        redirectPort,
        handshakeTimeout);
  }

  public TlsSettings withCiphers(List<String> ciphers) {
    return new TlsSettings(
        protocols,
        ciphers,
        fallbackSni,
        rejectUnknownSni,
        provider,
        redirectPort,
        handshakeTimeout);
  }

  public TlsSettings withFallbackSni(String fallbackSni) {
    return new TlsSettings(
        protocols,
        ciphers,
        fallbackSni,
        rejectUnknownSni,
        provider,
        redirectPort,
        handshakeTimeout);
  }

  public TlsSettings withRejectUnknownSni(boolean rejectUnknownSni) {
    return new TlsSettings(
        protocols,
        ciphers,
        fallbackSni,
        rejectUnknownSni,
        provider,
        redirectPort,
        handshakeTimeout);
  }

  public TlsSettings withProvider(String provider) {
    return new TlsSettings(
        protocols,
        ciphers,
        fallbackSni,
        rejectUnknownSni,
        provider,
        redirectPort,
        handshakeTimeout);
  }

  public TlsSettings withRedirectPort(int redirectPort) {
    return new TlsSettings(
        protocols,
        ciphers,
        fallbackSni,
        rejectUnknownSni,
        provider,
        redirectPort,
        handshakeTimeout);
  }

  public TlsSettings withHandshakeTimeout(Duration handshakeTimeout) {
    return new TlsSettings(
        protocols,
        ciphers,
        fallbackSni,
        rejectUnknownSni,
        provider,
        redirectPort,
        handshakeTimeout);
  }
}
