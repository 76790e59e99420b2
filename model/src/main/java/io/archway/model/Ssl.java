package io.archway.model;

import java.util.List;
import java.util.Map;

/**
 * A certificate and key served for the names in {@code sni}/{@code snis}, with extra pairs in
 * {@code certs}/{@code keys} (an RSA and an ECDSA pair for the same names) and optional client
 * verification (mTLS). {@code type: client} marks a certificate used towards upstreams.
 */
public record Ssl(
    String id,
    String cert,
    String key,
    List<String> certs,
    List<String> keys,
    String sni,
    List<String> snis,
    Client client,
    String type,
    Integer status,
    List<String> sslProtocols,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  @Override
  public String toString() {
    // Never print the private keys.
    return "Ssl[id=" + id + ", sni=" + sni + ", snis=" + snis + ", type=" + type + "]";
  }

  static Ssl read(Fields f, String path) {
    var ssl =
        new Ssl(
            f.id("id"),
            f.requiredString("cert", Pem.CERTIFICATE),
            f.has("key") ? f.secret("key", Pem.PRIVATE_KEY) : f.requiredString("key"),
            f.strings("certs", 1, false, Pem.CERTIFICATE),
            secrets(f, "keys"),
            f.string("sni", Fields.Check.length(1, 253), Addresses.HOST_NAME),
            f.strings("snis", 1, true, Fields.Check.length(1, 253), Addresses.HOST_NAME),
            f.child("client", Client::read),
            f.string("type", Fields.Check.oneOf("server", "client")),
            f.integer("status", 0, 1),
            f.strings(
                "ssl_protocols", 1, true, Fields.Check.oneOf("TLSv1.1", "TLSv1.2", "TLSv1.3")),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    if (!"client".equals(ssl.type)) {
      f.exactlyOne("sni", "snis");
    }
    int certs = ssl.certs == null ? 0 : ssl.certs.size();
    int keys = ssl.keys == null ? 0 : ssl.keys.size();
    if (certs != keys && ssl.certs != null && ssl.keys != null) {
      f.problem("certs has " + certs + " item(s), keys " + keys + " (expected: one key per cert)");
    } else if (f.has("certs") != f.has("keys")) {
      f.problem("certs and keys go together (expected: both or neither)");
    }
    return ssl;
  }

  private static List<String> secrets(Fields f, String name) {
    var v = f.raw(name);
    if (v == null) {
      return null;
    }
    if (!v.isArray() || v.isEmpty()) {
      f.problem(name, "not a non-empty array (expected: array of PEM private keys)");
      return null;
    }
    var out = new java.util.ArrayList<String>();
    for (int i = 0; i < v.size(); i++) {
      var item = v.get(i);
      var bad = item.isTextual() ? Pem.PRIVATE_KEY.test(item.textValue()) : "string";
      if (bad != null) {
        f.problem(
            name + "[" + i + "]",
            "value of " + item.toString().length() + " characters (expected: " + bad + ")");
        return null;
      }
      out.add(item.textValue());
    }
    return List.copyOf(out);
  }

  /** Client certificate verification: the CA, chain depth, and URIs exempt from it. */
  public record Client(String ca, Integer depth, List<String> skipMtlsUriRegex) {

    static Client read(Fields f, String path) {
      return new Client(
          f.requiredString("ca", Pem.CERTIFICATE),
          f.integer("depth", 0, 64),
          f.strings("skip_mtls_uri_regex", 1, true, Regexes.VALID));
    }
  }
}
