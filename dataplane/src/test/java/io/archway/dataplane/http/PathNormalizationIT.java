package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.route.PathNormalizer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20, finding 4: paths that mean {@code /admin/secret} to the upstream cannot get past the
 * key-auth on {@code /admin/*} by way of the open {@code /public/*} route.
 */
class PathNormalizationIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;

  @BeforeEach
  void start() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
  }

  private String config() {
    return """
        routes:
          - id: admin
            uri: /admin/*
            upstream: {nodes: {"%1$s": 1}}
            plugins:
              key-auth: {}
          - id: public
            uri: /public/*
            upstream: {nodes: {"%1$s": 1}}
          - id: seen
            uri: /seen/*
            upstream: {nodes: {"%1$s": 1}}
            plugins:
              proxy-rewrite: {uri: "/plugin-saw$uri"}
          - id: vars
            uri: /v/*
            vars: [["uri", "==", "/v/x"]]
            upstream: {nodes: {"%1$s": 1}}
          - id: ws
            uri: /ws
            enable_websocket: true
            upstream: {nodes: {"%1$s": 1}}
          - id: raw
            uri: /raw/*
            raw_path: true
            upstream: {nodes: {"%1$s": 1}}
          - id: raw-seen
            uri: /raw-seen/*
            raw_path: true
            upstream: {nodes: {"%1$s": 1}}
            plugins:
              proxy-rewrite: {uri: "/plugin-saw$uri"}
        consumers:
          - username: admin
            plugins:
              key-auth: {key: admin-key}
        """
        .formatted(up.node());
  }

  /** One request on a new connection: the status line's code. */
  private int status(String target) throws Exception {
    return status(target, "");
  }

  private int status(String target, String headers) throws Exception {
    try (var raw = new Raw(gw.port())) {
      raw.send("GET " + target + " HTTP/1.1\r\nHost: gw\r\n" + headers + "\r\n");
      var res = raw.response();
      return Integer.parseInt(res.substring(9, 12));
    }
  }

  static final List<String> BYPASSES =
      List.of(
          "/public/../admin/secret",
          "/public/%2e%2e/admin/secret",
          "/public/..%2fadmin/secret",
          "/public/.%2e/admin/secret",
          "/public/x/../../admin/secret",
          "/public/%2E%2E%2Fadmin/secret",
          "/public//../admin/secret",
          "/public/./%2e%2e/admin/secret?x=1",
          "/%61dmin/secret",
          "//admin/secret",
          "http://gw/public/../admin/secret");

  static final List<String> BAD =
      List.of(
          "/public/%00",
          "/public/a%00b",
          "/public/\u0000",
          "/public/\u0001",
          "/public/\u007f",
          "/public/%01",
          "/public/%7F",
          "/public/%zz",
          "/public/%4",
          "/..",
          "/public/../..",
          "/public/../../admin/secret",
          "/public/%C0%AE%C0%AE/admin/secret",
          "/public/a#b",
          "/public/..;/admin/secret",
          "*",
          "ftp://gw/public/x");

  @Test
  void bypassesOfKeyAuthGet401AndNeverReachTheUpstream() throws Exception {
    gw = Gateways.start(dir, config());
    assertThat(status("/public/x")).isEqualTo(200);
    int before = up.requests();
    for (var target : BYPASSES) {
      assertThat(status(target)).as(target).isEqualTo(401);
    }
    assertThat(up.requests()).isEqualTo(before);
    // with the key, the same paths reach /admin/secret, as the upstream would have read them
    for (var target : BYPASSES) {
      assertThat(status(target, "apikey: admin-key\r\n")).as(target).isEqualTo(200);
      assertThat(up.lastRequest()).as(target).startsWith("GET /admin/secret");
    }
  }

  @Test
  void controlCharactersBadEscapesAndClimbsGet400AndCloseTheConnection() throws Exception {
    gw = Gateways.start(dir, config());
    int before = up.requests();
    for (var target : BAD) {
      try (var raw = new Raw(gw.port())) {
        raw.send("GET " + target + " HTTP/1.1\r\nHost: gw\r\n\r\n");
        assertThat(raw.response()).as(target).startsWith("HTTP/1.1 400");
        assertThat(raw.closed()).as(target).isTrue();
      }
    }
    // on the raw_path route too: its opt-in does not lift these
    for (var target : List.of("/raw/%00", "/raw/\u0001", "/raw/../..", "/raw/%zz")) {
      assertThat(status(target)).as(target).isEqualTo(400);
    }
    assertThat(up.requests()).isEqualTo(before);
    assertThat(gw.dataplane().servers().httpMetrics().errors("bad_request_target"))
        .isGreaterThanOrEqualTo(BAD.size());
  }

  @Test
  void theUpstreamPluginsAndVarsSeeTheNormalizedPath() throws Exception {
    gw = Gateways.start(dir, config());
    assertThat(status("/public/a/./b//c/%2e%2e/d%7e%2f%3f?q=%2e%2e/../&r")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /public/a/b/d~/%3F?q=%2e%2e/../&r");
    assertThat(status("/public/caf%c3%a9")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /public/caf%C3%A9");
    assertThat(status("/seen/a/../b")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /plugin-saw/seen/b");
    // $uri is decoded: a rewrite from it is escaped again, so %252e cannot become a dot segment
    assertThat(status("/seen/%252e%252e/x%20y")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /plugin-saw/seen/%252e%252e/x%20y");
    assertThat(status("/v/./y/../x")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /v/x");
    assertThat(status("/v/y")).isEqualTo(404);
  }

  @Test
  void anAsteriskIsRefusedAndTheConnectionClosed() throws Exception {
    gw = Gateways.start(dir, config());
    try (var raw = new Raw(gw.port())) {
      raw.send("OPTIONS * HTTP/1.1\r\nHost: gw\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 400");
    }
  }

  @Test
  void aWebSocketUpgradeGoesToTheNormalizedPath() throws Exception {
    gw = Gateways.start(dir, config());
    try (var raw = new Raw(gw.port())) {
      // the test upstream upgrades /ws only
      raw.send(
          "GET /x/%2e%2e/ws HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\n"
              + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              + "Sec-WebSocket-Version: 13\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 101");
    }
  }

  @Test
  void aRawPathRouteForwardsThePathAsReceived() throws Exception {
    gw = Gateways.start(dir, config());
    assertThat(status("/raw/./a//b/%2e%2e/c%2fd?q=%2e")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /raw/./a//b/%2e%2e/c%2fd?q=%2e");
    assertThat(status("/raw-seen/a/../b")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /plugin-saw/raw-seen/a/../b");
    // routing still uses the normalized path: this is /admin/secret, not the raw route
    assertThat(status("/raw/../admin/secret")).isEqualTo(401);
    // and only that route: the others normalize
    assertThat(status("/public/./x")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /public/x");
  }

  @Test
  void escapedSlashesAndMergeSlashesFollowTheSettings() throws Exception {
    gw =
        Gateways.start(
            dir,
            config(),
            HttpSettings.DEFAULTS
                .withAccessLog("off")
                .withPaths(new PathNormalizer.Policy(false, PathNormalizer.EscapedSlashes.REJECT)));
    assertThat(status("/public/..%2fadmin/secret")).isEqualTo(400);
    assertThat(status("/public/a//b")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /public/a//b");
    assertThat(status("/public/../admin/secret")).isEqualTo(401);
    gw.close();
    gw =
        Gateways.start(
            dir,
            config(),
            HttpSettings.DEFAULTS
                .withAccessLog("off")
                .withPaths(new PathNormalizer.Policy(true, PathNormalizer.EscapedSlashes.KEEP)));
    // kept: %2F is no separator, so the path stays under /public and is forwarded as such
    assertThat(status("/public/..%2fadmin/secret")).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /public/..%2Fadmin/secret");
  }
}
