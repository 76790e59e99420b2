package io.archway.dataplane.plugins;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 (the {@code AWS4-HMAC-SHA256} {@code Authorization} field) with the JDK's
 * SHA-256 and HMAC, for aws-lambda's {@code authorization.iam}: canonical request, string to sign,
 * the signing key derived from the secret, date, region and service. Checked against AWS's
 * published test suite ({@code AwsSigV4Test}).
 */
final class AwsSigV4 {

  private AwsSigV4() {}

  static final String ALGORITHM = "AWS4-HMAC-SHA256";
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();
  private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile(" +");

  /** The credentials and where they are used. */
  record Key(String accessKey, String secretKey, String region, String service) {}

  /**
   * The {@code X-Amz-Date} and {@code Authorization} values for a request.
   *
   * @param path the request path as it goes on the wire (already percent-encoded)
   * @param rawQuery the query as it goes on the wire, or {@code null}
   * @param headers the fields signed, by name (any case; a name given twice in different cases is
   *     joined), {@code host} among them; {@code x-amz-date} is added
   */
  static Signed sign(
      Key key,
      String method,
      String path,
      String rawQuery,
      Map<String, List<String>> headers,
      byte[] body,
      Instant now) {
    var amzDate = AMZ_DATE.format(now);
    var date = amzDate.substring(0, 8);
    var canonical = new TreeMap<String, String>();
    headers.forEach(
        (name, values) -> {
          var v = String.join(",", values.stream().map(AwsSigV4::trim).toList());
          canonical.merge(name.toLowerCase(Locale.ROOT), v, (a, b) -> a + "," + b);
        });
    canonical.put("x-amz-date", amzDate);
    var lines = new StringBuilder();
    canonical.forEach((k, v) -> lines.append(k).append(':').append(v).append('\n'));
    var signedHeaders = String.join(";", canonical.keySet());
    var request =
        method.toUpperCase(Locale.ROOT)
            + '\n'
            + canonicalPath(path)
            + '\n'
            + canonicalQuery(rawQuery)
            + '\n'
            + lines
            + '\n'
            + signedHeaders
            + '\n'
            + HEX.formatHex(sha256(body == null ? new byte[0] : body));
    var scope = date + '/' + key.region() + '/' + key.service() + "/aws4_request";
    var toSign =
        ALGORITHM
            + '\n'
            + amzDate
            + '\n'
            + scope
            + '\n'
            + HEX.formatHex(sha256(request.getBytes(StandardCharsets.UTF_8)));
    var signingKey =
        hmac(
            hmac(
                hmac(
                    hmac(("AWS4" + key.secretKey()).getBytes(StandardCharsets.UTF_8), date),
                    key.region()),
                key.service()),
            "aws4_request");
    var signature = HEX.formatHex(hmac(signingKey, toSign));
    return new Signed(
        amzDate,
        ALGORITHM
            + " Credential="
            + key.accessKey()
            + '/'
            + scope
            + ", SignedHeaders="
            + signedHeaders
            + ", Signature="
            + signature,
        request);
  }

  /**
   * What to send: the {@code X-Amz-Date} and {@code Authorization} values (and, for tests, the
   * canonical request).
   */
  record Signed(String amzDate, String authorization, String canonicalRequest) {}

  /**
   * The path with each segment encoded once more, as every service but S3 expects of a path that
   * went on the wire encoded ("URI-encode each path segment twice"), and empty made {@code /}.
   */
  static String canonicalPath(String path) {
    if (path == null || path.isEmpty()) {
      return "/";
    }
    var parts = new ArrayList<String>();
    for (var part : path.split("/", -1)) {
      parts.add(encode(part));
    }
    return String.join("/", parts);
  }

  /** Parameters decoded, encoded again AWS's way, sorted by name then value. */
  static String canonicalQuery(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return "";
    }
    var params = new ArrayList<String[]>();
    for (var pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      var k = eq < 0 ? pair : pair.substring(0, eq);
      var v = eq < 0 ? "" : pair.substring(eq + 1);
      params.add(new String[] {encode(decode(k)), encode(decode(v))});
    }
    params.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
    var out = new StringBuilder();
    for (var p : params) {
      if (out.length() > 0) {
        out.append('&');
      }
      out.append(p[0]).append('=').append(p[1]);
    }
    return out.toString();
  }

  /** RFC 3986 encoding of everything but the unreserved characters, as AWS specifies. */
  static String encode(String s) {
    var out = new StringBuilder(s.length());
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  private static String decode(String s) {
    try {
      return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  /** Leading and trailing spaces removed, runs of spaces made one, as the canonical form wants. */
  private static String trim(String v) {
    return SPACES.matcher(v.strip()).replaceAll(" ");
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
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
