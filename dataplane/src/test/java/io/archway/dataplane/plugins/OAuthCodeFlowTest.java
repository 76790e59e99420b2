package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.plugins.OAuthCodeFlow.Callback;
import io.archway.model.ModelJson;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The code flow's shared part: the login, the callback check, the client's token requests. */
class OAuthCodeFlowTest {

  HttpServer server;
  String base;
  final Map<String, String> seen = new ConcurrentHashMap<>();
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        ex -> {
          seen.put("path", ex.getRequestURI().getPath());
          seen.put("body", new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          seen.put("auth", String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
          var answer =
              switch (ex.getRequestURI().getPath()) {
                case "/token" -> "{\"access_token\": \"a\", \"expires_in\": 60}";
                case "/array" -> "[1]";
                case "/html" -> "<html>";
                default -> null;
              };
          var body = answer == null ? new byte[0] : answer.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(answer == null ? 500 : 200, body.length == 0 ? -1 : body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  OAuthCodeFlow flow() {
    return new OAuthCodeFlow(
        new OidcSession("0123456789abcdef", "session"),
        "session",
        http,
        "my app",
        "s&cret",
        Duration.ofSeconds(5));
  }

  @Test
  void aLoginHasARandomStateAndItsTarget() {
    var a = OAuthCodeFlow.login("/page?x=1");
    var b = OAuthCodeFlow.login("/page?x=1");
    assertThat(a.path("target").asText()).isEqualTo("/page?x=1");
    assertThat(a.path("state").asText()).hasSize(43).isNotEqualTo(b.path("state").asText());
  }

  @Test
  void theCallbackIsCheckedInApisixsOrder() {
    var pending = OAuthCodeFlow.login("/");
    var state = pending.get("state").asText();
    assertThat(OAuthCodeFlow.check(pending, "c", state)).isEqualTo(Callback.OK);
    assertThat(OAuthCodeFlow.check(null, "c", state)).isEqualTo(Callback.NO_LOGIN);
    var signedIn = ModelJson.mapper().createObjectNode().put("access_token", "t");
    assertThat(OAuthCodeFlow.check(signedIn, "c", state)).isEqualTo(Callback.NO_LOGIN);
    assertThat(OAuthCodeFlow.check(pending, null, state)).isEqualTo(Callback.NO_CODE);
    assertThat(OAuthCodeFlow.check(pending, "c", null)).isEqualTo(Callback.NO_CODE);
    assertThat(OAuthCodeFlow.check(pending, "c", state + "x")).isEqualTo(Callback.BAD_STATE);
  }

  @Test
  void theCodeIsExchangedWithTheClientsCredentialsInTheFormOrAsBasic() throws Exception {
    var tokens =
        flow()
            .exchange("client_secret_post", base + "/token", "the code", "http://gw/cb", null)
            .get(5, TimeUnit.SECONDS);
    assertThat(tokens.path("access_token").asText()).isEqualTo("a");
    assertThat(seen.get("path")).isEqualTo("/token");
    assertThat(seen.get("body"))
        .isEqualTo(
            "grant_type=authorization_code&code=the+code&redirect_uri=http%3A%2F%2Fgw%2Fcb"
                + "&client_id=my+app&client_secret=s%26cret");
    assertThat(seen.get("auth")).isEqualTo("null");

    flow()
        .exchange("client_secret_basic", base + "/token", "c", "http://gw/cb", "v")
        .get(5, TimeUnit.SECONDS);
    assertThat(seen.get("body"))
        .isEqualTo(
            "grant_type=authorization_code&code=c&redirect_uri=http%3A%2F%2Fgw%2Fcb"
                + "&code_verifier=v");
    assertThat(seen.get("auth"))
        .isEqualTo(
            "Basic "
                + Base64.getEncoder()
                    .encodeToString("my+app:s%26cret".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void anAnswerThatIsNotAJsonObjectWith200IsRefusedWithItsStatus() {
    for (var c : Map.of("/error", 500, "/array", 200, "/html", 200).entrySet()) {
      var f = flow().exchange("client_secret_post", base + c.getKey(), "c", "http://gw/cb", null);
      assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS))
          .as(c.getKey())
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(OAuthCodeFlow.Refused.class)
          .satisfies(e -> assertThat(((OAuthCodeFlow.Refused) e).status).isEqualTo(c.getValue()));
    }
  }

  @Test
  void eachPluginSealsWithItsOwnKey() {
    var data = ModelJson.mapper().createObjectNode().put("exp", Long.MAX_VALUE / 2);
    var oidc = new OidcSession("secret-of-16-chars", "session");
    var casdoor = new OidcSession("secret-of-16-chars", "session", "authz-casdoor");
    var sealed = casdoor.seal(data);
    assertThat(casdoor.open(sealed, 0)).isEqualTo(data);
    assertThat(oidc.open(sealed, 0)).isNull();
    assertThat(
            new OidcSession("secret-of-16-chars", "session", "openid-connect")
                .open(oidc.seal(data), 0))
        .isEqualTo(data);
  }

  @Test
  void formsAreUrlEncoded() {
    assertThat(OAuthCodeFlow.form(Map.of("a b", "c&d=é"))).isEqualTo("a+b=c%26d%3D%C3%A9");
    assertThat(flow().cleared()).isEqualTo("session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
  }
}
