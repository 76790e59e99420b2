package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every plugin through the real proxy, and the configurations each refuses. */
class PluginsIT {

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

  /** A route on {@code uri} to the test upstream, with {@code plugins} (YAML, already indented). */
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

  String routes(String... routes) {
    return "routes:\n" + String.join("", routes);
  }

  @Test
  void keyAuthFindsTheConsumerByHeaderOrQueryAndHidesTheKey() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(route("r1", "/*", "key-auth: {hide_credentials: true}"))
                + """
                consumers:
                  - username: jack
                    plugins:
                      key-auth: {key: jack-key}
                """);
    var missing = gw.get("/a");
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.body()).contains("Missing API key in request");
    assertThat(gw.get("/a", "apikey", "wrong").body()).contains("Invalid API key in request");
    var ok = gw.get("/a", "apikey", "jack-key");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).doesNotContainKey("apikey");
    assertThat(gw.get("/a?apikey=jack-key&x=1").statusCode()).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /a?x=1");
  }

  @Test
  void consumerPluginsJoinTheRoutesOnceIdentified() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(route("r1", "/*", "key-auth: {}"))
                + """
                consumers:
                  - username: limited
                    plugins:
                      key-auth: {key: k1}
                      limit-count: {count: 1, time_window: 60, rejected_code: 429}
                  - username: free
                    plugins:
                      key-auth: {key: k2}
                """);
    assertThat(gw.get("/a", "apikey", "k1").statusCode()).isEqualTo(200);
    assertThat(gw.get("/a", "apikey", "k1").statusCode()).isEqualTo(429);
    for (int i = 0; i < 3; i++) {
      assertThat(gw.get("/a", "apikey", "k2").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void basicAuthChecksThePassword() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(route("r1", "/*", "basic-auth: {}"))
                + """
                consumers:
                  - username: ann
                    plugins:
                      basic-auth: {username: ann, password: s3cret}
                """);
    var missing = gw.get("/a");
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.headers().firstValue("www-authenticate")).hasValue("Basic realm='.'");
    assertThat(gw.get("/a", "Authorization", basic("ann", "nope")).statusCode()).isEqualTo(401);
    assertThat(gw.get("/a", "Authorization", "Basic !!!").statusCode()).isEqualTo(401);
    assertThat(gw.get("/a", "Authorization", basic("ann", "s3cret")).statusCode()).isEqualTo(200);
  }

  static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void jwtAuthVerifiesHs256AndRs256AndExpiry() throws Exception {
    var pair = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    var pem =
        "-----BEGIN PUBLIC KEY-----\\n"
            + Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(pair.getPublic().getEncoded())
                .replace("\n", "\\n")
            + "\\n-----END PUBLIC KEY-----";
    gw =
        Gateways.start(
            dir,
            routes(route("r1", "/*", "jwt-auth: {}"))
                + """
                consumers:
                  - username: hs
                    plugins:
                      jwt-auth: {key: hs-key, secret: hs-secret}
                  - username: rs
                    plugins:
                      jwt-auth: {key: rs-key, algorithm: RS256, public_key: "%s"}
                """
                    .formatted(pem));
    long now = System.currentTimeMillis() / 1000;
    var hs = hs256("{\"key\":\"hs-key\",\"exp\":" + (now + 60) + "}", "hs-secret");
    assertThat(gw.get("/a", "Authorization", "Bearer " + hs).statusCode()).isEqualTo(200);
    assertThat(gw.get("/a?jwt=" + hs).statusCode()).isEqualTo(200);
    assertThat(gw.get("/a", "Cookie", "jwt=" + hs).statusCode()).isEqualTo(200);
    var forged = hs256("{\"key\":\"hs-key\"}", "other-secret");
    assertThat(gw.get("/a", "Authorization", forged).body()).contains("failed to verify jwt");
    var expired = hs256("{\"key\":\"hs-key\",\"exp\":" + (now - 10) + "}", "hs-secret");
    assertThat(gw.get("/a", "Authorization", expired).body()).contains("token expired");
    var early = hs256("{\"key\":\"hs-key\",\"nbf\":" + (now + 600) + "}", "hs-secret");
    assertThat(gw.get("/a", "Authorization", early).body()).contains("not valid yet");
    assertThat(gw.get("/a", "Authorization", "a.b").body()).contains("JWT token invalid");
    assertThat(gw.get("/a").body()).contains("Missing JWT token in request");

    var header = b64("{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    var payload = b64("{\"key\":\"rs-key\",\"exp\":" + (now + 60) + "}");
    var sig = Signature.getInstance("SHA256withRSA");
    sig.initSign(pair.getPrivate());
    sig.update((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
    var rs =
        header
            + "."
            + payload
            + "."
            + Base64.getUrlEncoder().withoutPadding().encodeToString(sig.sign());
    assertThat(gw.get("/a", "Authorization", rs).statusCode()).isEqualTo(200);
    // An RS256 consumer's token signed with HS256 (the algorithm confusion attack) is refused.
    var confused = hs256("{\"key\":\"rs-key\"}", pem);
    assertThat(gw.get("/a", "Authorization", confused).statusCode()).isEqualTo(401);
  }

  static String b64(String json) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  static String hs256(String payload, String secret) throws Exception {
    var signed = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + b64(payload);
    var mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return signed
        + "."
        + Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void ipRestrictionAllowsAndDenies() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route("allow", "/allow", "ip-restriction: {whitelist: [127.0.0.0/8]}"),
                route(
                    "deny",
                    "/deny",
                    "ip-restriction: {blacklist: [127.0.0.1, \"::1\"], message: go away}")));
    assertThat(gw.get("/allow").statusCode()).isEqualTo(200);
    var denied = gw.get("/deny");
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).contains("go away");
  }

  @Test
  void corsAnswersPreflightsAndAddsHeadersForAllowedOrigins() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route(
                    "r1",
                    "/*",
                    "cors: {allow_origins: \"https://a.example,https://b.example\", allow_methods: \"GET,POST\", max_age: 60, allow_credential: true}")));
    var pre =
        gw.client()
            .send(
                HttpRequest.newBuilder(URI.create(gw.url("/x")))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "https://a.example")
                    .header("Access-Control-Request-Method", "POST")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(pre.statusCode()).isEqualTo(200);
    assertThat(pre.headers().firstValue("access-control-allow-origin"))
        .hasValue("https://a.example");
    assertThat(pre.headers().firstValue("access-control-allow-methods")).hasValue("GET,POST");
    assertThat(pre.headers().firstValue("access-control-max-age")).hasValue("60");
    assertThat(pre.headers().firstValue("access-control-allow-credentials")).hasValue("true");
    assertThat(up.requests()).isZero();
    var simple = gw.get("/x", "Origin", "https://b.example");
    assertThat(simple.body()).isEqualTo("up");
    assertThat(simple.headers().firstValue("access-control-allow-origin"))
        .hasValue("https://b.example");
    assertThat(
            gw.get("/x", "Origin", "https://evil.example")
                .headers()
                .firstValue("access-control-allow-origin"))
        .isEmpty();
  }

  @Test
  void proxyRewriteChangesUriMethodHostAndHeaders() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route(
                    "r1",
                    "/old/*",
                    """
                    proxy-rewrite:
                      regex_uri: ["^/old/(.*)", "/new/$1"]
                      host: backend.internal
                      method: POST
                      headers:
                        set: {X-Client: $remote_addr}
                        add: {X-Added: "1"}
                        remove: [X-Drop]
                    """),
                route("r2", "/fixed", "proxy-rewrite: {uri: /to/$arg_id}")));
    assertThat(gw.get("/old/a/b?q=1", "X-Drop", "x").statusCode()).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("POST /new/a/b?q=1");
    assertThat(up.lastHeaders())
        .containsEntry("host", "backend.internal")
        .containsEntry("x-client", "127.0.0.1")
        .containsEntry("x-added", "1")
        .doesNotContainKey("x-drop");
    gw.get("/fixed?id=42");
    assertThat(up.lastRequest()).isEqualTo("GET /to/42?id=42");
  }

  @Test
  void responseRewriteSetsStatusHeadersAndFiltersTheBody() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route(
                    "filters",
                    "/f/*",
                    """
                    response-rewrite:
                      headers: {set: {X-Rewritten: "yes"}}
                      filters:
                        - {regex: "u", scope: global, replace: "U"}
                        - {regex: "^U", scope: once, replace: "[$0]"}
                    """),
                route("body", "/b", "response-rewrite: {status_code: 201, body: replaced}"),
                route("b64", "/b64", "response-rewrite: {body: aGk=, body_base64: true}"),
                route(
                    "when",
                    "/status/*",
                    "response-rewrite: {status_code: 200, body: hidden, vars: [[status, ==, 500]]}")));
    var f = gw.get("/f/x");
    assertThat(f.body()).isEqualTo("[$0]p");
    assertThat(f.headers().firstValue("x-rewritten")).hasValue("yes");
    assertThat(f.headers().firstValue("content-length")).hasValue("5");
    var b = gw.get("/b");
    assertThat(b.statusCode()).isEqualTo(201);
    assertThat(b.body()).isEqualTo("replaced");
    assertThat(gw.get("/b64").body()).isEqualTo("hi");
    assertThat(gw.get("/status/500").body()).isEqualTo("hidden");
    var untouched = gw.get("/status/404");
    assertThat(untouched.statusCode()).isEqualTo(404);
  }

  @Test
  void redirectToHttpsOrAnotherUri() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route("https", "/secure/*", "redirect: {http_to_https: true}"),
                route(
                    "uri",
                    "/moved",
                    "redirect: {uri: /new$uri, ret_code: 307, append_query_string: true}")));
    var noFollow =
        java.net.http.HttpClient.newBuilder()
            .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
            .build();
    var https =
        noFollow.send(
            HttpRequest.newBuilder(URI.create(gw.url("/secure/a?b=1"))).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(https.statusCode()).isEqualTo(301);
    assertThat(https.headers().firstValue("location")).hasValue("https://127.0.0.1/secure/a?b=1");
    var moved =
        noFollow.send(
            HttpRequest.newBuilder(URI.create(gw.url("/moved?x=1"))).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(moved.statusCode()).isEqualTo(307);
    assertThat(moved.headers().firstValue("location")).hasValue("/new/moved?x=1");
    assertThat(up.requests()).isZero();
  }

  @Test
  void faultInjectionAbortsWhereVarsHoldAndDelays() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route(
                    "abort",
                    "/abort",
                    """
                    fault-injection:
                      abort: {http_status: 418, body: "teapot $arg_who", headers: {X-Fault: "1"}, vars: [[[arg_who, ==, me]]]}
                    """),
                route("delay", "/delay", "fault-injection: {delay: {duration: 0.3}}")));
    var hit = gw.get("/abort?who=me");
    assertThat(hit.statusCode()).isEqualTo(418);
    assertThat(hit.body()).isEqualTo("teapot me");
    assertThat(hit.headers().firstValue("x-fault")).hasValue("1");
    assertThat(gw.get("/abort?who=you").statusCode()).isEqualTo(200);
    long start = System.nanoTime();
    assertThat(gw.get("/delay").statusCode()).isEqualTo(200);
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(300_000_000L);
  }

  @Test
  void limitCountCountsPerKeyWithQuotaHeaders() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route(
                    "r1",
                    "/*",
                    "limit-count: {count: 2, time_window: 60, key: http_x_user, rejected_code: 429, rejected_msg: slow down}")));
    var first = gw.get("/a", "X-User", "u1");
    assertThat(first.headers().firstValue("x-ratelimit-limit")).hasValue("2");
    assertThat(first.headers().firstValue("x-ratelimit-remaining")).hasValue("1");
    assertThat(gw.get("/a", "X-User", "u1").statusCode()).isEqualTo(200);
    var third = gw.get("/a", "X-User", "u1");
    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(third.body()).contains("slow down");
    assertThat(third.headers().firstValue("x-ratelimit-remaining")).hasValue("0");
    assertThat(gw.get("/a", "X-User", "u2").statusCode()).isEqualTo(200);
  }

  @Test
  void countsSurviveAConfigChangeElsewhere() throws Exception {
    var r1 = route("r1", "/*", "limit-count: {count: 1, time_window: 60}");
    gw = Gateways.start(dir, routes(r1));
    assertThat(gw.get("/a").statusCode()).isEqualTo(200);
    gw.reload(routes(r1, route("r2", "/other", "request-id: {}")));
    assertThat(gw.get("/a").statusCode()).isEqualTo(503);
  }

  @Test
  void limitReqRejectsBeyondTheBurstAndDelaysWithin() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route(
                    "nodelay",
                    "/n",
                    "limit-req: {rate: 1, burst: 1, key: remote_addr, nodelay: true}"),
                route("delay", "/d", "limit-req: {rate: 5, burst: 5, key: remote_addr}")));
    var codes = new ArrayList<Integer>();
    for (int i = 0; i < 4; i++) {
      codes.add(gw.get("/n").statusCode());
    }
    assertThat(codes).containsExactly(200, 200, 503, 503);
    long start = System.nanoTime();
    for (int i = 0; i < 3; i++) {
      assertThat(gw.get("/d").statusCode()).isEqualTo(200);
    }
    // The 2nd and 3rd waited to fit 5 per second: about 0.2 s and 0.4 s, less the time between.
    assertThat(System.nanoTime() - start).isGreaterThan(250_000_000L);
  }

  @Test
  void limitConnHoldsSlotsUntilTheResponse() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route(
                    "r1",
                    "/*",
                    "limit-conn: {conn: 1, burst: 0, default_conn_delay: 0.1, key: remote_addr, rejected_code: 429}")));
    var slow =
        gw.client()
            .sendAsync(
                HttpRequest.newBuilder(URI.create(gw.url("/delay/500"))).build(),
                HttpResponse.BodyHandlers.ofString());
    org.awaitility.Awaitility.await().until(() -> up.requests() == 1);
    assertThat(gw.get("/fast").statusCode()).isEqualTo(429);
    assertThat(slow.get().statusCode()).isEqualTo(200);
    assertThat(gw.get("/fast").statusCode()).isEqualTo(200);
  }

  @Test
  void requestIdIsSentUpstreamAndBack() throws Exception {
    gw = Gateways.start(dir, routes(route("r1", "/*", "request-id: {algorithm: nanoid}")));
    var res = gw.get("/a");
    var id = res.headers().firstValue("x-request-id").orElseThrow();
    assertThat(id).hasSize(21);
    assertThat(up.lastHeaders()).containsEntry("x-request-id", id);
    assertThat(gw.get("/a", "X-Request-Id", "mine").headers().firstValue("x-request-id"))
        .hasValue("mine");
  }

  @Test
  void prometheusCountsUnderApisixNames() throws Exception {
    gw = Gateways.start(dir, routes(route("r1", "/*", "prometheus: {}")));
    gw.get("/a");
    gw.get("/status/404");
    // The log phase counts a request after its last byte is written, so the client can see the
    // answer a moment before the count moves.
    org.awaitility.Awaitility.await()
        .untilAsserted(
            () ->
                assertThat(gw.status("/metrics"))
                    .contains("apisix_http_status{code=\"200\",route=\"r1\"")
                    .contains("apisix_http_status{code=\"404\",route=\"r1\"")
                    .contains("apisix_http_latency_count{type=\"request\",route=\"r1\"} 2")
                    .contains("apisix_bandwidth{type=\"egress\",route=\"r1\"}"));
  }

  @Test
  void trafficSplitSpreadsByWeightAndMatch() throws Exception {
    try (var other = new TestUpstream("other")) {
      gw =
          Gateways.start(
              dir,
              """
              upstreams:
                - id: canary
                  nodes:
                    "%s": 1
              routes:
                - id: r1
                  uri: /*
                  upstream:
                    nodes:
                      "%s": 1
                  plugins:
                    traffic-split:
                      rules:
                        - match: [{vars: [[http_x_canary, ==, "1"]]}]
                          weighted_upstreams: [{upstream_id: canary, weight: 1}]
                        - weighted_upstreams:
                            - {upstream: {nodes: {"%s": 1}}, weight: 1}
                            - {weight: 3}
              """
                  .formatted(other.node(), up.node(), other.node()));
      assertThat(gw.get("/a", "X-Canary", "1").body()).isEqualTo("other");
      var bodies = new ArrayList<String>();
      for (int i = 0; i < 8; i++) {
        bodies.add(gw.get("/a").body());
      }
      assertThat(bodies.stream().filter("other"::equals).count()).isEqualTo(2);
      assertThat(bodies.stream().filter("up"::equals).count()).isEqualTo(6);
    }
  }

  @Test
  void trafficSplitEntriesChangeTheHeadersOfTheRequestsTheyTakeAndOfTheirAnswers()
      throws Exception {
    // Archway's extension, as a Gateway API rule with several backendRefs and backendRef header
    // filters translates: each entry's header changes apply only to what that entry takes, after
    // the route's own proxy-rewrite.
    try (var other = new TestUpstream("other")) {
      gw =
          Gateways.start(
              dir,
              """
              routes:
                - id: r1
                  uri: /*
                  upstream: {nodes: {"%s": 1}}
                  plugins:
                    proxy-rewrite: {headers: {set: {X-Route: route, X-Backend: route}}}
                    traffic-split:
                      rules:
                        - weighted_upstreams:
                            - upstream: {nodes: {"%s": 1}}
                              weight: 1
                              plugins:
                                proxy-rewrite:
                                  headers: {set: {X-Backend: other}, add: {X-Via: $uri}}
                                response-rewrite: {headers: {set: {X-Answered-By: other}}}
                            - weight: 1
                              plugins:
                                proxy-rewrite: {headers: {remove: [X-Route]}}
              """
                  .formatted(up.node(), other.node()));
      int others = 0;
      for (int i = 0; i < 4; i++) {
        var res = gw.get("/a", "X-Route", "client");
        if (res.body().equals("other")) {
          others++;
          assertThat(other.lastHeaders())
              .containsEntry("x-backend", "other")
              .containsEntry("x-route", "route")
              .containsEntry("x-via", "/a");
          assertThat(res.headers().firstValue("X-Answered-By")).contains("other");
        } else {
          assertThat(res.body()).isEqualTo("up");
          assertThat(up.lastHeaders())
              .containsEntry("x-backend", "route")
              .doesNotContainKey("x-route")
              .doesNotContainKey("x-via");
          assertThat(res.headers().firstValue("X-Answered-By")).isEmpty();
        }
      }
      assertThat(others).isEqualTo(2);
    }
  }

  @Test
  void trafficSplitEntriesRewriteTheUriAndHostOfTheRequestsTheyTake() throws Exception {
    // A Gateway API rule with several backendRefs, each with its URLRewrite: the entry's
    // proxy-rewrite (uri, regex_uri, host) applies only to what that entry takes.
    try (var other = new TestUpstream("other")) {
      gw =
          Gateways.start(
              dir,
              """
              routes:
                - id: r1
                  uri: /shop/*
                  upstream: {nodes: {"%s": 1}}
                  plugins:
                    traffic-split:
                      rules:
                        - weighted_upstreams:
                            - upstream: {nodes: {"%s": 1}}
                              weight: 1
                              plugins:
                                proxy-rewrite: {uri: /fixed, host: other.internal}
                            - weight: 1
                              plugins:
                                proxy-rewrite: {regex_uri: ["^/shop(/.*)$", "/v1$1"]}
              """
                  .formatted(up.node(), other.node()));
      int others = 0;
      for (int i = 0; i < 4; i++) {
        var res = gw.get("/shop/a?q=1");
        if (res.body().equals("other")) {
          others++;
          assertThat(other.lastRequest()).isEqualTo("GET /fixed?q=1");
          assertThat(other.lastHeaders()).containsEntry("host", "other.internal");
        } else {
          assertThat(res.body()).isEqualTo("up");
          assertThat(up.lastRequest()).isEqualTo("GET /v1/a?q=1");
          assertThat(up.lastHeaders().get("host")).isNotEqualTo("other.internal");
        }
      }
      assertThat(others).isEqualTo(2);
    }
  }

  @Test
  void globalRulesRunOnEveryRouteAndPluginConfigsAndServicesMerge() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            global_rules:
              - id: g
                plugins:
                  response-rewrite: {headers: {set: {X-Global: "1"}}}
            plugin_configs:
              - id: pc
                plugins:
                  proxy-rewrite: {headers: {set: {X-From: plugin-config}}}
            services:
              - id: s
                plugins:
                  proxy-rewrite: {headers: {set: {X-From: service}}}
                  request-id: {}
            routes:
              - id: r1
                uri: /*
                service_id: s
                plugin_config_id: pc
                upstream:
                  nodes:
                    "%s": 1
            """
                .formatted(up.node()));
    var res = gw.get("/a");
    assertThat(res.headers().firstValue("x-global")).hasValue("1");
    assertThat(up.lastHeaders())
        .containsEntry("x-from", "plugin-config")
        .containsKey("x-request-id");
  }

  @Test
  void aRouteWithABadPluginIsNotServedAndCountedTheOthersAre() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route("ok", "/ok", "request-id: {}"),
                route("unknown", "/unknown", "no-such-plugin: {}"),
                route("schema", "/schema", "limit-count: {count: 0, time_window: 1}"),
                route("field", "/field", "key-auth: {heder: apikey}"),
                route(
                    "regex", "/regex", "response-rewrite: {filters: [{regex: \"(\", replace: x}]}"),
                route(
                    "policy", "/policy", "limit-count: {count: 1, time_window: 1, policy: redis}"),
                route("refused", "/refused", "gm: {}")));
    assertThat(gw.get("/ok").statusCode()).isEqualTo(200);
    for (var path : List.of("/unknown", "/schema", "/field", "/regex", "/policy", "/refused")) {
      assertThat(gw.get(path).statusCode()).as(path).isEqualTo(404);
    }
    assertThat(gw.status("/metrics"))
        .contains("archway_config_objects_rejected{kind=\"routes\"} 6");
  }

  @Test
  void manyConcurrentRequestsThroughAsyncPluginsAllComplete() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                route(
                    "r1",
                    "/*",
                    "fault-injection: {delay: {duration: 0.01}}\nlimit-count: {count: 100000, time_window: 60}")));
    assertThat(gw.getAtOnce("/a", 200)).hasSize(200).containsOnly(200);
  }
}
