package io.archway.dataplane.plugins;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 with the JDK's HMAC-SHA256, for the requests the AI moderation plugins
 * send to AWS Comprehend: the canonical request (method, path, query, the signed header fields
 * lower-cased and sorted, the body's SHA-256), the string to sign and the derived signing key, as
 * AWS's documentation gives them (checked against its published example in the tests).
 */
final class SigV4 {

  private SigV4() {}

  static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /**
   * The {@code Authorization} field value.
   *
   * @param headers the fields to sign (names in any case; {@code host} and {@code x-amz-date} among
   *     them)
   * @param query the canonical query string (already encoded and sorted), or ""
   */
  static String authorization(
      String method,
      String path,
      String query,
      Map<String, String> headers,
      byte[] body,
      String accessKey,
      String secretKey,
      String region,
      String service,
      ZonedDateTime at) {
    var sorted = new TreeMap<String, String>();
    headers.forEach((k, v) -> sorted.put(k.toLowerCase(java.util.Locale.ROOT), v.strip()));
    var canonicalHeaders = new StringBuilder();
    sorted.forEach((k, v) -> canonicalHeaders.append(k).append(':').append(v).append('\n'));
    var signedHeaders = String.join(";", sorted.keySet());
    var canonical =
        method
            + "\n"
            + path
            + "\n"
            + query
            + "\n"
            + canonicalHeaders
            + "\n"
            + signedHeaders
            + "\n"
            + hex(sha256(body));
    var amzDate = AMZ_DATE.format(at);
    var date = amzDate.substring(0, 8);
    var scope = date + "/" + region + "/" + service + "/aws4_request";
    var toSign =
        "AWS4-HMAC-SHA256\n"
            + amzDate
            + "\n"
            + scope
            + "\n"
            + hex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
    var signature = hex(hmac(signingKey(secretKey, date, region, service), toSign));
    return "AWS4-HMAC-SHA256 Credential="
        + accessKey
        + "/"
        + scope
        + ", SignedHeaders="
        + signedHeaders
        + ", Signature="
        + signature;
  }

  static byte[] signingKey(String secretKey, String date, String region, String service) {
    var k = hmac(("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8), date);
    k = hmac(k, region);
    k = hmac(k, service);
    return hmac(k, "aws4_request");
  }

  static byte[] hmac(byte[] key, String data) {
    try {
      var mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
