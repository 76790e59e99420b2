package io.archway.dataplane.tls;

import static io.archway.dataplane.support.Prometheus.escape;
import static io.archway.dataplane.support.Prometheus.head;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/** TLS handshakes and certificates for {@code /metrics}. */
public final class TlsMetrics {

  /** Why a TLS connection ended before its first request could be read. */
  enum Failure {
    /** Not TLS at all: plaintext HTTP or garbage on the TLS port. */
    not_tls,
    /** An SNI no certificate covers, with {@code tls.unknown_sni: reject} (or no certificates). */
    unknown_sni,
    /** The handshake failed: no common protocol or cipher, a bad or missing client certificate. */
    handshake,
    /** The client did not complete its handshake in time. */
    timeout
  }

  private final LongAdder handshakes = new LongAdder();
  private final LongAdder[] failures = new LongAdder[Failure.values().length];
  private volatile List<ServerCertificates.Entry> certificates = List.of();
  private volatile int expired;

  public TlsMetrics() {
    for (int i = 0; i < failures.length; i++) {
      failures[i] = new LongAdder();
    }
  }

  void handshake() {
    handshakes.increment();
  }

  void failed(Failure f) {
    failures[f.ordinal()].increment();
  }

  void certificates(Collection<ServerCertificates.Entry> served, int expiredNow) {
    certificates = List.copyOf(served);
    expired = expiredNow;
  }

  public void render(StringBuilder out) {
    head(out, "archway_tls_handshakes_total", "counter", "TLS handshakes completed.");
    out.append("archway_tls_handshakes_total ").append(handshakes.sum()).append('\n');
    head(
        out,
        "archway_tls_handshake_failures_total",
        "counter",
        "TLS connections closed before a request, by cause.");
    for (var f : Failure.values()) {
      out.append("archway_tls_handshake_failures_total{cause=\"")
          .append(f.name())
          .append("\"} ")
          .append(failures[f.ordinal()].sum())
          .append('\n');
    }
    var certs = certificates;
    head(out, "archway_tls_certificates", "gauge", "Server certificates (ssls objects) served.");
    out.append("archway_tls_certificates ").append(certs.size()).append('\n');
    head(
        out,
        "archway_tls_certificates_expired",
        "gauge",
        "Server certificates served although expired (as of the last config change).");
    out.append("archway_tls_certificates_expired ").append(expired).append('\n');
    head(
        out,
        "archway_tls_certificate_expiry_timestamp_seconds",
        "gauge",
        "When each served certificate expires (its earliest leaf), by ssls id.");
    for (var c : certs) {
      out.append("archway_tls_certificate_expiry_timestamp_seconds{ssl=\"")
          .append(escape(c.id()))
          .append("\"} ")
          .append(c.notAfter().getEpochSecond())
          .append('\n');
    }
  }
}
