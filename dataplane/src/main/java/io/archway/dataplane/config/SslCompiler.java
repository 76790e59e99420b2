package io.archway.dataplane.config;

import io.archway.dataplane.tls.CertificateCompiler;
import io.archway.dataplane.tls.ServerCertificates;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Ssl;
import io.archway.model.Upstream;
import io.archway.model.source.ConfigItem;
import java.util.Map;

/**
 * SSL objects ({@code ssls}), used two ways: as the certificates the HTTPS listeners serve by SNI
 * ({@link CertificateCompiler}, incremental on its own), and as the client certificate an upstream
 * names with {@code tls.client_cert_id}.
 */
final class SslCompiler {

  private final CertificateCompiler certificates;

  SslCompiler(CertificateCompiler certificates) {
    this.certificates = certificates;
  }

  /** The certificates served; objects that cannot be are counted (and logged by the compiler). */
  ServerCertificates compile(Map<String, ConfigItem> ssls, Rejections rejections) {
    var bad = new int[1];
    var served = certificates.compile(ssls, bad);
    if (bad[0] > 0) {
      rejections.count(Kind.SSLS, bad[0]);
    }
    return served;
  }

  /**
   * Upstreams whose {@code tls.client_cert_id} names an {@code ssls} object get its certificate and
   * key inline, so the connection pools need nothing else.
   */
  static void clientCertificates(Map<String, Upstream> wanted, Map<String, ConfigItem> ssls) {
    for (var e : wanted.entrySet()) {
      var tls = e.getValue().tls();
      if (tls == null || tls.clientCertId() == null) {
        continue;
      }
      var item = ssls.get(tls.clientCertId());
      if (item == null) {
        Rejections.log.warn(
            "{}: tls.client_cert_id: {} not found; connecting without a client certificate",
            e.getKey(),
            Keys.item(Kind.SSLS, tls.clientCertId()));
        continue;
      }
      var ssl = (Ssl) item.value();
      e.setValue(e.getValue().withTls(tls.withClientCertificate(ssl.cert(), ssl.key())));
    }
  }
}
