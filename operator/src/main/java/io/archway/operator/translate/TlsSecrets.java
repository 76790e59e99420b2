package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.archway.model.Pems;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Certificates and keys from Secrets, checked before they reach etcd: {@code kubernetes.io/tls}
 * Secrets ({@code tls.crt}, {@code tls.key}, {@code ca.crt}), or the APISIX Ingress Controller's
 * generic ones ({@code cert}, {@code key}). Problems name the Secret and the key, never a value:
 * private keys appear in no status, event or log.
 */
final class TlsSecrets {

  private TlsSecrets() {}

  /** A certificate chain and its private key, PEM. */
  record Pair(String cert, String key) {}

  /**
   * The certificate and key of Secret {@code ns/name}, checked (PEM, the key is the certificate's);
   * {@code null} after an error on {@code at}. An expired certificate is a warning: it is served
   * (browsers warn; a lapsed renewal should not take a site down) until replaced.
   */
  static Pair pair(Refs refs, String ns, String name, String at, Translation t) {
    var secret = secret(refs, ns, name, at, t);
    return secret == null ? null : pair(secret, ns, name, at, t);
  }

  /** As {@link #pair(Refs, String, String, String, Translation)}, of a Secret already read. */
  static Pair pair(Secret secret, String ns, String name, String at, Translation t) {
    var cert = data(secret, "tls.crt", "cert");
    var key = data(secret, "tls.key", "key");
    if (cert == null || key == null) {
      t.error(
          at,
          "Secret "
              + ns
              + "/"
              + name
              + " has no "
              + (cert == null ? "tls.crt" : "tls.key")
              + " (expected: a kubernetes.io/tls Secret, or keys cert and key)");
      return null;
    }
    try {
      var chain = Pems.certificates(cert);
      java.security.PrivateKey privateKey;
      try {
        privateKey = Pems.privateKey(key);
      } catch (GeneralSecurityException e) {
        t.error(at, "Secret " + ns + "/" + name + ": tls.key: " + e.getMessage());
        return null;
      }
      Pems.checkPair(chain.get(0), privateKey);
      var notAfter = chain.get(0).getNotAfter().toInstant();
      if (notAfter.isBefore(Instant.now())) {
        t.warn(
            "CertificateExpired",
            "Secret "
                + ns
                + "/"
                + name
                + ": certificate expired at "
                + notAfter
                + "; served until it is replaced");
      }
    } catch (GeneralSecurityException e) {
      t.error(at, "Secret " + ns + "/" + name + ": " + e.getMessage());
      return null;
    }
    return new Pair(cert, key);
  }

  /** The authorities' certificates in Secret {@code ns/name}; {@code null} after an error. */
  static String authorities(Refs refs, String ns, String name, String at, Translation t) {
    var secret = secret(refs, ns, name, at, t);
    if (secret == null) {
      return null;
    }
    var ca = data(secret, "ca.crt", "cert", "tls.crt");
    if (ca == null) {
      t.error(at, "Secret " + ns + "/" + name + " has no ca.crt (expected: the CA certificates)");
      return null;
    }
    try {
      Pems.certificates(ca);
    } catch (GeneralSecurityException e) {
      t.error(at, "Secret " + ns + "/" + name + ": ca.crt: " + e.getMessage());
      return null;
    }
    return ca;
  }

  /**
   * An {@code ssls} object for {@code hosts} with {@code pair}, and client verification when {@code
   * ca} is given; {@code null} after an error.
   */
  static ObjectNode ssl(
      String id,
      List<String> hosts,
      Pair pair,
      String ca,
      Integer depth,
      List<String> skip,
      Map<String, String> fields,
      String at,
      Translation t) {
    var ssl = JsonNodeFactory.instance.objectNode();
    ssl.put("id", id);
    var snis = ssl.putArray("snis");
    hosts.forEach(snis::add);
    ssl.put("cert", pair.cert());
    ssl.put("key", pair.key());
    if (ca != null) {
      var client = ssl.putObject("client");
      client.put("ca", ca);
      if (depth != null) {
        client.put("depth", depth);
      }
      if (skip != null && !skip.isEmpty()) {
        var list = client.putArray("skip_mtls_uri_regex");
        skip.forEach(list::add);
      }
    }
    var obj = ModelObjects.read(Kind.SSLS, ssl, fields, at, t);
    if (obj == null) {
      return null;
    }
    t.add(Kind.SSLS, obj);
    return ssl;
  }

  static Secret secret(Refs refs, String ns, String name, String at, Translation t) {
    if (name == null || name.isEmpty()) {
      t.error(at, "missing (expected: a Secret name)");
      return null;
    }
    var s = refs.secret(ns, name);
    if (s.isEmpty()) {
      t.error(at, "Secret " + ns + "/" + name + " not found");
      return null;
    }
    return s.get();
  }

  /** The first of {@code keys} the Secret holds, decoded; {@code null} when none. */
  static String data(Secret s, String... keys) {
    for (var k : keys) {
      if (s.getStringData() != null && s.getStringData().get(k) != null) {
        return s.getStringData().get(k);
      }
      if (s.getData() != null && s.getData().get(k) != null) {
        return new String(
            Base64.getMimeDecoder().decode(s.getData().get(k)), StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
