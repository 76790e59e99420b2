package io.archway.dataplane.upstream;

import io.archway.dataplane.route.RequestVars;
import io.archway.model.Upstream;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An upstream's {@code session_persistence}: the requests of one client session go to the node that
 * served its first request, while that node is in the upstream and healthy.
 *
 * <p>The session value (a cookie, or a request header the client sends back) is base64url, without
 * padding, of {@code 1.<start>.<last>.<host:port>}: the format version, the session's start and
 * last use in seconds since the epoch, and the node's address. Every replica reads it alike, with
 * no shared state. It is not secret and not signed: a client that forges one can only choose among
 * the upstream's own nodes, since the address is looked up in the node list and nothing else is
 * ever connected to. A value that does not decode, names another version, has timestamps in the
 * future, has outlived {@code absolute_timeout} or {@code idle_timeout}, or names a node that is
 * gone, unhealthy or already failed this request, is ignored: the balancer picks, and the answer
 * starts a new session.
 */
final class StickySessions {

  static final String VERSION = "1";
  // A value longer than this is not ours (an address is at most ~60 characters).
  private static final int MAX_VALUE = 256;
  // Replicas' clocks may differ a little: a start or last use this far ahead still counts.
  private static final long SKEW_SECONDS = 60;
  // A permanent cookie's Max-Age with no absolute_timeout nor idle_timeout to bound it: one day.
  static final long DEFAULT_MAX_AGE = 86_400;

  private final boolean cookie;
  private final String name;
  private final String cookieVar;
  private final long absoluteSeconds; // 0: none
  private final long idleSeconds; // 0: none
  private final long refreshAfter;
  private final boolean permanent;
  private final Map<String, NodeState> byAddress;

  /** Read at the request's session, decoded and not expired. */
  record Session(String address, long start, long last) {}

  StickySessions(Upstream.SessionPersistence conf, List<NodeState> nodes) {
    var sp = conf.withDefaults();
    this.cookie = "cookie".equals(sp.type());
    this.name = sp.name();
    this.cookieVar = "cookie_" + name;
    this.absoluteSeconds = seconds(sp.absoluteTimeout());
    this.idleSeconds = seconds(sp.idleTimeout());
    // An idle session's value is refreshed once a quarter of idle_timeout passed since its last
    // refresh (not on every answer): it stays alive while the client is active within the timeout.
    this.refreshAfter = Math.max(1, idleSeconds / 4);
    this.permanent = cookie && "permanent".equals(sp.lifetime());
    var map = new HashMap<String, NodeState>();
    for (var n : nodes) {
      map.putIfAbsent(n.address(), n);
    }
    this.byAddress = Map.copyOf(map);
  }

  private static long seconds(Double s) {
    return s == null || s <= 0 ? 0 : Math.max(1, (long) Math.ceil(s));
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  /** The request's session value as sent, or {@code null}. */
  private String value(RequestVars r) {
    if (cookie) {
      return r.get(cookieVar);
    }
    var h = r.headers();
    return h == null ? null : h.get(name);
  }

  /** The request's live session, or {@code null} when it has none that may be used. */
  Session read(RequestVars r, long now) {
    var s = decode(value(r));
    if (s == null || s.last > now + SKEW_SECONDS) {
      return null;
    }
    if (absoluteSeconds > 0 && now - s.start >= absoluteSeconds) {
      return null;
    }
    if (idleSeconds > 0 && now - s.last >= idleSeconds) {
      return null;
    }
    return s;
  }

  /**
   * The node the request's session names, when it is one of the upstream's, healthy, with weight,
   * and not {@code tried} by this request; otherwise {@code null}.
   */
  NodeState pinned(RequestVars r, java.util.BitSet tried) {
    var s = read(r, now());
    if (s == null) {
      return null;
    }
    var n = byAddress.get(s.address);
    if (n == null || !n.healthy() || n.weight() == 0 || tried != null && tried.get(n.index())) {
      return null;
    }
    return n;
  }

  /**
   * On the answer from {@code served}: a new session when the request's did not name it (none,
   * expired, or its node could not serve), a refreshed value when {@code idle_timeout} needs it,
   * otherwise nothing. A cookie is added (the node's own {@code Set-Cookie} fields stay).
   */
  void issue(RequestVars r, NodeState served, HttpHeaders out) {
    long now = now();
    var s = read(r, now);
    long start = now;
    if (s != null && s.address.equals(served.address())) {
      if (idleSeconds == 0 || now - s.last < refreshAfter) {
        return;
      }
      start = s.start;
    }
    var value = encode(served.address(), start, now);
    if (!cookie) {
      out.set(name, value);
      return;
    }
    var c = new StringBuilder(name.length() + value.length() + 40);
    c.append(name).append('=').append(value).append("; Path=/; HttpOnly");
    if (permanent) {
      long maxAge =
          absoluteSeconds > 0
              ? Math.max(1, absoluteSeconds - (now - start))
              : idleSeconds > 0 ? idleSeconds : DEFAULT_MAX_AGE;
      c.append("; Max-Age=").append(maxAge);
    }
    out.add(HttpHeaderNames.SET_COOKIE, c.toString());
  }

  static String encode(String address, long start, long last) {
    var text = VERSION + "." + start + "." + last + "." + address;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /** The session in {@code value}, or {@code null} when it is not one of ours. */
  static Session decode(String value) {
    if (value == null || value.isEmpty() || value.length() > MAX_VALUE) {
      return null;
    }
    String text;
    try {
      text = new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int a = text.indexOf('.');
    int b = a < 0 ? -1 : text.indexOf('.', a + 1);
    int c = b < 0 ? -1 : text.indexOf('.', b + 1);
    if (c < 0 || !VERSION.equals(text.substring(0, a)) || c + 1 == text.length()) {
      return null;
    }
    long start = digits(text, a + 1, b);
    long last = digits(text, b + 1, c);
    if (start < 0 || last < start) {
      return null;
    }
    return new Session(text.substring(c + 1), start, last);
  }

  /** The decimal number in {@code s[from, to)}, or {@code -1} when it is not one. */
  private static long digits(String s, int from, int to) {
    if (to <= from || to - from > 12) {
      return -1;
    }
    long v = 0;
    for (int i = from; i < to; i++) {
      char ch = s.charAt(i);
      if (ch < '0' || ch > '9') {
        return -1;
      }
      v = v * 10 + (ch - '0');
    }
    return v;
  }
}
