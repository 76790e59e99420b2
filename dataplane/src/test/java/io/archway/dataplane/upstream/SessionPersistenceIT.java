package io.archway.dataplane.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.model.testing.Ports;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code session_persistence} through the real proxy, against three real HTTP nodes that answer
 * with their own name. The session values crafted here follow the documented format (base64url of
 * {@code 1.<start>.<last>.<host:port>}), written independently of the dataplane's encoder.
 */
class SessionPersistenceIT {

  @TempDir Path dir;
  final List<Node> nodes = new ArrayList<>();
  Gateways gw;

  /** A node: answers its name; {@code /own-cookie} sets a cookie of its own; {@code /health}. */
  static final class Node implements AutoCloseable {
    final String name;
    final HttpServer server;
    final AtomicBoolean sick = new AtomicBoolean();
    final AtomicInteger requests = new AtomicInteger();

    Node(String name) throws Exception {
      this.name = name;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext(
          "/",
          ex -> {
            var path = ex.getRequestURI().getPath();
            int status = 200;
            if (path.equals("/health")) {
              status = sick.get() ? 500 : 200;
            } else {
              requests.incrementAndGet();
            }
            if (path.equals("/own-cookie")) {
              ex.getResponseHeaders().add("Set-Cookie", "pref=" + name + "; Path=/");
            }
            var body = name.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
          });
      server.start();
    }

