package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.ModelJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.KeyProvider;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * openid-connect through a real dataplane, a real upstream and a real OpenID provider
 * (mock-oauth2-server: discovery, JWKS, authorize, token, userinfo, introspection, end-session).
 */
class OpenidConnectIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  MockOAuth2Server idp;
  KeyProvider keys;
  final HttpClient browser =
      HttpClient.newBuilder()
          .followRedirects(HttpClient.Redirect.NEVER)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @BeforeEach
  void start() throws Exception {
    up = new TestUpstream("up");
    keys = new KeyProvider();
    idp =
        new MockOAuth2Server(
            new OAuth2Config(false, null, null, false, new OAuth2TokenProvider(keys), Set.of()));
    idp.start();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
    idp.shutdown();
  }

  // The routes give the provider 10 s (APISIX's default is 3): the first calls load the JDK
  // client's classes and TLS setup, which takes seconds on a loaded test machine.
  String discovery() {
    return idp.wellKnownUrl("default").toString();
  }

  String route(String id, String uri, String plugin) {
    return """
          - id: %s
            uri: "%s"
            upstream:
              nodes:
                "%s": 1
            plugins:
              openid-connect:
        %s
        """
        .formatted(id, uri, up.node(), plugin.indent(8).stripTrailing());
  }

  String token(String issuer, String audience, Map<String, Object> claims) {
    return idp.issueToken(issuer, "alice", audience, claims, 3600).serialize();
  }

  HttpResponse<String> get(String path, String... headers) throws Exception {
    return gw.get(path, headers);
  }

  @Test
  void bearerTokensAreCheckedAgainstTheProvidersJwks() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "jwks",
                    "/api/*",
                    """
                    client_id: client
                    client_secret: secret
                    discovery: "%s"
                    timeout: 10
                    bearer_only: true
                    use_jwks: true
                    required_scopes: ["read"]
                    """
                        .formatted(discovery())));
    var missing = get("/api/x");
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.headers().firstValue("www-authenticate"))
        .hasValue("Bearer realm=\"apisix\"");

    var good = token("default", "client", Map.of("scope", "openid read"));
    var ok = get("/api/x", "Authorization", "Bearer " + good);
    assertThat(ok.statusCode()).as(ok.headers().map().toString()).isEqualTo(200);
    assertThat(up.lastHeaders()).containsEntry("x-access-token", good);
    var userinfo =
        ModelJson.mapper().readTree(Base64.getDecoder().decode(up.lastHeaders().get("x-userinfo")));
    assertThat(userinfo.path("sub").asText()).isEqualTo("alice");

    var noScope =
        get(
            "/api/x",
            "Authorization",
            "Bearer " + token("default", "client", Map.of("scope", "openid")));
    assertThat(noScope.statusCode()).isEqualTo(403);

    var audience =
        get(
            "/api/x",
            "Authorization",
            "Bearer " + token("default", "someone-else", Map.of("scope", "read")));
    assertThat(audience.statusCode()).isEqualTo(401);
    assertThat(audience.headers().firstValue("www-authenticate").orElseThrow())
        .startsWith(
            "Bearer realm=\"apisix\", error=\"invalid_token\", error_description=\"invalid jwt:");

    // Another issuer of the same provider: its own key and iss, refused.
    var other =
        get(
            "/api/x",
            "Authorization",
            "Bearer " + token("other", "client", Map.of("scope", "read")));
    assertThat(other.statusCode()).isEqualTo(401);
    var forged = good.substring(0, good.length() - 4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA");
    assertThat(get("/api/x", "Authorization", "Bearer " + forged).statusCode()).isEqualTo(401);
    assertThat(get("/api/x", "Authorization", "Bearer not-a-jwt").statusCode()).isEqualTo(401);
  }

  @Test
  void aRotatedKeyIsFetchedAgain() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "jwks",
                    "/api/*",
                    """
                    client_id: client
                    client_secret: secret
                    discovery: "%s"
                    timeout: 10
                    bearer_only: true
                    use_jwks: true
                    """
                        .formatted(discovery())));
    var before = token("default", "client", Map.of());
    assertThat(get("/api/x", "Authorization", "Bearer " + before).statusCode()).isEqualTo(200);

    // The provider rotates its key: mock-oauth2-server keeps one key per issuer and makes a new one
    // when it has none, so forgetting the issuer's key is its key rotation (same kid, new key).
    var signingKeys = KeyProvider.class.getDeclaredField("signingKeys");
    signingKeys.setAccessible(true);
    ((Map<?, ?>) signingKeys.get(keys)).clear();
    var after = token("default", "client", Map.of());
    // Refetches are at most one a second: the first tries may still see the old JWKS.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> get("/api/x", "Authorization", "Bearer " + after).statusCode() == 200);
    assertThat(get("/api/x", "Authorization", "Bearer " + before).statusCode()).isEqualTo(401);
  }

  @Test
  void bearerTokensAreIntrospectedWithoutJwks() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "introspect",
                    "/api/*",
                    """
                    client_id: client
                    client_secret: secret
                    discovery: "%s"
                    timeout: 10
                    bearer_only: true
                    set_userinfo_header: false
                    access_token_in_authorization_header: true
                    """
                        .formatted(discovery())));
    var good = token("default", "client", Map.of());
    assertThat(get("/api/x", "Authorization", "Bearer " + good).statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).containsEntry("authorization", "Bearer " + good);
    assertThat(up.lastHeaders()).doesNotContainKeys("x-userinfo", "x-access-token");
    var bad = get("/api/x", "Authorization", "Bearer nonsense");
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(bad.headers().firstValue("www-authenticate").orElseThrow())
        .contains("invalid_token");
  }

  HttpResponse<String> browse(String url, String cookie) throws Exception {
    var b = HttpRequest.newBuilder(URI.create(url.startsWith("/") ? gw.url(url) : url));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return browser.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String cookieOf(HttpResponse<?> r) {
    var set = r.headers().firstValue("set-cookie").orElseThrow();
    return set.substring(0, set.indexOf(';'));
  }

  @Test
  void browsersLogInWithTheAuthorizationCodeFlowAndLogOut() throws Exception {
    var common =
        """
        client_id: client
        client_secret: secret
        discovery: "%s"
        timeout: 10
        session:
          secret: "a-secret-of-at-least-16-characters"
        """
            .formatted(discovery());
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "app",
                    "/app/*",
                    common
                        + """
                        use_pkce: true
                        scope: "openid profile"
                        logout_path: /app/logout
                        post_logout_redirect_uri: "http://example.com/bye"
                        set_refresh_token_header: true
                        """)
                + route("deny", "/deny/*", common + "unauth_action: deny\n")
                + route("pass", "/pass/*", common + "unauth_action: pass\n")
                // Tokens count as expired two hours early: the provider's last an hour, so the
                // session's access token is renewed on its first use here.
                + route("renew", "/renew/*", common + "access_token_expires_leeway: 7200\n"));

    var first = browse("/app/hello?x=1", null);
    assertThat(first.statusCode()).isEqualTo(302);
    var authorize = first.headers().firstValue("location").orElseThrow();
    assertThat(authorize)
        .startsWith(idp.authorizationEndpointUrl("default").toString())
        .contains("response_type=code", "client_id=client", "state=", "nonce=")
        .contains("code_challenge_method=S256", "scope=openid+profile")
        .contains(
            "redirect_uri="
                + java.net.URLEncoder.encode(
                    gw.url("/app/hello/.apisix/redirect"), StandardCharsets.UTF_8));
    var pending = cookieOf(first);

    // The provider logs the user in (no form in its default mode) and sends the browser back.
    var back = browse(authorize, null);
    assertThat(back.statusCode()).isEqualTo(302);
    var callback = back.headers().firstValue("location").orElseThrow();
    assertThat(callback).startsWith(gw.url("/app/hello/.apisix/redirect?code="));

    // A callback without the login's cookie is refused.
    assertThat(browse(callback, null).statusCode()).isEqualTo(401);
    var done = browse(callback, pending);
    assertThat(done.statusCode()).isEqualTo(302);
    assertThat(done.headers().firstValue("location")).hasValue("/app/hello?x=1");
    var session = cookieOf(done);
    assertThat(done.headers().firstValue("set-cookie").orElseThrow())
        .contains("HttpOnly", "SameSite=Lax");

    var page = browse("/app/hello?x=1", session);
    assertThat(page.statusCode()).isEqualTo(200);
    var h = up.lastHeaders();
    assertThat(h).containsKeys("x-access-token", "x-id-token", "x-userinfo", "x-refresh-token");
    var id = ModelJson.mapper().readTree(Base64.getDecoder().decode(h.get("x-id-token")));
    assertThat(id.path("aud").toString()).contains("client");
    var user = ModelJson.mapper().readTree(Base64.getDecoder().decode(h.get("x-userinfo")));
    assertThat(user.path("sub").asText()).isNotEmpty();

    // A tampered session is no session: back to the provider.
    var value = session.substring(session.indexOf('=') + 1);
    var mid = value.length() / 2;
    var tampered =
        "session="
            + value.substring(0, mid)
            + (value.charAt(mid) == 'A' ? 'B' : 'A')
            + value.substring(mid + 1);
    var again = browse("/app/hello", tampered);
    assertThat(again.statusCode()).isEqualTo(302);
    assertThat(again.headers().firstValue("location").orElseThrow())
        .startsWith(idp.authorizationEndpointUrl("default").toString());

    // The other routes share nothing but the secret; without a session they deny or pass.
    assertThat(browse("/deny/x", null).statusCode()).isEqualTo(401);
    assertThat(browse("/pass/x", null).statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).doesNotContainKey("x-access-token");
    // The session cookie is the gateway's, good on every route with the same secret.
    assertThat(browse("/deny/x", session).statusCode()).isEqualTo(200);

    var firstToken = h.get("x-access-token");
    var renewed = browse("/renew/x", session);
    assertThat(renewed.statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders().get("x-access-token")).isNotEmpty().isNotEqualTo(firstToken);
    assertThat(renewed.headers().firstValue("set-cookie").orElseThrow()).startsWith("session=");
    assertThat(cookieOf(renewed)).isNotEqualTo(session);

    var logout = browse("/app/logout", session);
    assertThat(logout.statusCode()).isEqualTo(302);
    assertThat(logout.headers().firstValue("location").orElseThrow())
        .startsWith(idp.endSessionEndpointUrl("default").toString())
        .contains("id_token_hint=", "post_logout_redirect_uri=http%3A%2F%2Fexample.com%2Fbye");
    assertThat(logout.headers().firstValue("set-cookie").orElseThrow())
        .startsWith("session=;")
        .contains("Max-Age=0");
  }

  /** A JWKS entry for an RSA key. */
  static String jwk(String kid, java.security.KeyPair pair) {
    var rsa = (java.security.interfaces.RSAPublicKey) pair.getPublic();
    return "{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}"
        .formatted(
            kid,
            OpenidConnectTest.b64(OpenidConnectTest.unsigned(rsa.getModulus())),
            OpenidConnectTest.b64(OpenidConnectTest.unsigned(rsa.getPublicExponent())));
  }

  @Test
  void aTokenWithAnUnknownKidRefetchesTheJwksAtMostOnceASecond() throws Exception {
    // A provider of our own keys (discovery and JWKS only) on the JDK's HTTP server, to choose the
    // key ids and count the JWKS fetches.
    var k1 = OpenidConnectTest.pair("RSA", null);
    var k2 = OpenidConnectTest.pair("RSA", null);
    var jwks =
        new java.util.concurrent.atomic.AtomicReference<>("{\"keys\":[" + jwk("k1", k1) + "]}");
    var fetches = new java.util.concurrent.atomic.AtomicInteger();
    var server =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    var base = "http://127.0.0.1:" + server.getAddress().getPort();
    server.createContext(
        "/",
        ex -> {
          String body;
          if (ex.getRequestURI().getPath().endsWith("/jwks")) {
            fetches.incrementAndGet();
            body = jwks.get();
          } else {
            body = "{\"issuer\":\"" + base + "\",\"jwks_uri\":\"" + base + "/jwks\"}";
          }
          var bytes = body.getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", "application/json");
          ex.sendResponseHeaders(200, bytes.length);
          ex.getResponseBody().write(bytes);
          ex.close();
        });
    server.start();
    try {
      gw =
          Gateways.start(
              dir,
              "routes:\n"
                  + route(
                      "jwks",
                      "/api/*",
                      """
                      client_id: client
                      client_secret: secret
                      discovery: "%s/.well-known/openid-configuration"
                      timeout: 10
                      bearer_only: true
                      use_jwks: true
                      """
                          .formatted(base)));
      var claims =
          "{\"iss\":\"%s\",\"aud\":\"client\",\"exp\":%d}"
              .formatted(base, System.currentTimeMillis() / 1000 + 600);
      var first = OpenidConnectTest.sign("RS256", "k1", k1.getPrivate(), claims);
      assertThat(get("/api/x", "Authorization", "Bearer " + first).statusCode()).isEqualTo(200);
      assertThat(fetches.get()).isEqualTo(1);

      // Made-up key ids cannot make the gateway hammer the provider.
      var madeUp = OpenidConnectTest.sign("RS256", "nope", k2.getPrivate(), claims);
      long start = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        assertThat(get("/api/x", "Authorization", "Bearer " + madeUp).statusCode()).isEqualTo(401);
      }
      long seconds = (System.nanoTime() - start) / 1_000_000_000L;
      assertThat(fetches.get()).isLessThanOrEqualTo(2 + (int) seconds);

      // The provider adds k2: a token naming it is accepted once the JWKS is fetched again.
      jwks.set("{\"keys\":[" + jwk("k1", k1) + "," + jwk("k2", k2) + "]}");
      var second = OpenidConnectTest.sign("RS256", "k2", k2.getPrivate(), claims);
      await()
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> get("/api/x", "Authorization", "Bearer " + second).statusCode() == 200);
      assertThat(get("/api/x", "Authorization", "Bearer " + first).statusCode()).isEqualTo(200);
    } finally {
      server.stop(0);
    }
  }
}
