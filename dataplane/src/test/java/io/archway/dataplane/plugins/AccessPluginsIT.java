package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ua-restriction, referer-restriction, uri-blocker, consumer-restriction and request-id's ksuid
 * through the real proxy and a real upstream: APISIX's statuses and messages.
 */
class AccessPluginsIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
  }

  String route(String id, String uri, String plugins) {
    return """
          - id: %s
            uri: "%s"
            upstream:
              nodes:
                "%s": 1
            plugins:
        %s
        """
        .formatted(id, uri, up.node(), plugins.indent(6).stripTrailing());
  }

  @Test
  void userAgentAllowAndDenyLists() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "deny", "/deny", "ua-restriction: {denylist: [\"(Baiduspider)\", \"^curl/\"]}")
                + route(
                    "allow",
                    "/allow",
                    """
                    ua-restriction:
                      allowlist: ["Mozilla/.*Firefox"]
                      bypass_missing: true
                      message: "Do you want to do something bad?\"""")
                + route("missing", "/missing", "ua-restriction: {denylist: [\"bot\"]}"));
    var denied = gw.get("/deny", "User-Agent", "Mozilla/5.0 (Baiduspider)");
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).isEqualTo("{\"message\":\"Not allowed\"}\n");
    assertThat(gw.get("/deny", "User-Agent", "curl/8.1").statusCode()).isEqualTo(403);
    assertThat(gw.get("/deny", "User-Agent", "Mozilla/5.0 Firefox/120").statusCode())
        .isEqualTo(200);

    assertThat(gw.get("/allow", "User-Agent", "Mozilla/5.0 Firefox/120").statusCode())
        .isEqualTo(200);
    var notListed = gw.get("/allow", "User-Agent", "Wget/1.21");
    assertThat(notListed.statusCode()).isEqualTo(403);
    assertThat(notListed.body()).contains("Do you want to do something bad?");

    // The JDK client always sends a User-Agent: a raw request without one.
    assertThat(raw("/missing")).startsWith("HTTP/1.1 403");
    assertThat(raw("/allow")).startsWith("HTTP/1.1 200");
  }

  /** A GET with no User-Agent and no Referer; the status line and the rest. */
  private String raw(String path) throws Exception {
    try (var s = new java.net.Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  @Test
  void refererWhiteAndBlackLists() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "white",
                    "/white",
                    "referer-restriction: {whitelist: [\"xx.com\", \"*.yy.com\"]}")
                + route(
                    "black",
                    "/black",
                    """
                    referer-restriction:
                      blacklist: ["*.bad.example"]
                      bypass_missing: true
                      message: "Go away\""""));
    assertThat(gw.get("/white", "Referer", "http://xx.com/x").statusCode()).isEqualTo(200);
    assertThat(gw.get("/white", "Referer", "https://a.yy.com:8443/x?y").statusCode())
        .isEqualTo(200);
    var other = gw.get("/white", "Referer", "http://yy.com/x");
    assertThat(other.statusCode()).isEqualTo(403);
    assertThat(other.body()).isEqualTo("{\"message\":\"Your referer host is not allowed\"}\n");
    assertThat(gw.get("/white", "Referer", "not a url").statusCode()).isEqualTo(403);
    assertThat(raw("/white")).startsWith("HTTP/1.1 403");

    var bad = gw.get("/black", "Referer", "http://www.bad.example/");
    assertThat(bad.statusCode()).isEqualTo(403);
    assertThat(bad.body()).contains("Go away");
    assertThat(gw.get("/black", "Referer", "http://good.example/").statusCode()).isEqualTo(200);
    assertThat(raw("/black")).startsWith("HTTP/1.1 200");
  }

  @Test
  void uriBlockerAnswersBeforeTheUpstream() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/*",
                    """
                    uri-blocker:
                      block_rules: ["root.exe", "root.m+"]
                      rejected_code: 410
                      rejected_msg: "access is not allowed"
                      case_insensitive: true""")
                + route("r2", "/plain/*", "uri-blocker: {block_rules: [\"secret=\"]}"));
    var blocked = gw.get("/a/ROOT.exe");
    assertThat(blocked.statusCode()).isEqualTo(410);
    assertThat(blocked.body()).isEqualTo("{\"error_msg\":\"access is not allowed\"}\n");
    assertThat(gw.get("/a/root.mmm?x=1").statusCode()).isEqualTo(410);
    assertThat(gw.get("/a/index.html").statusCode()).isEqualTo(200);
    // The query is part of what is matched; without a message, APISIX's error body.
    var q = gw.get("/plain/x?secret=1");
    assertThat(q.statusCode()).isEqualTo(403);
    assertThat(q.body()).isEqualTo("{\"error_msg\":\"403 Forbidden\"}\n");
    assertThat(gw.get("/plain/x?Secret=1").statusCode()).isEqualTo(200);
    assertThat(up.requests()).isEqualTo(2);
  }

  @Test
  void consumerRestrictionRunsAfterKeyAuth() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "by-name",
                    "/name",
                    """
                    key-auth: {}
                    consumer-restriction: {whitelist: [jack]}""")
                + route(
                    "by-group",
                    "/group",
                    """
                    key-auth: {}
                    consumer-restriction:
                      type: consumer_group_id
                      blacklist: [interns]
                      rejected_code: 401
                      rejected_msg: "interns may not\"""")
                + route(
                    "by-method",
                    "/method",
                    """
                    key-auth: {}
                    consumer-restriction:
                      allowed_by_methods:
                        - {user: jack, methods: [POST]}
                        - {user: rose, methods: [GET]}""")
                + route("open", "/open", "key-auth: {}")
                + route("closed", "/closed", "key-auth: {}")
                + route("anonymous", "/anonymous", "consumer-restriction: {whitelist: [jack]}")
                + """
                consumer_groups:
                  - id: staff
                    plugins: {}
                  - id: interns
                    plugins: {}
                consumers:
                  - username: jack
                    group_id: staff
                    plugins:
                      key-auth: {key: jack-key}
                  - username: rose
                    group_id: interns
                    plugins:
                      key-auth: {key: rose-key}
                  - username: ann
                    plugins:
                      key-auth: {key: ann-key}
                  - username: tom
                    plugins:
                      key-auth: {key: tom-key}
                      consumer-restriction: {type: route_id, whitelist: [open]}
                """);
    assertThat(gw.get("/name", "apikey", "jack-key").statusCode()).isEqualTo(200);
    var rose = gw.get("/name", "apikey", "rose-key");
    assertThat(rose.statusCode()).isEqualTo(403);
    assertThat(rose.body()).isEqualTo("{\"message\":\"The consumer_name is forbidden.\"}\n");
    // key-auth answers first when there is no key.
    assertThat(gw.get("/name").statusCode()).isEqualTo(401);

    assertThat(gw.get("/group", "apikey", "jack-key").statusCode()).isEqualTo(200);
    var intern = gw.get("/group", "apikey", "rose-key");
    assertThat(intern.statusCode()).isEqualTo(401);
    assertThat(intern.body()).contains("interns may not");

    assertThat(send("POST", "/method", "jack-key").statusCode()).isEqualTo(200);
    assertThat(send("GET", "/method", "jack-key").statusCode()).isEqualTo(403);
    assertThat(send("GET", "/method", "rose-key").statusCode()).isEqualTo(200);
    assertThat(send("DELETE", "/method", "rose-key").statusCode()).isEqualTo(403);

    // tom's own restriction joins the routes' plugins: by route id.
    assertThat(gw.get("/open", "apikey", "tom-key").statusCode()).isEqualTo(200);
    var closed = gw.get("/closed", "apikey", "tom-key");
    assertThat(closed.statusCode()).isEqualTo(403);
    assertThat(closed.body()).contains("The route_id is forbidden.");
    assertThat(gw.get("/closed", "apikey", "jack-key").statusCode()).isEqualTo(200);

    // No auth plugin identified anyone.
    var anonymous = gw.get("/anonymous");
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.body())
        .contains("The request is rejected, please check the consumer_name for this request");
    // A consumer with no group has no consumer_group_id to check: refused the same way.
    var ungrouped = gw.get("/group", "apikey", "ann-key");
    assertThat(ungrouped.statusCode()).isEqualTo(401);
    assertThat(ungrouped.body()).contains("please check the consumer_group_id");
  }

  @Test
  void consumerRestrictionByService() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            services:
              - id: billing
                plugins:
                  key-auth: {}
              - id: reports
                plugins:
                  key-auth: {}
            routes:
              - id: r1
                uri: /billing
                service_id: billing
                upstream:
                  nodes:
                    "%1$s": 1
              - id: r2
                uri: /reports
                service_id: reports
                upstream:
                  nodes:
                    "%1$s": 1
            consumers:
              - username: jack
                plugins:
                  key-auth: {key: jack-key}
                  consumer-restriction: {type: service_id, whitelist: [billing], rejected_code: 401}
            """
                .formatted(up.node()));
    assertThat(gw.get("/billing", "apikey", "jack-key").statusCode()).isEqualTo(200);
    var other = gw.get("/reports", "apikey", "jack-key");
    assertThat(other.statusCode()).isEqualTo(401);
    assertThat(other.body()).isEqualTo("{\"message\":\"The service_id is forbidden.\"}\n");
  }

  private HttpResponse<String> send(String method, String path, String key) throws Exception {
    return gw.client()
        .send(
            HttpRequest.newBuilder(URI.create(gw.url(path)))
                .header("apikey", key)
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void requestIdMakesKsuids() throws Exception {
    gw = Gateways.start(dir, "routes:\n" + route("r1", "/*", "request-id: {algorithm: ksuid}"));
    var res = gw.get("/a");
    var id = res.headers().firstValue("x-request-id").orElseThrow();
    assertThat(id).matches("[0-9A-Za-z]{27}");
    assertThat(up.lastHeaders()).containsEntry("x-request-id", id);
    assertThat(gw.get("/a").headers().firstValue("x-request-id").orElseThrow()).isNotEqualTo(id);
    // One the client sent is kept.
    assertThat(gw.get("/a", "X-Request-Id", "mine").headers().firstValue("x-request-id"))
        .hasValue("mine");
  }
}
