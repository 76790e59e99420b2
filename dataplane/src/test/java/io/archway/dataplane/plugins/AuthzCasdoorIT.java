package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.testing.Ports;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * authz-casdoor through a real dataplane and a real upstream, against a server in the test that
 * speaks Casdoor's side of the protocol: its authorize page sends the browser back with a code, its
 * token endpoint checks the client's credentials, the code and the redirect URI it is given.
 */
class AuthzCasdoorIT {

  static final String CALLBACK = "http://127.0.0.1:9080/anything/callback";

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  HttpServer casdoor;
  String endpoint;
  final Map<String, Map<String, List<String>>> seen = new ConcurrentHashMap<>();
  final CountDownLatch release = new CountDownLatch(1);
  final HttpClient browser = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    up = new TestUpstream("up");
    casdoor = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    casdoor.createContext("/login/oauth/authorize", this::authorize);
    casdoor.createContext("/api/login/oauth/access_token", this::token);
    casdoor.setExecutor(Executors.newFixedThreadPool(4));
    casdoor.start();
    endpoint = "http://127.0.0.1:" + casdoor.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (gw != null) {
      gw.close();
    }
    casdoor.stop(0);
    up.close();
  }

  /** Casdoor's login page, the user already signed in: back to redirect_uri with a code. */
  private void authorize(HttpExchange ex) throws java.io.IOException {
    var q = new QueryStringDecoder(ex.getRequestURI()).parameters();
    seen.put("authorize", q);
    var code = ex.getRequestURI().getQuery().contains("client_id=app") ? "good-code" : "nope";
    ex.getResponseHeaders()
        .add(
            "Location",
            q.get("redirect_uri").get(0) + "?code=" + code + "&state=" + q.get("state").get(0));
    ex.sendResponseHeaders(302, -1);
    ex.close();
  }

  /** Casdoor's token endpoint: a form POST with the client's credentials and the code. */
  private void token(HttpExchange ex) throws java.io.IOException {
    var body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    var form = new QueryStringDecoder(body, false).parameters();
    seen.put("token", form);
    seen.put(
        "token-meta",
        Map.of(
            "method", List.of(ex.getRequestMethod()),
            "content-type",
                List.of(String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")))));
    var code = form.getOrDefault("code", List.of("")).get(0);
    boolean client =
        form.getOrDefault("client_id", List.of()).equals(List.of("app"))
            && form.getOrDefault("client_secret", List.of()).equals(List.of("s3cret"))
            && form.getOrDefault("grant_type", List.of()).equals(List.of("authorization_code"))
            && form.getOrDefault("redirect_uri", List.of()).equals(List.of(CALLBACK));
    if (code.equals("slow")) {
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      code = "good-code";
    }
    switch (client ? code : "bad-client") {
      case "good-code" ->
          answer(
              ex,
              200,
              "{\"access_token\": \"tok-1\", \"token_type\": \"Bearer\", \"expires_in\": 7200,"
                  + " \"refresh_token\": \"r\", \"scope\": \"read\"}");
      case "zero" -> answer(ex, 200, "{\"access_token\": \"tok-0\", \"expires_in\": 0}");
      case "no-token" ->
          answer(ex, 200, "{\"error\": \"invalid_grant\", \"error_description\": \"expired\"}");
      case "not-json" -> answer(ex, 200, "<html>login</html>");
      default -> answer(ex, 400, "{\"error\": \"invalid_grant\"}");
    }
  }

  static void answer(HttpExchange ex, int status, String json) throws java.io.IOException {
    var body = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
    ex.close();
  }

  String route(String id, String uri, String endpointAddr) {
    return """
          - id: %s
            uri: "%s"
            upstream:
              nodes:
                "%s": 1
            plugins:
              authz-casdoor:
                endpoint_addr: "%s"
                callback_url: "%s"
                client_id: app
                client_secret: s3cret
        """
        .formatted(id, uri, up.node(), endpointAddr, CALLBACK);
  }

  String config(String downEndpoint) {
    return "routes:\n"
        + route("casdoor", "/anything/*", endpoint)
        + route("down", "/down/*", downEndpoint).replace("/anything/callback", "/down/callback")
        + """
          - id: open
            uri: /open
            upstream:
              nodes:
                "%s": 1
        """
            .formatted(up.node());
  }

  void startGateway() throws Exception {
    int closed = Ports.free();
    // One event loop: a callback waiting for Casdoor on it would stop every other request.
    gw = Gateways.start(dir, config("http://127.0.0.1:" + closed), o -> o.withWorkers(1));
  }

  static String cookieOf(HttpResponse<?> r) {
    var set = r.headers().firstValue("set-cookie").orElseThrow();
    return set.substring(0, set.indexOf(';'));
  }

  /** A first visit: the login cookie and the state sent to Casdoor. */
  record Login(String cookie, String state, String location) {}

  Login begin(String path) throws Exception {
    var first = gw.get(path);
    assertThat(first.statusCode()).isEqualTo(302);
    var location = first.headers().firstValue("location").orElseThrow();
    var state = new QueryStringDecoder(URI.create(location)).parameters().get("state").get(0);
    return new Login(cookieOf(first), state, location);
  }

  @Test
  void aBrowserIsSentToCasdoorAndComesBackSignedIn() throws Exception {
    startGateway();
    var login = begin("/anything/page?x=1");
    assertThat(login.location())
        .startsWith(
            endpoint
                + "/login/oauth/authorize?response_type=code&client_id=app&redirect_uri="
                + URLEncoder.encode(CALLBACK, StandardCharsets.UTF_8)
                + "&scope=read&state=");
    assertThat(login.state()).hasSizeGreaterThan(20);
    assertThat(login.cookie()).startsWith("session=");
    assertThat(up.requests()).isZero();

    // The browser logs in at Casdoor, which sends it back to the callback with a code.
    var atCasdoor =
        browser.send(
            HttpRequest.newBuilder(URI.create(login.location())).build(),
            HttpResponse.BodyHandlers.discarding());
    assertThat(atCasdoor.statusCode()).isEqualTo(302);
    var back = URI.create(atCasdoor.headers().firstValue("location").orElseThrow());
    assertThat(back.getPath()).isEqualTo("/anything/callback");

    var done = gw.get(back.getRawPath() + "?" + back.getRawQuery(), "Cookie", login.cookie());
    assertThat(done.statusCode()).isEqualTo(302);
    assertThat(done.headers().firstValue("location")).hasValue("/anything/page?x=1");
    assertThat(done.headers().firstValue("set-cookie").orElseThrow())
        .startsWith("session=")
        .contains("Max-Age=7200", "HttpOnly", "Path=/")
        .doesNotContain("tok-1");
    assertThat(seen.get("token"))
        .containsEntry("code", List.of("good-code"))
        .containsEntry("client_id", List.of("app"))
        .containsEntry("client_secret", List.of("s3cret"))
        .containsEntry("grant_type", List.of("authorization_code"))
        .containsEntry("redirect_uri", List.of(CALLBACK));
    assertThat(seen.get("token-meta"))
        .containsEntry("method", List.of("POST"))
        .containsEntry("content-type", List.of("application/x-www-form-urlencoded"));
    assertThat(up.requests()).isZero();

    var session = cookieOf(done);
    var page = gw.get("/anything/page?x=1", "Cookie", session);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /anything/page?x=1");
    assertThat(gw.get("/anything/other", "Cookie", session).statusCode()).isEqualTo(200);

    // No session, the login cookie (no token yet), or a tampered session: back to Casdoor.
    assertThat(gw.get("/anything/page").statusCode()).isEqualTo(302);
    assertThat(gw.get("/anything/page", "Cookie", login.cookie()).statusCode()).isEqualTo(302);
    var value = session.substring("session=".length());
    var tampered =
        "session="
            + value.substring(0, 20)
            + (value.charAt(20) == 'A' ? 'B' : 'A')
            + value.substring(21);
    assertThat(gw.get("/anything/page", "Cookie", tampered).statusCode()).isEqualTo(302);
    // Another route's configuration (another client) does not read this session.
    assertThat(gw.get("/down/page", "Cookie", session).statusCode()).isEqualTo(302);
  }

  @Test
  void aBadCallbackGetsApisixsStatusAndSaysWhy() throws Exception {
    startGateway();
    var login = begin("/anything/page");

    var noLogin = gw.get("/anything/callback?code=good-code&state=" + login.state());
    assertThat(noLogin.statusCode()).isEqualTo(503);
    assertThat(noLogin.body()).contains("no login in progress");

    var noCode = gw.get("/anything/callback?state=" + login.state(), "Cookie", login.cookie());
    assertThat(noCode.statusCode()).isEqualTo(400);
    assertThat(noCode.body()).contains("failed when accessing token. Invalid code or state");
    assertThat(gw.get("/anything/callback?code=good-code", "Cookie", login.cookie()).body())
        .contains("Invalid code or state");

    var badState =
        gw.get("/anything/callback?code=good-code&state=other", "Cookie", login.cookie());
    assertThat(badState.statusCode()).isEqualTo(400);
    assertThat(badState.body()).contains("invalid state");

    for (var c :
        Map.of(
                "refused", "Casdoor answered 400",
                "zero", "invalid access_token",
                "no-token", "no access_token contained",
                "not-json", "Casdoor's answer is not a JSON object")
            .entrySet()) {
      var r =
          gw.get(
              "/anything/callback?code=" + c.getKey() + "&state=" + login.state(),
              "Cookie",
              login.cookie());
      assertThat(r.statusCode()).as(c.getKey()).isEqualTo(503);
      assertThat(r.body())
          .as(c.getKey())
          .contains("authz-casdoor: failed when accessing token: " + c.getValue());
      assertThat(r.headers().firstValue("set-cookie")).isEmpty();
    }

    var down = begin("/down/page");
    var r = gw.get("/down/callback?code=good-code&state=" + down.state(), "Cookie", down.cookie());
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body())
        .contains("authz-casdoor: failed when accessing token: Casdoor could not be reached")
        .doesNotContain("127.0.0.1");
    assertThat(up.requests()).isZero();
  }

  @Test
  void theCodeExchangeHoldsNoEventLoop() throws Exception {
    startGateway();
    var login = begin("/anything/page");
    var slow =
        gw.client()
            .sendAsync(
                HttpRequest.newBuilder(
                        URI.create(gw.url("/anything/callback?code=slow&state=" + login.state())))
                    .header("Cookie", login.cookie())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(() -> seen.containsKey("token"));
    // Casdoor has the exchange and holds it; the only event loop still serves others.
    assertThat(gw.get("/open").statusCode()).isEqualTo(200);
    assertThat(gw.get("/anything/x").statusCode()).isEqualTo(302);
    assertThat(slow).isNotDone();
    release.countDown();
    var done = slow.get(10, TimeUnit.SECONDS);
    assertThat(done.statusCode()).isEqualTo(302);
    assertThat(done.headers().firstValue("location")).hasValue("/anything/page");
  }
}
