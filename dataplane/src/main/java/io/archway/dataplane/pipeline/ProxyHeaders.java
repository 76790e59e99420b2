package io.archway.dataplane.pipeline;

import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;

/** What the proxy changes in headers on the way through. */
public final class ProxyHeaders {

  private ProxyHeaders() {}

  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  static final AsciiString X_FORWARDED_PORT = AsciiString.cached("x-forwarded-port");
  static final AsciiString X_REAL_IP = AsciiString.cached("x-real-ip");
  private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

  /**
   * Removes hop-by-hop headers: {@code Connection} and every header it names, {@code Keep-Alive},
   * {@code Proxy-Connection}, {@code TE}, {@code Trailer} and {@code Upgrade}. {@code
   * Transfer-Encoding} and {@code Content-Length} stay, even when {@code Connection} names them:
   * they say how the body that is streamed on is framed, and without them the next hop would read
   * that body as the next message (a client's request naming them is refused before this; an
   * upstream's answer is not trusted to be).
   */
  public static void removeHopByHop(HttpHeaders h) {
    // Most messages have no Connection field, or one that names no other field ("keep-alive",
    // "close"): no list and no split for them.
    List<String> named = null;
    for (var it = h.valueStringIterator(HttpHeaderNames.CONNECTION); it.hasNext(); ) {
      var value = it.next();
      if (value.equalsIgnoreCase("keep-alive") || value.equalsIgnoreCase("close")) {
        continue;
      }
      for (var token : value.split(",")) {
        var name = token.strip();
        if (!name.isEmpty()
            && !name.equalsIgnoreCase("close")
            && !name.equalsIgnoreCase("keep-alive")
            && !HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)
            && !HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)) {
          if (named == null) {
            named = new ArrayList<>(2);
          }
          named.add(name);
        }
      }
    }
    if (named != null) {
      named.forEach(h::remove);
    }
    h.remove(HttpHeaderNames.CONNECTION)
        .remove(HttpHeaderNames.KEEP_ALIVE)
        .remove(PROXY_CONNECTION)
        .remove(HttpHeaderNames.TE)
        .remove(HttpHeaderNames.TRAILER)
        .remove(HttpHeaderNames.UPGRADE);
  }

  /** Sets {@code Host} for the node, by the upstream's {@code pass_host}. */
  public static void host(HttpHeaders h, UpstreamRuntime up, NodeState node, String originalHost) {
    // An HTTP/1.0 client may send no Host; the node gets an HTTP/1.1 request, which needs one.
    var mode = up.config().passHost();
    if (originalHost == null && !mode.equals("rewrite")) {
      mode = "node";
    }
    switch (mode) {
      case "node" -> {
        int port = node.port();
        boolean defaultPort = up.tls() ? port == 443 : port == 80;
        var host = node.host().indexOf(':') >= 0 ? "[" + node.host() + "]" : node.host();
        h.set(HttpHeaderNames.HOST, defaultPort ? host : host + ":" + port);
      }
      case "rewrite" -> h.set(HttpHeaderNames.HOST, up.config().upstreamHost());
      default -> h.set(HttpHeaderNames.HOST, originalHost);
    }
  }

  /** Adds the {@code X-Forwarded-*} and {@code X-Real-IP} headers, as APISIX sets them. */
  public static void forwarded(HttpHeaders h, RequestVars v, String originalHost) {
    var remote = v.remoteAddr();
    var xff = h.get(X_FORWARDED_FOR);
    h.set(X_FORWARDED_FOR, xff == null || xff.isEmpty() ? remote : xff + ", " + remote);
    h.set(X_REAL_IP, remote);
    h.set(X_FORWARDED_PROTO, v.scheme());
    if (originalHost != null) {
      h.set(X_FORWARDED_HOST, originalHost);
    }
    h.set(X_FORWARDED_PORT, v.peer().serverPortText());
  }
}