    String address() {
      return "127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  @BeforeEach
  void start() throws Exception {
    for (var name : List.of("a", "b", "c")) {
      nodes.add(new Node(name));
    }
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    nodes.forEach(Node::close);
  }

  Node node(String name) {
    return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
  }

  String nodesYaml(List<Node> list) {
    var out = new StringBuilder();
    for (var n : list) {
      out.append("      \"").append(n.address()).append("\": 1\n");
    }
    return out.toString();
  }

  String config(List<Node> list, String session, String extra) {
    return """
        upstreams:
          - id: web
            nodes:
        %s    session_persistence: %s
        %s
        routes:
          - id: r
            uri: /*
            upstream_id: web
        """
        .formatted(nodesYaml(list), session, extra.indent(4).stripTrailing());
  }

  static String craft(String address, long start, long last) {
    var text = "1." + start + "." + last + "." + address;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  static String decoded(String value) {
    return new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8);
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  /** The value of the gateway's {@code sid} cookie in the answer, or {@code null}. */
  static String sid(HttpResponse<String> res) {
    for (var c : res.headers().allValues("set-cookie")) {
      if (c.startsWith("sid=")) {
        return c.substring(4, c.indexOf(';'));
      }
    }
    return null;
  }

  HttpResponse<String> withCookie(String path, String value) throws Exception {
    return gw.get(path, "Cookie", "sid=" + value);
  }

  @Test
  void aCookieSessionSticksToItsNodeWhileRequestsWithoutOneSpread() throws Exception {
    gw = Gateways.start(dir, config(nodes, "{name: sid}", ""));
    var served = new HashSet<String>();
    var cookies = new ArrayList<String>();
    for (int i = 0; i < 6; i++) {
      var res = gw.get("/");
      served.add(res.body());
      assertThat(res.headers().allValues("set-cookie"))
          .singleElement()
          .asString()
          .matches("sid=[A-Za-z0-9_-]+; Path=/; HttpOnly");
      cookies.add(sid(res));
    }
    assertThat(served).containsExactlyInAnyOrder("a", "b", "c");
    var first = gw.get("/");
    var value = sid(first);
    assertThat(decoded(value)).startsWith("1.").endsWith("." + node(first.body()).address());
    for (int i = 0; i < 10; i++) {
      var res = withCookie("/", value);
      assertThat(res.body()).isEqualTo(first.body());
      // The session goes on: nothing to send again (no idle_timeout).
      assertThat(res.headers().allValues("set-cookie")).isEmpty();
    }
    // Each new session named the node that served it.
    for (var c : cookies) {
      var res = withCookie("/", c);
      assertThat(decoded(c)).endsWith("." + node(res.body()).address());
    }
  }

  @Test
  void aHeaderSessionSticksToItsNode() throws Exception {
    gw = Gateways.start(dir, config(nodes, "{type: header, name: X-Session}", ""));
    var first = gw.get("/");
    var value = first.headers().firstValue("x-session").orElseThrow();
    assertThat(first.headers().allValues("set-cookie")).isEmpty();
    var served = new HashSet<String>();
    for (int i = 0; i < 6; i++) {
      served.add(gw.get("/").body());
    }
    assertThat(served).hasSizeGreaterThan(1);
    for (int i = 0; i < 10; i++) {
      var res = gw.get("/", "X-Session", value);
      assertThat(res.body()).isEqualTo(first.body());
      assertThat(res.headers().firstValue("x-session")).isEmpty();
    }
  }

  @Test
  void aSessionWhoseNodeLeftTheUpstreamMovesAndStartsAgain() throws Exception {
    gw = Gateways.start(dir, config(nodes, "{name: sid}", ""));
    var first = gw.get("/");
    var gone = first.body();
    var value = sid(first);
    var rest = nodes.stream().filter(n -> !n.name.equals(gone)).toList();
    gw.reload(config(rest, "{name: sid}", ""));
    var res = withCookie("/", value);
    assertThat(res.body()).isNotEqualTo(gone);
    var fresh = sid(res);
    assertThat(fresh).isNotNull();
    assertThat(decoded(fresh)).endsWith("." + node(res.body()).address());
    for (int i = 0; i < 5; i++) {
      assertThat(withCookie("/", fresh).body()).isEqualTo(res.body());
    }
  }

  @Test
  void aSessionWhoseNodeTurnedUnhealthyMovesAndStartsAgain() throws Exception {
    gw =
        Gateways.start(
            dir,
            config(
                nodes,
                "{name: sid}",
                """
                checks:
                  active:
                    http_path: /health
                    timeout: 1
                    healthy: {interval: 1, successes: 1}
                    unhealthy: {interval: 1, http_failures: 1, http_statuses: [500]}
                """));
    var first = gw.get("/");
    var value = sid(first);
    node(first.body()).sick.set(true);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !withCookie("/", value).body().equals(first.body()));
    var res = withCookie("/", value);
    assertThat(res.body()).isNotEqualTo(first.body());
    assertThat(decoded(sid(res))).endsWith("." + node(res.body()).address());
  }

  @Test
  void aSessionWhoseNodeRefusesConnectionsIsRetriedElsewhereAndStartsAgain() throws Exception {
    String closed;
    closed = "127.0.0.1:" + Ports.free();
    var yaml =
        config(nodes, "{name: sid}", "")
            .replace("    nodes:\n", "    nodes:\n      \"" + closed + "\": 1\n");
    gw = Gateways.start(dir, yaml);
    var res = withCookie("/", craft(closed, now(), now()));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isIn("a", "b", "c");
    assertThat(decoded(sid(res))).endsWith("." + node(res.body()).address());
  }

  @Test
  void expiredSessionsStartAgain() throws Exception {
    gw =
        Gateways.start(
            dir, config(nodes, "{name: sid, absolute_timeout: 600, idle_timeout: 60}", ""));
    var b = node("b").address();
    long now = now();
    // Alive: sticks, nothing to send again (used 5 s ago, well within a quarter of idle_timeout).
    for (int i = 0; i < 4; i++) {
      var res = withCookie("/", craft(b, now - 100, now - 5));
      assertThat(res.body()).isEqualTo("b");
      assertThat(sid(res)).isNull();
    }
    // Idle for a while but not timed out: sticks, and the value is refreshed with the same start.
    var refreshed = withCookie("/", craft(b, now - 100, now - 30));
    assertThat(refreshed.body()).isEqualTo("b");
    assertThat(decoded(sid(refreshed))).startsWith("1." + (now - 100) + ".").endsWith("." + b);
    // Past idle_timeout, or past absolute_timeout: a new session wherever the balancer picks.
    for (var old : List.of(craft(b, now - 100, now - 61), craft(b, now - 601, now - 1))) {
      var served = new HashSet<String>();
      for (int i = 0; i < 6; i++) {
        var res = withCookie("/", old);
        served.add(res.body());
        var fresh = sid(res);
        assertThat(fresh).isNotNull();
        long start = Long.parseLong(decoded(fresh).split("\\.")[1]);
        assertThat(start).isGreaterThanOrEqualTo(now);
      }
      assertThat(served).containsExactlyInAnyOrder("a", "b", "c");
    }
  }

  @Test
  void forgedAndMalformedValuesGetANormalPickAndANewSession() throws Exception {
    try (var outsider = new Node("outsider")) {
      gw = Gateways.start(dir, config(nodes, "{name: sid}", ""));
      long now = now();
      var values =
          List.of(
              craft(outsider.address(), now, now),
              craft("10.255.255.1:80", now, now),
              "not base64!",
              "",
              Base64.getUrlEncoder().encodeToString("2.1.1.x".getBytes(StandardCharsets.UTF_8)),
              Base64.getUrlEncoder()
                  .encodeToString(
                      ("1.x.1." + node("a").address()).getBytes(StandardCharsets.UTF_8)),
              craft(node("a").address(), now + 3600, now + 3600),
              "A".repeat(5000));
      for (var v : values) {
        var res = withCookie("/", v);
        assertThat(res.statusCode()).as(v).isEqualTo(200);
        assertThat(res.body()).as(v).isIn("a", "b", "c");
        assertThat(decoded(sid(res))).as(v).endsWith("." + node(res.body()).address());
      }
      assertThat(outsider.requests.get()).isZero();
    }
  }

  @Test
  void theNodesOwnCookiesStayAndAPermanentCookieHasAMaxAge() throws Exception {
    gw =
        Gateways.start(
            dir, config(nodes, "{name: sid, lifetime: permanent, absolute_timeout: 3600}", ""));
    var res = gw.get("/own-cookie");
    assertThat(res.headers().allValues("set-cookie"))
        .hasSize(2)
        .contains("pref=" + res.body() + "; Path=/")
        .anySatisfy(
            c -> assertThat(c).matches("sid=[A-Za-z0-9_-]+; Path=/; HttpOnly; Max-Age=3600"));
  }

  @Test
  void aSessionSticksAcrossTrafficSplitsUpstreams() throws Exception {
    var session = "{name: sid}";
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: r
                uri: /*
                upstream:
                  nodes: {"%s": 1}
                  session_persistence: %s
                plugins:
                  traffic-split:
                    rules:
                      - weighted_upstreams:
                          - upstream:
                              nodes: {"%s": 1, "%s": 1}
                              session_persistence: %s
                            weight: 1
                          - weight: 1
            """
                .formatted(
                    node("a").address(),
                    session,
                    node("b").address(),
                    node("c").address(),
                    session));
    var sessions = new java.util.HashMap<String, String>();
    for (int i = 0; i < 8; i++) {
      var res = gw.get("/");
      sessions.putIfAbsent(res.body(), sid(res));
    }
    assertThat(sessions).containsOnlyKeys("a", "b", "c");
    for (var e : sessions.entrySet()) {
      for (int i = 0; i < 6; i++) {
        var res = withCookie("/", e.getValue());
        assertThat(res.body()).isEqualTo(e.getKey());
        assertThat(sid(res)).isNull();
      }
    }
  }
}
