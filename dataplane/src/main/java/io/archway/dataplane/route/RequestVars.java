package io.archway.dataplane.route;

import io.archway.model.BodyPath;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
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
 * cookie_*}, ...). The query string and cookies are parsed on first use only. {@code uri} is the
 * normalized path (docs/security.md, "Paths"), the raw one on a route with {@code raw_path}; {@code
 * request_uri} is the target as received.
 */
public final class RequestVars implements Variables {

  private final String method;
  // The normalized path (decoded): what routes match, and what plugins see unless the route
  // takes the raw path.
  private final String path;
  // The path as received, without the query; for a route with raw_path.
  private final String rawPath;
  // What the upstream receives: the normalized path (encoded) and the query as received.
  private final String target;
  // What the upstream receives on a route with raw_path: the request target as received, in
  // origin-form.
  private final String rawTarget;
  private final String query;
  private final String host;
  private final HttpHeaders headers;
  private Peer peer;
  private String protocol = "HTTP/1.1";
  private boolean useRawPath;
  private boolean targetApplied;
  private Map<String, List<String>> args;
  private Map<String, String> cookies;
  // Variables set by a stream plugin (mqtt-proxy's mqtt_client_id), for a chash key.
  private Map<String, String> extra;
  // The body's fields (post_arg.*), once it was read for a route that matches on it.
  private BodyValues body;
  private boolean awaitsBody;

  /** A request under the default path policy. */
  public RequestVars(String method, String rawUri, HttpHeaders headers, Peer peer) {
    this(method, rawUri, headers, peer, PathNormalizer.Policy.DEFAULT);
  }

  /**
   * Parses the request target and normalizes its path (see {@link PathNormalizer}). For an
   * absolute-form target ({@code http://host/path}), the authority replaces the {@code Host} header
   * (RFC 9112 §3.2.2): the host routes, plugins and the upstream see is that one.
   *
   * @throws PathNormalizer.BadTarget for a target that gets a 400
   */
  public RequestVars(
      String method, String rawUri, HttpHeaders headers, Peer peer, PathNormalizer.Policy policy) {
    this.method = method;
    this.headers = headers;
    this.peer = peer;
    int start = 0;
    if (rawUri.isEmpty()) {
      throw new PathNormalizer.BadTarget("empty request target");
    }
    if (rawUri.charAt(0) != '/') {
      if (rawUri.equals("*")) {
        // asterisk-form asks about the server as a whole (RFC 9112 §3.2.4): no route serves it,
        // and nginx refuses it too.
        throw new PathNormalizer.BadTarget("'*' is not served");
      }
      start = authorityEnd(rawUri);
      headers.set(HttpHeaderNames.HOST, rawUri.substring(rawUri.indexOf("://") + 3, start));
    }
    int q = rawUri.indexOf('?', start);
    int end = q < 0 ? rawUri.length() : q;
    if (q >= 0 && rawUri.indexOf('#', q) >= 0) {
      throw new PathNormalizer.BadTarget("fragment");
    }
    if (start == end) {
      // absolute-form without a path: the root.
      path = rawPath = "/";
      target = rawTarget = "/" + rawUri.substring(end);
    } else if (PathNormalizer.isNormal(rawUri, start, end)) {
      path = rawPath = start == 0 && q < 0 ? rawUri : rawUri.substring(start, end);
      target = rawTarget = start == 0 ? rawUri : rawUri.substring(start);
    } else {
      var n = PathNormalizer.normalize(rawUri, start, end, policy);
      path = n.decoded();
      rawPath = rawUri.substring(start, end);
      rawTarget = start == 0 ? rawUri : rawUri.substring(start);
      target = n.encoded().equals(rawPath) ? rawTarget : n.encoded() + rawUri.substring(end);
    }
    this.query = q < 0 ? "" : rawUri.substring(q + 1);
    this.host = hostOf(headers.get(HttpHeaderNames.HOST));
  }

