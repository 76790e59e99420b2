package io.archway.operator.translate;

import io.archway.crds.apisix.ApisixTls;
import java.util.Map;

/**
 * An ApisixTls as {@code ssls/tls_<namespace>_<name>}: its hosts as SNIs, the certificate and key
 * from its Secret, and the client authorities from {@code client.caSecret} for mTLS. The Secrets
 * are read at every reconcile, so a rotated certificate reaches the dataplanes as soon as the
 * Secret changes.
 */
public final class ApisixTlsTranslator {

  private ApisixTlsTranslator() {}

  public static String id(String ns, String name) {
    return Ids.of("tls", ns, name);
  }

  public static Translation translate(ApisixTls r, Refs refs) {
    var t = new Translation();
    var ns = r.getMetadata().getNamespace();
    var spec = r.getSpec();
    if (spec == null) {
      t.error("spec", "missing (expected: hosts and secret)");
      return t;
    }
    if (spec.hosts == null || spec.hosts.isEmpty()) {
      t.error("spec.hosts", "missing (expected: at least one host name)");
    }
    if (spec.secret == null) {
      t.error("spec.secret", "missing (expected: the Secret with the certificate)");
      return t;
    }
    var secretNs = spec.secret.namespace == null ? ns : spec.secret.namespace;
    var pair = TlsSecrets.pair(refs, secretNs, spec.secret.name, "spec.secret", t);
    String ca = null;
    if (spec.client != null) {
      if (spec.client.caSecret == null) {
        t.error("spec.client.caSecret", "missing (expected: the Secret with the CA certificates)");
      } else {
        var caNs = spec.client.caSecret.namespace == null ? ns : spec.client.caSecret.namespace;
        ca =
            TlsSecrets.authorities(
                refs, caNs, spec.client.caSecret.name, "spec.client.caSecret", t);
      }
    }
    if (!t.ok() || pair == null) {
      return t;
    }
    TlsSecrets.ssl(
        id(ns, r.getMetadata().getName()),
        spec.hosts,
        pair,
        ca,
        // 0 is the controller's unset value (omitempty there): the default depth.
        spec.client == null || Integer.valueOf(0).equals(spec.client.depth)
            ? null
            : spec.client.depth,
        spec.client == null ? null : spec.client.skipMtlsUriRegex,
        Map.of(
            "snis",
            "spec.hosts",
            "client.depth",
            "spec.client.depth",
            "client.skip_mtls_uri_regex",
            "spec.client.skip_mtls_uri_regex"),
        "spec",
        t);
    return t;
  }
}
