package io.archway.dataplane.support;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 for one request: the headers to add ({@code X-Amz-Date}, {@code
 * X-Amz-Security-Token} with a session token, {@code Authorization}). {@code Host} is signed as
 * {@code host[:port]} of the URI, which is what an HTTP client sends.
 */
public final class SigV4 {

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();

  /** The credentials of one signer; {@code sessionToken} may be {@code null}. */
  public record Credentials(String accessKeyId, String secretAccessKey, String sessionToken) {
    @Override
    public String toString() {
      // Records print their fields; these are secrets.
      return "Credentials[" + accessKeyId + "]";
    }
  }

  private SigV4() {}

  /**
   * @param headers the request's other headers to sign (names in any case)
   * @return the headers to add to the request
   */
  public static Map<String, String> sign(
      String method,
      URI uri,
      Map<String, String> headers,
      byte[] payload,
      Credentials credentials,
      String region,
      String service,
      Instant now) {
    var amzDate = STAMP.format(now);
    var date = amzDate.substring(0, 8);
    var signed = new TreeMap<String, String>();
    headers.forEach((k, v) -> signed.put(k.toLowerCase(Locale.ROOT), v.strip()));
    signed.put("host", uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort());
    signed.put("x-amz-date", amzDate);
    if (credentials.sessionToken() != null) {
      signed.put("x-amz-security-token", credentials.sessionToken());
    }
    var canonicalHeaders = new StringBuilder();
    signed.forEach((k, v) -> canonicalHeaders.append(k).append(':').append(v).append('\n'));
    var signedHeaders = String.join(";", signed.keySet());
    var path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    var canonical =
        method
            + "\n"
            + path
            + "\n"
            + canonicalQuery(uri.getRawQuery())
            + "\n"
            + canonicalHeaders
            + "\n"
            + signedHeaders
            + "\n"
            + HEX.formatHex(sha256(payload));
    var scope = date + "/" + region + "/" + service + "/aws4_request";
    var toSign =
        "AWS4-HMAC-SHA256\n"
            + amzDate
            + "\n"
            + scope
            + "\n"
            + HEX.formatHex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
    var key = hmac(("AWS4" + credentials.secretAccessKey()).getBytes(StandardCharsets.UTF_8), date);
    key = hmac(key, region);
    key = hmac(key, service);
    key = hmac(key, "aws4_request");
    var signature = HEX.formatHex(hmac(key, toSign));
    var out = new LinkedHashMap<String, String>();
    out.put("X-Amz-Date", amzDate);
    if (credentials.sessionToken() != null) {
      out.put("X-Amz-Security-Token", credentials.sessionToken());
    }
    out.put(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential="
            + credentials.accessKeyId()
            + "/"
            + scope
            + ", SignedHeaders="
            + signedHeaders
            + ", Signature="
            + signature);
    return out;
  }

  private static String canonicalQuery(String raw) {
    if (raw == null || raw.isEmpty()) {
      return "";
    }
    var sorted = new TreeMap<String, String>();
    for (var pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      sorted.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
    }
    var out = new StringBuilder();
    sorted.forEach((k, v) -> out.append(out.isEmpty() ? "" : "&").append(k).append('=').append(v));
    return out.toString();
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      var mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
