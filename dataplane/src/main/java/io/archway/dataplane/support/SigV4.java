package io.archway.dataplane.support;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 (the {@code AWS4-HMAC-SHA256} {@code Authorization} field) with the JDK's
 * SHA-256 and HMAC: canonical request, string to sign, the signing key derived from the secret,
 * date, region and service. The one signer of the dataplane: Secrets Manager references (config),
 * aws-lambda's {@code authorization.iam} and the AWS moderation plugins' Comprehend calls
 * (plugins). Checked against AWS's published test suite and examples ({@code SigV4Test}).
 */
public final class SigV4 {

  private static final String ALGORITHM = "AWS4-HMAC-SHA256";
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();
  private static final Pattern SPACES = Pattern.compile(" +");

  /** The credentials of one signer; {@code sessionToken} may be {@code null}. */
  public record Credentials(String accessKeyId, String secretAccessKey, String sessionToken) {
    @Override
    public String toString() {
      // Records print their fields; these are secrets.
      return "Credentials[" + accessKeyId + "]";
    }
  }

  /**
   * What to send: the {@code X-Amz-Date} and {@code Authorization} values (and, for tests, the
   * canonical request).
   */
  public record Signed(String amzDate, String authorization, String canonicalRequest) {}

  private SigV4() {}

  /**
   * Signs a request to {@code uri}; {@code Host} is signed as {@code host[:port]} of the URI, which
   * is what an HTTP client sends.
   *
   * @param headers the request's other headers to sign (names in any case)
   * @return the headers to add to the request: {@code X-Amz-Date}, {@code X-Amz-Security-Token}
   *     with a session token, {@code Authorization}
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
    var fields = new LinkedHashMap<String, List<String>>();
    headers.forEach((k, v) -> fields.put(k, List.of(v)));
    fields.put(
        "host", List.of(uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort()));
    var signed =
        sign(
            credentials,
            region,
            service,
            method,
            uri.getRawPath(),
            uri.getRawQuery(),
            fields,
            payload,
            now);
    var out = new LinkedHashMap<String, String>();
    out.put("X-Amz-Date", signed.amzDate());
    if (credentials.sessionToken() != null) {
      out.put("X-Amz-Security-Token", credentials.sessionToken());
    }
    out.put("Authorization", signed.authorization());
    return out;
  }

  /**
   * The {@code X-Amz-Date} and {@code Authorization} values for a request.
   *
   * @param path the request path as it goes on the wire (already percent-encoded)
   * @param rawQuery the query as it goes on the wire, or {@code null}
   * @param headers the fields signed, by name (any case; a name given twice in different cases is
   *     joined), {@code host} among them; {@code x-amz-date} (and {@code x-amz-security-token} with
   *     a session token) is added
   * @param body the payload, or {@code null} for none
   */
  public static Signed sign(
      Credentials credentials,
      String region,
      String service,
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
          var v = String.join(",", values.stream().map(SigV4::trim).toList());
          canonical.merge(name.toLowerCase(Locale.ROOT), v, (a, b) -> a + "," + b);
        });
    canonical.put("x-amz-date", amzDate);
    if (credentials.sessionToken() != null) {
      canonical.put("x-amz-security-token", credentials.sessionToken());
    }
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
    var scope = date + '/' + region + '/' + service + "/aws4_request";
    var toSign =
        ALGORITHM
            + '\n'
            + amzDate
            + '\n'
            + scope
            + '\n'
            + HEX.formatHex(sha256(request.getBytes(StandardCharsets.UTF_8)));
    var key = signingKey(credentials.secretAccessKey(), date, region, service);
    var signature = HEX.formatHex(hmac(key, toSign));
    return new Signed(
        amzDate,
        ALGORITHM
            + " Credential="
            + credentials.accessKeyId()
            + '/'
            + scope
            + ", SignedHeaders="
            + signedHeaders
            + ", Signature="
            + signature,
        request);
  }

  /** The key derived from the secret for one day, region and service. */
  static byte[] signingKey(String secretKey, String date, String region, String service) {
    var k = hmac(("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8), date);
    k = hmac(k, region);
    k = hmac(k, service);
    return hmac(k, "aws4_request");
  }

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
  public static String encode(String s) {
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
      return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  /** Leading and trailing spaces removed, runs of spaces made one, as the canonical form wants. */
  private static String trim(String v) {
    return SPACES.matcher(v.strip()).replaceAll(" ");
  }

  static byte[] sha256(byte[] b) {
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
