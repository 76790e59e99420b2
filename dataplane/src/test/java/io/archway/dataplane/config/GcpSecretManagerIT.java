package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code $secret://gcp/...} references read from Google Secret Manager when the configuration is
 * compiled, against an HTTP server in the test that plays Google's token endpoint (checking the
 * service account's RS256 JWT with the account's public key) and Secret Manager's {@code
 * versions/latest:access} (checking the bearer token).
 */
class GcpSecretManagerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String EMAIL = "gateway@proj-1.iam.gserviceaccount.com";
  private static final String ACCESS_TOKEN = "ya29.test-token";
  private static KeyPair account;
  private static KeyPair stranger;

  @TempDir Path dir;
  private HttpServer server;
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void keys() throws Exception {
    var gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    account = gen.generateKeyPair();
    stranger = gen.generateKeyPair();
  }

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/token", this::token);
    server.createContext("/sm/", this::access);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    assertThat(failures).isEmpty();
  }

  private String address() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The JWT bearer grant: the assertion's signature, issuer, audience and scope checked. */
  private void token(HttpExchange ex) throws IOException {
    calls.computeIfAbsent("token", k -> new AtomicInteger()).incrementAndGet();
    var form = new ConcurrentHashMap<String, String>();
    for (var pair :
        new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
      var kv = pair.split("=", 2);
      form.put(kv[0], URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
    }
    if (!"urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type"))) {
      failures.add("grant_type " + form.get("grant_type"));
    }
    var jwt = form.getOrDefault("assertion", "").split("\\.");
    boolean valid;
    try {
      var sig = Signature.getInstance("SHA256withRSA");
      sig.initVerify(account.getPublic());
      sig.update((jwt[0] + "." + jwt[1]).getBytes(StandardCharsets.US_ASCII));
      valid = sig.verify(Base64.getUrlDecoder().decode(jwt[2]));
    } catch (Exception e) {
      valid = false;
    }
    if (!valid) {
      reply(ex, 400, "{\"error\":\"invalid_grant\"}");
      return;
    }
    var claims = JSON.readTree(Base64.getUrlDecoder().decode(jwt[1]));
    if (!EMAIL.equals(claims.path("iss").asText())
        || !(address() + "/token").equals(claims.path("aud").asText())
        || !"https://www.googleapis.com/auth/cloud-platform"
            .equals(claims.path("scope").asText())) {
      failures.add("claims " + claims);
    }
    reply(
        ex,
        200,
        "{\"access_token\":\""
            + ACCESS_TOKEN
            + "\",\"expires_in\":3599,\"token_type\":\"Bearer\"}");
  }

  private void access(HttpExchange ex) throws IOException {
    var path = ex.getRequestURI().getRawPath();
    calls.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
    if (!("Bearer " + ACCESS_TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
      reply(ex, 401, "{\"error\":{\"code\":401}}");
      return;
    }
    String secret =
        switch (path) {
          case "/sm/projects/proj-1/secrets/jack/versions/latest:access" ->
              "{\"auth-key\":\"jack-from-gcp\",\"note\":\"n1\"}";
          case "/sm/projects/proj-1/secrets/plain/versions/latest:access" -> "just text";
          default -> null;
        };
    if (secret == null) {
      reply(ex, 404, "{\"error\":{\"code\":404,\"status\":\"NOT_FOUND\"}}");
      return;
    }
    var data = Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8));
    reply(
        ex,
        200,
        "{\"name\":\"projects/1/secrets/x/versions/3\",\"payload\":{\"data\":\""
            + data
            + "\",\"dataCrc32c\":\"1\"}}");
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    var bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private static String pem(KeyPair keys) {
    return "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(keys.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }

  /** A key file as Google hands it out, with the test's endpoints. */
  private Path keyFile(KeyPair keys) throws IOException {
    var file = dir.resolve("service-account.json");
    Files.writeString(
        file,
        JSON.writeValueAsString(
            Map.of(
                "type",
                "service_account",
                "project_id",
                "proj-1",
                "private_key_id",
                "k1",
                "private_key",
                pem(keys),
                "client_email",
                EMAIL,
                "token_uri",
                address() + "/token",
                "entries_uri",
                address() + "/sm/")));
    return file;
  }

  private String config(TestUpstream up, KeyPair keys) throws IOException {
    return """
        secrets:
          - id: gcp/1
            auth_config:
              client_email: %3$s
              private_key: %4$s
              project_id: proj-1
              token_uri: %2$s/token
              entries_uri: %2$s/sm
          - id: gcp/file
            auth_file: %5$s
            ssl_verify: false
        consumers:
          - username: jack
            plugins:
              key-auth:
                key: $secret://gcp/1/jack/auth-key
        routes:
          - id: auth
            uri: /auth
            plugins:
              key-auth: {}
            upstream: {nodes: {"%1$s": 1}}
          - id: header
            uri: /header
            plugins:
              response-rewrite:
                headers:
                  set:
                    X-Note: $secret://gcp/file/jack/note
            upstream: {nodes: {"%1$s": 1}}
        """
        .formatted(
            up.node(),
            address(),
            EMAIL,
            JSON.writeValueAsString(pem(keys)),
            keyFile(keys).toString());
  }

  @Test
  void referencesAreReadFromSecretManagerAsTheServiceAccount() throws Exception {
    try (var up = new TestUpstream("up");
        var gw = Gateways.start(dir, config(up, account))) {
      assertThat(gw.dataplane().servers().compiler().lastRejections()).isEmpty();
      assertThat(gw.get("/auth", "apikey", "jack-from-gcp").statusCode()).isEqualTo(200);
      assertThat(gw.get("/auth", "apikey", "$secret://gcp/1/jack/auth-key").statusCode())
          .isEqualTo(401);
      assertThat(gw.get("/header").headers().firstValue("x-note")).hasValue("n1");
      // One token per manager (auth_config, auth_file), one read per manager and secret.
      assertThat(calls.get("token")).hasValue(2);
      assertThat(calls.get("/sm/projects/proj-1/secrets/jack/versions/latest:access")).hasValue(2);
    }
  }

  @Test
  void aRefusedAccountOrASecretThatIsNotJsonIsAnErrorWithoutTheSecret() throws Exception {
    try (var up = new TestUpstream("up");
        var gw = Gateways.start(dir, config(up, stranger))) {
      var rejections = String.join("\n", gw.dataplane().servers().compiler().lastRejections());
      assertThat(rejections)
          .contains(
              "$secret://gcp/file/jack/note: gcp secrets/gcp/file: no access token: "
                  + address()
                  + "/token refused the service account: 400")
          .doesNotContain("PRIVATE KEY");
      assertThat(gw.get("/auth", "apikey", "jack-from-gcp").statusCode()).isEqualTo(401);

      gw.reload(
          config(up, account)
              .replace("$secret://gcp/file/jack/note", "$secret://gcp/file/plain/note"));
      rejections = String.join("\n", gw.dataplane().servers().compiler().lastRejections());
      assertThat(rejections)
          .contains(
              "gcp secrets/gcp/file: the secret plain is not a JSON object (expected: key/value"
                  + " pairs)")
          .doesNotContain("just text");
      assertThat(gw.get("/auth", "apikey", "jack-from-gcp").statusCode()).isEqualTo(200);
    }
  }
}
