package io.archway.dataplane.http2;

import io.archway.dataplane.exchange.HttpSyntax;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

/**
 * An HTTP/2 request head (RFC 9113 §8.3.1) checked and turned into the exchange's version-neutral
 * {@link HttpRequest}, with the same syntax rules as HTTP/1.1's ({@link HttpSyntax}). Netty's HPACK
 * decoder already refuses pseudo-header fields after regular ones, upper-case names and the
 * connection-specific fields; these checks do not rely on it.
 *
 * <ul>
 *   <li>Malformed (a stream error {@code PROTOCOL_ERROR}, {@link Malformed}): a pseudo-header
 *       missing, repeated, unknown or of a response; an empty or non-origin {@code :path} (but
 *       {@code *} for OPTIONS); a bad method; a field name that is not a lower-case token; a value
 *       with a control character, or white space at either end; {@code connection}, {@code
 *       keep-alive}, {@code proxy-connection}, {@code transfer-encoding}, {@code upgrade}; {@code
 *       te} other than {@code trailers}; a {@code content-length} that is not one number, or is not
 *       0 on a request that ends with its head.
 *   <li>Refused with a status, as HTTP/1.1 would be ({@link Refused}): {@code :scheme} other than
 *       http(s) (400); no authority, a bad one, or a {@code host} that differs from {@code
 *       :authority} (400); {@code CONNECT} and {@code TRACE} (405); an {@code Expect} other than
 *       {@code 100-continue} (417).
 * </ul>
 *
 * <p>The request gets {@code Host} from {@code :authority}, its cookies in one field (RFC 9113
 * §8.2.3), and a body framing for HTTP/1.1 nodes: its {@code content-length}, else chunked.
 */
final class H2RequestHead {

  private H2RequestHead() {}

  /** A request no HTTP/2 peer may send: the stream is reset with {@code PROTOCOL_ERROR}. */
  static final class Malformed extends Exception {
    Malformed(String detail) {
      super(detail, null, false, false);
    }
  }

  /** A well-formed request the gateway answers with {@code status} before routing it. */
  static final class Refused extends Exception {
    final int status;
    final String error;
    final HttpRequest request; // what was read of it, for the log; null before :path was

    Refused(int status, String error, String detail, HttpRequest request) {
      super(detail, null, false, false);
      this.status = status;
      this.error = error;
      this.request = request;
    }
  }

  private static final HttpHeadersFactory HEADERS =
      DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final AsciiString TRAILERS = AsciiString.cached("trailers");
  private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

