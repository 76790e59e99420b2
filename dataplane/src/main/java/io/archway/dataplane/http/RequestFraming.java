package io.archway.dataplane.http;

import io.archway.dataplane.exchange.HttpSyntax;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;

/**
 * The one request-framing policy (RFC 9112 §6-7, RFC 9110 §7.6.1): what decides where a request's
 * body ends, checked once on the parsed head, whatever protocol carried it. A request that two
 * readers could frame differently is refused, never guessed at; see {@code docs/security.md}.
 *
 * <ul>
 *   <li>{@code Connection} may not name {@code Content-Length}, {@code Transfer-Encoding} or {@code
 *       Host} (400): a proxy that drops them as hop-by-hop reframes the body. The other headers it
 *       names are removed here, before routing and plugins, so a header a plugin adds later is
 *       never dropped because the client named it ({@code HTTP2-Settings} stays, for an {@code h2c}
 *       upgrade; the proxy drops it).
 *   <li>{@code Transfer-Encoding}: {@code chunked} must be there once and last (400); it is the
 *       only coding served (anything else, parameters included, is 501, as nginx); not in HTTP/1.0
 *       (400).
 *   <li>{@code Transfer-Encoding} with {@code Content-Length}: 400 (nginx does the same). A proxy
 *       that drops one of them lets the next hop read the body the other way.
 *   <li>{@code Content-Length}: one field, digits only (400 otherwise, duplicates included).
 *   <li>{@code Host}: exactly one on HTTP/1.1, at most one on HTTP/1.0, a valid authority, not
 *       empty, no {@code ..} (400, as nginx).
 *   <li>An upgrade request carries no body (400): the bytes after its head belong to the new
 *       protocol. {@code Upgrade: h2c} alone may (its body comes before a switch, and one with a
 *       body is never switched).
 *   <li>{@code CONNECT} and {@code TRACE} are not served (405); an {@code Expect} other than {@code
 *       100-continue} is 417.
 * </ul>
 */
final class RequestFraming {

  private RequestFraming() {}

  /** How the request's body is delimited. */
  enum Body {
    NONE,
    FIXED,
    CHUNKED
  }

  /** The framing of one request: {@code length} is the body's size for {@link Body#FIXED}. */
  record Framing(Body body, long length) {
    static final Framing NONE = new Framing(Body.NONE, 0);
    static final Framing CHUNKED = new Framing(Body.CHUNKED, -1);
  }

  private static final AsciiString CHUNKED = HttpHeaderValues.CHUNKED;

