package io.archway.dataplane.route;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The request as routes and balancers see it: APISIX's variables ({@code uri}, {@code host}, {@code
 * request_method}, {@code remote_addr}, {@code server_port}, {@code arg_*}, {@code http_*}, {@code
 * cookie_*}, ...). The query string and cookies are parsed on first use only.
 */
public final class RequestVars implements Variables {

  private final String method;
  private final String rawUri;
  private final String path;
  private final String query;
  private final String host;
  private final HttpHeaders headers;
  private final Peer peer;
  private Map<String, List<String>> args;
  private Map<String, String> cookies;

  public RequestVars(String method, String rawUri, HttpHeaders headers, Peer peer) {
    this.method = method;
    this.rawUri = rawUri;
    int q = rawUri.indexOf('?');
    this.path = normalizePath(q < 0 ? rawUri : rawUri.substring(0, q));
    this.query = q < 0 ? "" : rawUri.substring(q + 1);
    this.headers = headers;
    this.host = hostOf(headers.get(HttpHeaderNames.HOST));
    this.peer = peer;
  }

  /** A request built from parts, for tests and tools. */
  public static RequestVars of(String method, String uri, HttpHeaders headers, String remoteIp) {
    return new RequestVars(
        method, uri, headers, Peer.of(new InetSocketAddress(remoteIp, 40000), 9080, "http"));
  }

  public String method() {
    return method;
  }

  /** The path, percent-decoded, without the query string. */
  public String path() {
    return path;
  }

  /** The request target as received: path and query, not decoded. */
  public String rawUri() {
    return rawUri;
  }

  /** The {@code Host} header's host part, lower case, or {@code ""}. */
  public String host() {
    return host;
  }

  public HttpHeaders headers() {
    return headers;
  }

  @Override
  public InetAddress remoteAddress() {
    return peer.address();
  }

  public String remoteAddr() {
    return peer.addressText();
  }

  /** The connection the request came on. */
  public Peer peer() {
    return peer;
  }

  public int serverPort() {
    return peer.serverPort();
  }

  public String scheme() {
    return peer.scheme();
  }

  /** A variable's value, or {@code null} when the request has none. */
  @Override
  public String get(String name) {
    switch (name) {
      case "uri":
        return path;
      case "request_uri":
        return rawUri;
      case "host":
        return host;
      case "request_method":
        return method;
      case "remote_addr":
        return remoteAddr();
      case "remote_port":
        return Integer.toString(peer.port());
      case "server_port":
        return peer.serverPortText();
      case "scheme":
        return peer.scheme();
      case "args":
      case "query_string":
        return query;
      default:
        break;
    }
    if (name.startsWith("arg_")) {
      var values = args().get(name.substring(4));
      return values == null || values.isEmpty() ? null : values.get(0);
    }
    if (name.startsWith("http_")) {
      return headers.get(name.substring(5).replace('_', '-'));
    }
    if (name.startsWith("cookie_")) {
      return cookies().get(name.substring(7));
    }
    return null;
  }

  private Map<String, List<String>> args() {
    if (args == null) {
      args =
          query.isEmpty()
              ? Map.of()
              : new QueryStringDecoder(query, StandardCharsets.UTF_8, false).parameters();
    }
    return args;
  }

  private Map<String, String> cookies() {
    if (cookies == null) {
      var header = headers.get(HttpHeaderNames.COOKIE);
      if (header == null) {
        cookies = Map.of();
      } else {
        cookies = new HashMap<>();
        for (var c : ServerCookieDecoder.LAX.decode(header)) {
          cookies.putIfAbsent(c.name(), c.value());
        }
      }
    }
    return cookies;
  }

  static String hostOf(String header) {
    if (header == null || header.isEmpty()) {
      return "";
    }
    int end = header.length();
    if (header.charAt(0) == '[') {
      int close = header.indexOf(']');
      end = close < 0 ? end : close + 1;
    } else {
      int colon = header.lastIndexOf(':');
      if (colon >= 0) {
        end = colon;
      }
    }
    var h = header.substring(0, end);
    for (int i = 0; i < h.length(); i++) {
      if (Character.isUpperCase(h.charAt(i))) {
        return h.toLowerCase(Locale.ROOT);
      }
    }
    return h;
  }

  /**
   * Percent-decodes the path when it holds escapes; leaves it alone otherwise (the common case).
   */
  static String normalizePath(String raw) {
    if (raw.isEmpty()) {
      return "/";
    }
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    try {
      return QueryStringDecoder.decodeComponent(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return raw;
    }
  }
}