  /**
   * Where the path of an absolute-form target ({@code http://authority/path}) starts. Only {@code
   * http} and {@code https}, and an authority that is a host and an optional port (no user info).
   */
  private static int authorityEnd(String uri) {
    int colon = uri.indexOf("://");
    if (colon <= 0) {
      throw new PathNormalizer.BadTarget("not origin-form nor absolute-form");
    }
    var scheme = uri.substring(0, colon);
    if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
      throw new PathNormalizer.BadTarget("scheme is not http or https");
    }
    int i = colon + 3;
    int from = i;
    for (; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c == '/' || c == '?') {
        break;
      }
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '.'
              || c == '_'
              || c == '~'
              || c == ':'
              || c == '['
              || c == ']';
      if (!ok) {
        throw new PathNormalizer.BadTarget("bad authority");
      }
    }
    if (i == from) {
      throw new PathNormalizer.BadTarget("empty authority");
    }
    return i;
  }

  /** A request built from parts, for tests and tools. */
  public static RequestVars of(String method, String uri, HttpHeaders headers, String remoteIp) {
    return new RequestVars(
        method, uri, headers, Peer.of(new InetSocketAddress(remoteIp, 40000), 9080, "http"));
  }

  public String method() {
    return method;
  }

  /**
   * The path without the query string: normalized and percent-decoded; on a route that takes the
   * raw path (once it has been matched), as received.
   */
  public String path() {
    return useRawPath ? rawPath : path;
  }

  /** The normalized path, whatever the route: what routes are matched on. */
  String routingPath() {
    return path;
  }

  /**
   * From now on, plugins see and the upstream receives the path as received: the matched route has
   * {@code raw_path}. Routing has used the normalized path.
   */
  void useRawPath() {
    useRawPath = true;
  }

  /** Whether {@link #path} is the raw path (the matched route has {@code raw_path}). */
  public boolean usesRawPath() {
    return useRawPath;
  }

  /**
   * Sets the request target the upstream receives, once, before plugins may change it: the
   * normalized path and the query as received (or the target as received, see {@link #useRawPath}).
   * Later calls do nothing, so a plugin's rewrite stays.
   */
  public void applyTarget(HttpRequest request) {
    if (targetApplied) {
      return;
    }
    targetApplied = true;
    var t = useRawPath ? rawTarget : target;
    if (!t.equals(request.uri())) {
      request.setUri(t);
    }
  }

  /**
   * The request target as received, in origin-form (path and query; for an absolute-form target,
   * without the scheme and authority), not decoded: nginx's {@code $request_uri}.
   */
  public String rawUri() {
    return rawTarget;
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

  /**
   * Sets the client's address (and port, when {@code port > 0}) as a trusted proxy reported it (the
   * real-ip plugin): {@code remote_addr}, {@code remote_port}, address rules and the access log see
   * it from then on. The connection is not changed.
   */
  public void clientAddress(InetAddress address, int port) {
    peer =
        new Peer(
            address,
            address.getHostAddress(),
            port > 0 ? port : peer.port(),
            peer.serverPort(),
            peer.serverPortText(),
            peer.scheme());
  }

  /** The connection the request came on (its client address as {@link #clientAddress} set it). */
  public Peer peer() {
    return peer;
  }

  public int serverPort() {
    return peer.serverPort();
  }

  public String scheme() {
    return peer.scheme();
  }

  /** {@code server_protocol}: {@code HTTP/1.1}, {@code HTTP/1.0}, {@code HTTP/2.0}. */
  public void protocol(String protocol) {
    this.protocol = protocol;
  }

  /** Sets a variable that is not the request's own (a stream plugin's, such as mqtt_client_id). */
  public void set(String name, String value) {
    if (extra == null) {
      extra = new HashMap<>();
    }
    extra.put(name, value);
  }

  /**
   * The request body's fields from now on ({@code post_arg.*}): routes that match on the body are
   * then decided by them ({@link Router#match}).
   */
  public void bodyValues(BodyValues values) {
    body = values;
    awaitsBody = false;
  }

  /** Whether the body's fields are known ({@link #bodyValues} was given them). */
  public boolean bodyKnown() {
    return body != null;
  }

  /**
   * Whether the last {@link Router#match} found no route because the one to try next matches on the
   * request body, not read yet: read it, give it to {@link #bodyValues} and match again.
   */
  public boolean awaitsBody() {
    return awaitsBody;
  }

  void awaitBody() {
    awaitsBody = true;
  }

  @Override
  public Object bodyValue(BodyPath path) {
    return body == null ? null : body.get(path);
  }

  /** A variable's value, or {@code null} when the request has none. */
  @Override
  public String get(String name) {
    if (extra != null && extra.containsKey(name)) {
      return extra.get(name);
    }
    switch (name) {
      case "uri":
        return path();
      case "request_uri":
        return rawTarget;
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
      case "server_protocol":
        return protocol;
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
}
