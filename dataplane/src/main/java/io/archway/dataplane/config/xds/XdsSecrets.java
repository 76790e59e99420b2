package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsTranslator.J;
import static io.archway.dataplane.config.xds.XdsTranslator.only;
import static io.archway.dataplane.config.xds.XdsTranslator.q;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Pems;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Map;

/**
 * SDS secrets: parsed and checked when they come ({@link #secret}: a certificate that does not
 * parse, or a key that is not the certificate's, NACKs), and joined into the model when the config
 * is assembled: the client certificate and authorities of a cluster's {@code tls}, the certificate
 * of a listener's {@code ssls} object.
 *
 * <p>A cluster or listener whose secrets have not come (or came as the other kind) is warming, as
 * in Envoy, without holding up the rest: the cluster's upstream has no nodes (503) and says which
 * secret it waits for in its {@code desc}; the filter chain's certificate is not served. Both
 * follow as soon as the secret comes. (The first config waits for every secret named.)
 */
final class XdsSecrets {

  private XdsSecrets() {}

  /** A secret: a certificate chain and its key, or the authorities to trust (PEM). */
  record SecretPem(String name, String cert, String key, String ca) {

    @Override
    public String toString() {
      return "SecretPem[" + name + "]"; // never the key
    }
  }

  // ------------------------------------------------------------------------------- secrets

  static SecretPem secret(Secret s) throws XdsException {
    var where = "secret " + q(s.getName());
    switch (s.getTypeCase()) {
      case TLS_CERTIFICATE -> {
        var pair = certificate(s.getTlsCertificate(), where + ": tls_certificate");
        return new SecretPem(s.getName(), pair[0], pair[1], null);
      }
      case VALIDATION_CONTEXT -> {
        var v = s.getValidationContext();
        var vw = where + ": validation_context";
        only(v, vw, "trusted_ca");
        if (!v.hasTrustedCa()) {
          throw new XdsException(vw + ": trusted_ca: missing (expected: the authorities, PEM)");
        }
        return new SecretPem(s.getName(), null, null, authorities(v.getTrustedCa(), vw));
      }
      default ->
          throw new XdsException(
              where
                  + ": "
                  + (s.getTypeCase() == Secret.TypeCase.TYPE_NOT_SET
                      ? "empty"
                      : s.getTypeCase().name().toLowerCase(java.util.Locale.ROOT))
                  + " not supported (expected: tls_certificate or validation_context)");
    }
  }

  static String[] certificate(TlsCertificate c, String where) throws XdsException {
    if (c.hasPrivateKeyProvider()) {
      throw new XdsException(
          where + ": private_key_provider: not supported (expected: private_key, PEM)");
    }
    only(c, where, "certificate_chain", "private_key");
    if (!c.hasCertificateChain() || !c.hasPrivateKey()) {
      throw new XdsException(
          where + ": certificate_chain and private_key: missing (expected: both, PEM)");
    }
    var chain = text(c.getCertificateChain(), where + ": certificate_chain");
    var key = text(c.getPrivateKey(), where + ": private_key");
    try {
      var certs = Pems.certificates(chain);
      if (certs.isEmpty()) {
        throw new XdsException(where + ": certificate_chain: no certificate (expected: PEM)");
      }
      Pems.checkPair(certs.get(0), Pems.privateKey(key));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new XdsException(
          where + ": " + e.getMessage() + " (expected: a PEM chain and its key)");
    }
    return new String[] {chain, key};
  }

  static String authorities(DataSource ca, String where) throws XdsException {
    var pem = text(ca, where + ": trusted_ca");
    try {
      if (Pems.certificates(pem).isEmpty()) {
        throw new XdsException(where + ": trusted_ca: no certificate (expected: PEM)");
      }
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new XdsException(
          where + ": trusted_ca: " + e.getMessage() + " (expected: PEM certificates)");
    }
    return pem;
  }

  private static String text(DataSource d, String where) throws XdsException {
    return switch (d.getSpecifierCase()) {
      case INLINE_STRING -> d.getInlineString();
      case INLINE_BYTES -> d.getInlineBytes().toString(StandardCharsets.UTF_8);
      default ->
          throw new XdsException(
              where
                  + ": "
                  + d.getSpecifierCase().name().toLowerCase(java.util.Locale.ROOT)
                  + " not supported (expected: inline_string or inline_bytes)");
    };
  }

  /** Sets {@code up}'s {@code tls} from the cluster's TLS and the secrets, or marks it warming. */
  static void upstreamTls(ObjectNode up, XdsTls.UpstreamTls tls, Map<String, SecretPem> secrets) {
    if (tls == null) {
      return;
    }
    var m = tls.material();
    var waiting = missing(m, secrets);
    if (waiting != null) {
      up.set("nodes", J.arrayNode());
      var desc = up.path("desc").asText() + " (warming: waiting for secret " + waiting + ")";
      up.put("desc", desc.length() > 256 ? desc.substring(0, 256) : desc);
      return;
    }
    var t = tls.tls().deepCopy();
    var cert = m.certificate(secrets);
    if (cert != null) {
      t.put("client_cert", cert[0]).put("client_key", cert[1]);
    }
    var ca = m.authorities(secrets);
    if (ca != null) {
      t.put("ca", ca);
    }
    up.set("tls", t);
  }

  /** The {@code ssls} object of a listener filter chain's TLS, or {@code null} while warming. */
  static ObjectNode ssl(XdsTls.ServerTls s, Map<String, SecretPem> secrets) {
    var m = s.material();
    if (missing(m, secrets) != null) {
      return null;
    }
    var ssl = J.objectNode().put("id", s.id());
    var snis = ssl.putArray("snis");
    s.snis().forEach(snis::add);
    var cert = m.certificate(secrets);
    ssl.put("cert", cert[0]).put("key", cert[1]);
    var ca = m.authorities(secrets);
    if (ca != null) {
      ssl.putObject("client").put("ca", ca);
    }
    return ssl;
  }

  /** The first secret the material names that has not come as the kind it needs, or null. */
  static String missing(XdsTls.Material m, Map<String, SecretPem> secrets) {
    if (m.certSecret() != null) {
      var s = secrets.get(m.certSecret());
      if (s == null || s.cert() == null) {
        return m.certSecret();
      }
    }
    if (m.caSecret() != null) {
      var s = secrets.get(m.caSecret());
      if (s == null || s.ca() == null) {
        return m.caSecret();
      }
    }
    return null;
  }
}