  /**
   * The request of {@code h}; {@code endStream}: the head ends the stream (no body).
   *
   * @throws Malformed for a malformed request
   * @throws Refused for one answered with a status
   */
  static HttpRequest toRequest(Http2Headers h, boolean endStream) throws Malformed, Refused {
    CharSequence method = null;
    CharSequence scheme = null;
    CharSequence path = null;
    CharSequence authority = null;
    var out = HEADERS.newHeaders();
    StringBuilder cookies = null;
    String contentLength = null;
    for (var e : h) {
      var name = e.getKey();
      var value = e.getValue();
      if (name.length() > 0 && name.charAt(0) == ':') {
        var pseudo = AsciiString.of(name);
        if (pseudo.contentEquals(Http2Headers.PseudoHeaderName.METHOD.value())) {
          method = once(method, value, ":method");
        } else if (pseudo.contentEquals(Http2Headers.PseudoHeaderName.SCHEME.value())) {
          scheme = once(scheme, value, ":scheme");
        } else if (pseudo.contentEquals(Http2Headers.PseudoHeaderName.PATH.value())) {
          path = once(path, value, ":path");
        } else if (pseudo.contentEquals(Http2Headers.PseudoHeaderName.AUTHORITY.value())) {
          authority = once(authority, value, ":authority");
        } else {
          throw new Malformed("pseudo-header " + name + " in a request");
        }
        continue;
      }
      checkName(name);
      checkValue(name, value);
      var lower = AsciiString.of(name);
      if (lower.contentEquals(HttpHeaderNames.CONNECTION)
          || lower.contentEquals(HttpHeaderNames.KEEP_ALIVE)
          || lower.contentEquals(PROXY_CONNECTION)
          || lower.contentEquals(HttpHeaderNames.TRANSFER_ENCODING)
          || lower.contentEquals(HttpHeaderNames.UPGRADE)) {
        throw new Malformed("connection-specific field " + name);
      }
      if (lower.contentEquals(HttpHeaderNames.TE)) {
        if (!TRAILERS.contentEqualsIgnoreCase(value)) {
          throw new Malformed("te: " + value);
        }
        continue; // hop-by-hop: not for the node
      }
      if (lower.contentEquals(HttpHeaderNames.CONTENT_LENGTH)) {
        if (contentLength != null && !contentLength.contentEquals(value)) {
          throw new Malformed("content-length given twice");
        }
        contentLength = value.toString();
        continue;
      }
      if (lower.contentEquals(HttpHeaderNames.COOKIE)) {
        if (cookies == null) {
          cookies = new StringBuilder(value);
        } else {
          cookies.append("; ").append(value);
        }
        continue;
      }
      out.add(name, value);
    }
    if (method == null || scheme == null || path == null) {
      throw new Malformed("a request without :method, :scheme and :path");
    }
    if (!HttpSyntax.validMethod(method)) {
      throw new Malformed(":method " + method);
    }
    var m = HttpMethod.valueOf(method.toString());
    checkPath(path, m);
    var request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, path.toString(), out);
    if (m == HttpMethod.CONNECT || m == HttpMethod.TRACE) {
      throw new Refused(405, "method_not_allowed", m + " is not served", request);
    }
    if (!"http".contentEquals(scheme) && !"https".contentEquals(scheme)) {
      throw new Refused(400, "bad_request", ":scheme " + scheme, request);
    }
    var host = out.get(HttpHeaderNames.HOST);
    if (out.getAll(HttpHeaderNames.HOST).size() > 1) {
      throw new Refused(400, "bad_request", "more than one host", request);
    }
    if (authority != null) {
      var a = authority.toString();
      if (host != null && !host.equalsIgnoreCase(a)) {
        throw new Refused(400, "bad_request", "host differs from :authority", request);
      }
      host = a;
    }
    if (host == null || !HttpSyntax.validHost(host)) {
      throw new Refused(400, "bad_request", "no valid :authority or host", request);
    }
    out.set(HttpHeaderNames.HOST, host);
    if (cookies != null) {
      out.set(HttpHeaderNames.COOKIE, cookies.toString());
    }
    var expect = out.get(HttpHeaderNames.EXPECT);
    if (expect != null && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.strip())) {
      throw new Refused(417, "expectation_failed", "expect: " + expect, request);
    }
    if (contentLength != null) {
      long n = HttpSyntax.contentLength(contentLength);
      if (n < 0 || (endStream && n != 0)) {
        throw new Malformed("content-length " + contentLength);
      }
      out.set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
    } else if (!endStream) {
      // HTTP/1.1 nodes need the body framed; HTTP/2 frames it by DATA and END_STREAM.
      out.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    return request;
  }

  /**
   * The {@code content-length} a request declared, or {@code -1}: DATA must add up to it (RFC 9113
   * §8.1.1).
   */
  static long declaredLength(HttpRequest req) {
    var v = req.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    return v == null ? -1 : HttpSyntax.contentLength(v);
  }

  /** Checks a trailer section: no pseudo-header, and fields as in a head. */
  static void checkTrailers(Http2Headers h, HttpHeaders into) throws Malformed {
    for (var e : h) {
      var name = e.getKey();
      if (name.length() > 0 && name.charAt(0) == ':') {
        throw new Malformed("pseudo-header " + name + " in trailers");
      }
      checkName(name);
      checkValue(name, e.getValue());
      into.add(name, e.getValue());
    }
  }

  private static CharSequence once(CharSequence seen, CharSequence value, String name)
      throws Malformed {
    if (seen != null) {
      throw new Malformed(name + " twice");
    }
    return value;
  }

  private static void checkName(CharSequence name) throws Malformed {
    if (name.length() == 0) {
      throw new Malformed("empty field name");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!HttpSyntax.tchar(c) || (c >= 'A' && c <= 'Z')) {
        throw new Malformed("field name " + name);
      }
    }
  }

  private static void checkValue(CharSequence name, CharSequence v) throws Malformed {
    int n = v.length();
    if (n > 0 && (blank(v.charAt(0)) || blank(v.charAt(n - 1)))) {
      throw new Malformed("white space around the value of " + name);
    }
    if (!HttpSyntax.validFieldValue(v)) {
      throw new Malformed("control character in the value of " + name);
    }
  }

  private static boolean blank(char c) {
    return c == ' ' || c == '\t';
  }

  private static void checkPath(CharSequence path, HttpMethod m) throws Malformed {
    int n = path.length();
    if (n == 0) {
      throw new Malformed("empty :path");
    }
    if (path.charAt(0) != '/' && !(n == 1 && path.charAt(0) == '*' && m == HttpMethod.OPTIONS)) {
      throw new Malformed(":path " + path);
    }
    for (int i = 0; i < n; i++) {
      if (!HttpSyntax.targetChar(path.charAt(i))) {
        throw new Malformed("control character or space in :path");
      }
    }
  }
}
