package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.support.SigV4;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code $secret://} references read from secret managers when the configuration is compiled,
 * against an HTTP server in the test that speaks Vault's KV read API (v1 and v2 answers) and AWS
 * Secrets Manager's GetSecretValue (checking the SigV4 signature).
 */
class SecretManagersIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "s.vault-token-123";
  private static final String AWS_KEY = "aws-secret-access-key-456";

  @TempDir Path dir;
  private HttpServer server;
  private final Map<String, AtomicInteger> reads = new ConcurrentHashMap<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/", this::vault);
    server.createContext("/", this::aws);
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

  /** KV v2 under the mount "secret", KV v1 under "kv". */
  private void vault(HttpExchange ex) throws IOException {
    var path = ex.getRequestURI().getPath();
    reads.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
    if (!TOKEN.equals(ex.getRequestHeaders().getFirst("X-Vault-Token"))) {
      reply(ex, 403, "{\"errors\":[\"permission denied\"]}");
      return;
    }
    switch (path) {
      case "/v1/secret/data/apisix/jack" -> {
        if (!"team-a".equals(ex.getRequestHeaders().getFirst("X-Vault-Namespace"))) {
          failures.add("no namespace header");
        }
        reply(
            ex,
            200,
            "{\"request_id\":\"r\",\"data\":{\"data\":{\"auth-key\":\"jack-from-vault\","
                + "\"note\":\"v2\"},\"metadata\":{\"version\":3}}}");
      }
      case "/v1/kv/apisix/rose" ->
          reply(ex, 200, "{\"request_id\":\"r\",\"data\":{\"auth-key\":\"rose-from-kv1\"}}");
      default -> reply(ex, 404, "{\"errors\":[]}");
    }
  }

  /** GetSecretValue, the signature checked by computing it again from what was received. */
  private void aws(HttpExchange ex) throws IOException {
    var body = ex.getRequestBody().readAllBytes();
    var h = ex.getRequestHeaders();
    var auth = h.getFirst("Authorization");
    if (!"POST".equals(ex.getRequestMethod())
        || !"secretsmanager.GetSecretValue".equals(h.getFirst("X-Amz-Target"))
        || auth == null) {
      failures.add("not a GetSecretValue: " + ex.getRequestMethod() + " " + auth);
      reply(ex, 400, "{}");
      return;
    }
    var amzDate = h.getFirst("X-Amz-Date");
    var signedHeaders = auth.replaceAll(".*SignedHeaders=([^,]+),.*", "$1").split(";");
    var others = new LinkedHashMap<String, String>();
    for (var name : signedHeaders) {
      if (!List.of("host", "x-amz-date", "x-amz-security-token").contains(name)) {
        others.put(name, h.getFirst(name));
      }
    }
    var instant =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC)
            .parse(amzDate, Instant::from);
    var expected =
        SigV4.sign(
            "POST",
            URI.create(address() + "/"),
            others,
            body,
            new SigV4.Credentials("AKIDTEST", AWS_KEY, h.getFirst("X-Amz-Security-Token")),
            "eu-west-1",
            "secretsmanager",
            instant);
    if (!auth.contains("Credential=AKIDTEST/" + amzDate.substring(0, 8) + "/eu-west-1/")
        || !List.of(signedHeaders).containsAll(List.of("host", "x-amz-date", "x-amz-target"))
        || !auth.equals(expected.get("Authorization"))) {
      reply(ex, 403, "{\"__type\":\"InvalidSignatureException\"}");
      return;
    }
    var req = JSON.readTree(body);
    reads
        .computeIfAbsent("aws:" + req.path("SecretId").asText(), p -> new AtomicInteger())
        .incrementAndGet();
    if (!"AWSCURRENT".equals(req.path("VersionStage").asText())
        || !"session-1".equals(h.getFirst("X-Amz-Security-Token"))) {
      failures.add("request: " + req + " token " + h.getFirst("X-Amz-Security-Token"));
    }
    if (req.path("SecretId").asText().equals("apisix/mary")) {
      var secret = JSON.writeValueAsString(Map.of("auth-key", "mary-from-aws"));
      reply(
          ex,
          200,
          JSON.writeValueAsString(
              Map.of("ARN", "arn:x", "Name", "apisix/mary", "SecretString", secret)));
    } else {
      reply(ex, 400, "{\"__type\":\"ResourceNotFoundException\"}");
    }
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    var bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private String config(TestUpstream up, String vaultToken, String awsKey) {
    return """
        secrets:
          - id: vault/1
            uri: %2$s
            prefix: secret/data/apisix
            token: %3$s
            namespace: team-a
          - id: vault/kv1
            uri: %2$s
            prefix: kv/apisix
            token: %3$s
          - id: aws/1
            access_key_id: AKIDTEST
            secret_access_key: %4$s
            session_token: session-1
            region: eu-west-1
            endpoint_url: %2$s
        consumers:
          - username: jack
            plugins:
              key-auth:
                key: $secret://vault/1/jack/auth-key
          - username: rose
            plugins:
              key-auth:
                key: $secret://vault/kv1/rose/auth-key
          - username: mary
            plugins:
              key-auth:
                key: $secret://aws/1/apisix/mary/auth-key
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
                    X-Note: $secret://vault/1/jack/note
                    X-Mary: $secret://aws/1/apisix/mary/auth-key
            upstream: {nodes: {"%1$s": 1}}
        """
        .formatted(up.node(), address(), vaultToken, awsKey);
  }

  @Test
  void referencesAreReadFromVaultAndAwsWhenCompiled() throws Exception {
    try (var up = new TestUpstream("up");
        var gw = Gateways.start(dir, config(up, TOKEN, AWS_KEY))) {
      assertThat(gw.dataplane().servers().compiler().lastRejections()).isEmpty();
      assertThat(gw.get("/auth", "apikey", "jack-from-vault").statusCode()).isEqualTo(200);
      assertThat(gw.get("/auth", "apikey", "rose-from-kv1").statusCode()).isEqualTo(200);
      assertThat(gw.get("/auth", "apikey", "mary-from-aws").statusCode()).isEqualTo(200);
      assertThat(gw.get("/auth", "apikey", "$secret://vault/1/jack/auth-key").statusCode())
          .isEqualTo(401);
      var header = gw.get("/header");
      assertThat(header.headers().firstValue("x-note")).hasValue("v2");
      assertThat(header.headers().firstValue("x-mary")).hasValue("mary-from-aws");
      // One read per secret, whatever the number of references to it (the TTL cache).
      assertThat(reads.get("/v1/secret/data/apisix/jack")).hasValue(1);
      assertThat(reads.get("aws:apisix/mary")).hasValue(1);
    }
  }

  @Test
  void aReadThatFailsIsAnErrorNamingTheReferenceNeverTheSecret() throws Exception {
    try (var up = new TestUpstream("up");
        var gw = Gateways.start(dir, config(up, "wrong-token", "wrong-aws-key"))) {
      var rejections = gw.dataplane().servers().compiler().lastRejections();
      assertThat(String.join("\n", rejections))
          .contains(
              "routes/header: not served: plugins.response-rewrite.headers.set.X-Note:"
                  + " $secret://vault/1/jack/note: vault secrets/vault/1: GET "
                  + address()
                  + "/v1/secret/data/apisix/jack: status 403 (expected: 200)")
          .contains("$secret://aws/1/apisix/mary/auth-key: aws secrets/aws/1: GetSecretValue")
          .doesNotContain("wrong-token")
          .doesNotContain("wrong-aws-key")
          .doesNotContain(TOKEN);
      assertThat(gw.get("/header").statusCode()).isEqualTo(404);
      // The literal reference is never a key.
      assertThat(gw.get("/auth", "apikey", "$secret://vault/1/jack/auth-key").statusCode())
          .isEqualTo(401);

      // Fixed settings: the routes are compiled again and read the secrets.
      gw.reload(config(up, TOKEN, AWS_KEY));
      assertThat(gw.get("/header").headers().firstValue("x-mary")).hasValue("mary-from-aws");
      assertThat(gw.get("/auth", "apikey", "jack-from-vault").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aReferenceToNoManagerIsAnError() throws Exception {
    try (var up = new TestUpstream("up");
        var gw =
            Gateways.start(
                dir,
                """
                routes:
                  - id: 1
                    uri: /a
                    plugins:
                      response-rewrite:
                        headers:
                          set:
                            X-S: $secret://vault/9/a/b
                    upstream: {nodes: {"%s": 1}}
                """
                    .formatted(up.node()))) {
      assertThat(gw.dataplane().servers().compiler().lastRejections())
          .anyMatch(
              l ->
                  l.contains(
                      "$secret://vault/9/a/b: no secret manager secrets/vault/9 (expected: a"
                          + " secrets object with id vault/9)"));
    }
  }
}