  /**
   * Checks a parsed request head and returns its body framing, or throws {@link RequestRejected}.
   * Removes the headers that {@code Connection} names (the hop-by-hop ones of this request) and
   * leaves in {@code Connection} only {@code close}, {@code keep-alive} and {@code upgrade}.
   *
   * @param http10 the request is HTTP/1.0
   */
  static Framing check(HttpMethod method, boolean http10, HttpHeaders h) {
    if (method == HttpMethod.CONNECT || method == HttpMethod.TRACE) {
      throw new RequestRejected(405, "method_not_allowed", method + " is not served");
    }
    boolean upgrade = connection(h);
    host(h, http10);
    var expect = h.get(HttpHeaderNames.EXPECT);
    if (expect != null && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.strip())) {
      throw new RequestRejected(417, "expectation_failed", "Expect: " + expect);
    }
    // Most requests have neither field: no lists made for them.
    var te =
        h.contains(HttpHeaderNames.TRANSFER_ENCODING)
            ? h.getAll(HttpHeaderNames.TRANSFER_ENCODING)
            : List.<String>of();
    var cl =
        h.contains(HttpHeaderNames.CONTENT_LENGTH)
            ? h.getAll(HttpHeaderNames.CONTENT_LENGTH)
            : List.<String>of();
    Framing framing;
    if (!te.isEmpty()) {
      if (http10) {
        throw RequestRejected.ambiguous("Transfer-Encoding in an HTTP/1.0 request");
      }
      if (!cl.isEmpty()) {
        throw RequestRejected.ambiguous("Transfer-Encoding and Content-Length together");
      }
      transferCodings(te);
      h.set(HttpHeaderNames.TRANSFER_ENCODING, CHUNKED);
      framing = Framing.CHUNKED;
    } else if (!cl.isEmpty()) {
      if (cl.size() > 1) {
        throw RequestRejected.ambiguous("more than one Content-Length");
      }
      long n = contentLength(cl.get(0));
      framing = n == 0 ? Framing.NONE : new Framing(Body.FIXED, n);
    } else {
      framing = Framing.NONE;
    }
    if (upgrade && framing != Framing.NONE && !upgradeToH2cOnly(h)) {
      throw RequestRejected.ambiguous("an upgrade request with a body");
    }
    return framing;
  }

  /**
   * Checks the {@code Connection} tokens and removes the headers they name; returns whether the
   * request asks for an upgrade (names {@code upgrade} and has an {@code Upgrade} field).
   */
  private static boolean connection(HttpHeaders h) {
    var first = h.get(HttpHeaderNames.CONNECTION);
    if (first == null) {
      return false;
    }
    var values = h.getAll(HttpHeaderNames.CONNECTION);
    if (values.size() == 1) {
      var only = values.get(0);
      if (HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(only)
          || HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(only)) {
        return false;
      }
    }
    boolean close = false;
    boolean keepAlive = false;
    boolean upgrade = false;
    boolean http2Settings = false;
    List<String> named = null;
    for (var value : values) {
      for (var token : Tokens.list(value)) {
        if (token.equalsIgnoreCase("close")) {
          close = true;
        } else if (token.equalsIgnoreCase("keep-alive")) {
          keepAlive = true;
        } else if (token.equalsIgnoreCase("upgrade")) {
          upgrade = true;
        } else if (token.equalsIgnoreCase("http2-settings")) {
          // Kept for an h2c upgrade (GatewayHandler); the proxy drops it with the Connection
          // field, as it drops every header Connection names.
          http2Settings = true;
        } else if (token.equalsIgnoreCase("content-length")
            || token.equalsIgnoreCase("transfer-encoding")
            || token.equalsIgnoreCase("host")) {
          throw RequestRejected.ambiguous("Connection names " + token);
        } else {
          if (named == null) {
            named = new ArrayList<>(2);
          }
          named.add(token);
        }
      }
    }
    if (named != null) {
      for (var name : named) {
        h.remove(name);
      }
    }
    upgrade = upgrade && h.contains(HttpHeaderNames.UPGRADE);
    if (named != null || values.size() > 1) {
      var kept = new StringBuilder();
      if (close) {
        kept.append("close");
      } else if (keepAlive) {
        kept.append("keep-alive");
      }
      if (upgrade) {
        kept.append(kept.isEmpty() ? "" : ", ").append("upgrade");
      }
      if (http2Settings) {
        kept.append(kept.isEmpty() ? "" : ", ").append("HTTP2-Settings");
      }
      if (kept.isEmpty()) {
        h.remove(HttpHeaderNames.CONNECTION);
      } else {
        h.set(HttpHeaderNames.CONNECTION, kept.toString());
      }
    }
    return upgrade;
  }

  /**
   * {@code Upgrade: h2c} alone: its body comes before any switch (RFC 7540 §3.2), and the gateway
   * never switches a request that has one (it is served over HTTP/1.1), so the body is this
   * request's without doubt.
   */
  private static boolean upgradeToH2cOnly(HttpHeaders h) {
    var values = h.getAll(HttpHeaderNames.UPGRADE);
    return values.size() == 1 && values.get(0).strip().equalsIgnoreCase("h2c");
  }

  private static void host(HttpHeaders h, boolean http10) {
    var it = h.valueStringIterator(HttpHeaderNames.HOST);
    if (!it.hasNext()) {
      if (!http10) {
        throw RequestRejected.malformed("no Host in an HTTP/1.1 request");
      }
      return;
    }
    var host = it.next();
    if (it.hasNext()) {
      throw RequestRejected.malformed("more than one Host");
    }
    if (!HttpSyntax.validHost(host)) {
      throw RequestRejected.malformed("Host is not a host[:port]");
    }
  }

  static boolean validAuthority(String v) {
    return HttpSyntax.validAuthority(v);
  }

  /**
   * One field whose value is {@code chunked} (any case) and nothing else: that is all nginx takes
   * too. A second field, or {@code chunked} that is not alone and last, is 400; any other coding
   * ({@code gzip, chunked}, {@code chunked;q=1}, {@code "chunked"}, {@code identity}) is 501.
   */
  private static void transferCodings(List<String> values) {
    if (values.size() > 1) {
      throw RequestRejected.ambiguous("more than one Transfer-Encoding field");
    }
    var value = values.get(0);
    if (CHUNKED.contentEqualsIgnoreCase(value)) {
      return;
    }
    var elements = value.split(",", -1);
    int chunked = 0;
    for (var element : elements) {
      if (CHUNKED.contentEqualsIgnoreCase(element.strip())) {
        chunked++;
      }
    }
    boolean chunkedLast = CHUNKED.contentEqualsIgnoreCase(elements[elements.length - 1].strip());
    if (value.isBlank() || chunked > 1 || (chunked == 1 && !chunkedLast)) {
      throw RequestRejected.ambiguous("Transfer-Encoding: " + value);
    }
    throw new RequestRejected(501, "unsupported_transfer_coding", "Transfer-Encoding: " + value);
  }

  /** {@code 1*DIGIT}, at most 18 of them (a long never overflows); anything else is 400. */
  static long contentLength(String v) {
    long n = HttpSyntax.contentLength(v);
    if (n < 0) {
      throw RequestRejected.ambiguous("Content-Length: " + v);
    }
    return n;
  }

  /** Comma-separated tokens of a list field (RFC 9110 §5.6.1), each checked to be a token. */
  static final class Tokens {
    private Tokens() {}

    static List<String> list(String value) {
      var out = new ArrayList<String>(2);
      for (var element : value.split(",", -1)) {
        var token = element.strip();
        if (token.isEmpty()) {
          continue;
        }
        for (int i = 0; i < token.length(); i++) {
          if (!HttpSyntax.tchar(token.charAt(i))) {
            throw RequestRejected.malformed("not a token in a list: " + token);
          }
        }
        out.add(token);
      }
      return out;
    }
  }
}
