package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.DirectEncrypter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ldap-auth (against UnboundID's in-memory directory server), jwe-decrypt (tokens made by
 * nimbus-jose-jwt and as APISIX makes them), authz-casbin, opa and wolf-rbac (against HTTP servers
 * in the test standing for OPA and Wolf) through the real proxy and a real upstream.
 */
class MoreAuthPluginsIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  HttpServer side;
  final Map<String, JsonNode> seen = new ConcurrentHashMap<>();

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    if (side != null) {
      side.stop(0);
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

  String sideServer(com.sun.net.httpserver.HttpHandler handler) throws Exception {
    side = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    side.createContext("/", handler);
    side.setExecutor(Executors.newFixedThreadPool(2));
    side.start();
    return "http://127.0.0.1:" + side.getAddress().getPort();
  }

  static void answer(HttpExchange ex, int status, String json) throws java.io.IOException {
    var body = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
    ex.close();
  }

  HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return gw.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(gw.url(path)));
  }

  static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void ldapAuthBindsAgainstARealDirectoryOffTheEventLoop() throws Exception {
    var config = new InMemoryDirectoryServerConfig("dc=example,dc=org");
    config.setSchema(null);
    config.setListenerConfigs(
        InMemoryListenerConfig.createLDAPConfig("ldap", InetAddress.getLoopbackAddress(), 0, null));
    var ldap = new InMemoryDirectoryServer(config);
    ldap.add("dn: dc=example,dc=org", "objectClass: top", "objectClass: domain", "dc: example");
    ldap.add("dn: ou=users,dc=example,dc=org", "objectClass: organizationalUnit", "ou: users");
    ldap.add(
        "dn: cn=alice,ou=users,dc=example,dc=org",
        "objectClass: person",
        "cn: alice",
        "sn: A",
        "userPassword: alice-secret");
    ldap.add(
        "dn: cn=bob,ou=users,dc=example,dc=org",
        "objectClass: person",
        "cn: bob",
        "sn: B",
        "userPassword: bob-secret");
    ldap.startListening();
    // A directory that takes connections and never answers: the bind waits there.
    try (var silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      var accepted = new CompletableFuture<Socket>();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  accepted.complete(silent.accept());
                } catch (Exception e) {
                  accepted.completeExceptionally(e);
                }
              });
      gw =
          Gateways.start(
              dir,
              """
              consumers:
                - username: alice
                  plugins:
                    ldap-auth: {user_dn: "cn=alice,ou=users,dc=example,dc=org"}
              routes:
              """
                  + route(
                      "ldap",
                      "/ldap",
                      """
                      ldap-auth:
                        base_dn: "ou=users,dc=example,dc=org"
                        ldap_uri: "127.0.0.1:%d"
                      """
                          .formatted(ldap.getListenPort()))
                  + route(
                      "slow",
                      "/slow",
                      """
                      ldap-auth:
                        base_dn: "ou=users,dc=example,dc=org"
                        ldap_uri: "127.0.0.1:%d"
                      """
                          .formatted(silent.getLocalPort()))
                  + route("open", "/open", "echo: {body: open}"));
      try {
        var ok = send(req("/ldap").header("Authorization", basic("alice", "alice-secret")));
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(up.lastRequest()).isEqualTo("GET /ldap");

        var wrong = send(req("/ldap").header("Authorization", basic("alice", "nope")));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("\"message\":\"Invalid user authorization\"");

        // Bob binds, but no consumer is bob's DN.
        var bob = send(req("/ldap").header("Authorization", basic("bob", "bob-secret")));
        assertThat(bob.statusCode()).isEqualTo(401);
        assertThat(bob.body()).contains("Invalid user authorization");

        var none = send(req("/ldap"));
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.body()).contains("Missing authorization in request");
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm='.'");

        var empty = send(req("/ldap").header("Authorization", basic("alice", "")));
        assertThat(empty.statusCode()).isEqualTo(401);
        assertThat(empty.body()).contains("Invalid authorization in request");

        var injected =
            send(req("/ldap").header("Authorization", basic("alice,ou=users", "alice-secret")));
        assertThat(injected.statusCode()).isEqualTo(401);

        // A bind waiting on the silent directory holds no event loop: other requests are served.
        var pending =
            gw.client()
                .sendAsync(
                    req("/slow").header("Authorization", basic("alice", "x")).build(),
                    HttpResponse.BodyHandlers.ofString());
        var socket = accepted.get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 4; i++) {
          assertThat(gw.get("/open").body()).isEqualTo("open");
          assertThat(
                  send(req("/ldap").header("Authorization", basic("alice", "alice-secret")))
                      .statusCode())
              .isEqualTo(200);
        }
        assertThat(pending).isNotDone();
        socket.close();
        var slow = pending.get(20, TimeUnit.SECONDS);
        assertThat(slow.statusCode()).isEqualTo(401);
        assertThat(slow.body()).contains("Invalid user authorization");
      } finally {
        ldap.shutDown(true);
      }
    }
  }

  @Test
  void jweDecryptForwardsThePlaintext() throws Exception {
    var key = MoreAuthPluginsTest.KEY;
    gw =
        Gateways.start(
            dir,
            """
            consumers:
              - username: jack
                plugins:
                  jwe-decrypt: {key: jack-key, secret: "%s"}
              - username: kate
                plugins:
                  jwe-decrypt: {key: kate-key, secret: "%s", is_base64_encoded: true}
            routes:
            """
                    .formatted(
                        key,
                        Base64.getEncoder()
                            .encodeToString("k".repeat(32).getBytes(StandardCharsets.UTF_8)))
                + route("jwe", "/jwe", "jwe-decrypt: {}")
                + route(
                    "lax",
                    "/lax",
                    "jwe-decrypt: {header: X-Token, forward_header: X-Plain, strict: false}"));
    var jwe =
        new JWEObject(
            new JWEHeader.Builder(JWEAlgorithm.DIR, EncryptionMethod.A256GCM)
                .keyID("jack-key")
                .build(),
            new Payload("Bearer for-upstream"));
    jwe.encrypt(new DirectEncrypter(key.getBytes(StandardCharsets.UTF_8)));
    var ok = send(req("/jwe").header("Authorization", "Bearer " + jwe.serialize()));
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).containsEntry("authorization", "Bearer for-upstream");

    var kate =
        new JWEObject(
            new JWEHeader.Builder(JWEAlgorithm.DIR, EncryptionMethod.A256GCM)
                .keyID("kate-key")
                .build(),
            new Payload("kate's"));
    kate.encrypt(new DirectEncrypter("k".repeat(32).getBytes(StandardCharsets.UTF_8)));
    var lax = send(req("/lax").header("X-Token", kate.serialize()));
    assertThat(lax.statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).containsEntry("x-plain", "kate's");

    var apisix = MoreAuthPluginsTest.apisixToken("jack-key", key, "sealed by apisix");
    assertThat(send(req("/jwe").header("Authorization", apisix)).statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).containsEntry("authorization", "sealed by apisix");

    var missing = send(req("/jwe"));
    assertThat(missing.statusCode()).isEqualTo(403);
    assertThat(missing.body()).contains("\"message\":\"missing JWE token in request\"");
    assertThat(send(req("/lax")).statusCode()).isEqualTo(200);

    var garbage = send(req("/jwe").header("Authorization", "a.b.c"));
    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(garbage.body()).contains("JWE token invalid");

    var unknown = MoreAuthPluginsTest.apisixToken("nobody", key, "x");
    var badKid = send(req("/jwe").header("Authorization", unknown));
    assertThat(badKid.statusCode()).isEqualTo(400);
    assertThat(badKid.body()).contains("invalid kid in JWE token");

    var noKid =
        MoreAuthPluginsTest.b64url("{\"alg\":\"dir\",\"enc\":\"A256GCM\"}")
            + unknown.substring(unknown.indexOf('.'));
    assertThat(send(req("/jwe").header("Authorization", noKid)).body())
        .contains("missing kid in JWE token");

    var otherKey = MoreAuthPluginsTest.apisixToken("jack-key", "z".repeat(32), "x");
    var failed = send(req("/jwe").header("Authorization", otherKey));
    assertThat(failed.statusCode()).isEqualTo(400);
    assertThat(failed.body()).contains("failed to decrypt JWE token");
  }

  @Test
  void authzCasbinEnforcesUserPathAndMethod() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "casbin",
                    "/*",
                    "authz-casbin:\n  username: user\n  model: |\n"
                        + MoreAuthPluginsTest.MODEL.indent(4)
                        + "  policy: |\n"
                        + MoreAuthPluginsTest.POLICY.indent(4))
                + route("meta", "/meta/*", "authz-casbin: {username: user}")
                + "plugin_metadata:\n  - id: authz-casbin\n    model: |\n"
                + MoreAuthPluginsTest.MODEL.indent(6)
                + "    policy: |\n"
                + "      p, bob, /meta/*, GET\n");
    assertThat(gw.get("/").statusCode()).isEqualTo(200);
    var denied = gw.get("/res");
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).isEqualTo("{\"message\":\"Access Denied\"}\n");
    assertThat(gw.get("/res", "user", "alice").statusCode()).isEqualTo(200);
    assertThat(send(req("/res?x=1").header("user", "alice").DELETE()).statusCode()).isEqualTo(200);
    assertThat(gw.get("/res", "user", "bob").statusCode()).isEqualTo(403);

    assertThat(gw.get("/meta/a", "user", "bob").statusCode()).isEqualTo(200);
    assertThat(gw.get("/meta/a", "user", "alice").statusCode()).isEqualTo(403);
    assertThat(send(req("/meta/a").header("user", "bob").DELETE()).statusCode()).isEqualTo(403);
  }

  @Test
  void opaDecidesWithTheRequestAsInput() throws Exception {
    var opa =
        sideServer(
            ex -> {
              var body = JSON.readTree(ex.getRequestBody().readAllBytes());
              seen.put(ex.getRequestURI().getPath(), body);
              var in = body.path("input");
              var user = in.path("request").path("headers").path("x-user").asText();
              if (ex.getRequestURI().getPath().equals("/v1/data/plain/allow")) {
                answer(ex, 200, "{\"result\": " + user.equals("alice") + "}");
              } else if (ex.getRequestURI().getPath().equals("/v1/data/broken")) {
                answer(ex, 404, "{\"code\": \"undefined\"}");
              } else if (user.equals("alice")
                  && in.path("request").path("method").asText().equals("GET")) {
                answer(
                    ex,
                    200,
                    "{\"result\": {\"allow\": true, \"headers\": {\"X-Opa-User\": \"alice\","
                        + " \"X-Other\": \"no\"}}}");
              } else {
                answer(
                    ex,
                    200,
                    "{\"result\": {\"allow\": false, \"status_code\": 401,"
                        + " \"reason\": {\"why\": \"not alice\"}, \"headers\": {\"X-Why\":"
                        + " \"policy\"}}}");
              }
            });
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "opa",
                    "/opa",
                    """
                    opa:
                      host: "%s"
                      policy: example
                      with_route: true
                      send_headers_upstream: [X-Opa-User]"""
                        .formatted(opa))
                + route(
                    "plain", "/plain", "opa: {host: \"%s\", policy: plain/allow}".formatted(opa))
                + route("broken", "/broken", "opa: {host: \"%s\", policy: broken}".formatted(opa))
                + route("down", "/down", "opa: {host: \"http://127.0.0.1:1\", policy: p}"));
    var ok = gw.get("/opa?a=1&a=2&flag", "X-User", "alice");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).containsEntry("x-opa-user", "alice").doesNotContainKey("x-other");
    var input = seen.get("/v1/data/example").path("input");
    assertThat(input.path("type").asText()).isEqualTo("http");
    assertThat(input.path("request").path("path").asText()).isEqualTo("/opa");
    assertThat(input.path("request").path("method").asText()).isEqualTo("GET");
    assertThat(input.path("request").path("scheme").asText()).isEqualTo("http");
    assertThat(input.path("request").path("port").asInt()).isEqualTo(gw.port());
    assertThat(input.path("request").path("query").toString())
        .isEqualTo("{\"a\":[\"1\",\"2\"],\"flag\":true}");
    assertThat(input.path("var").path("remote_addr").asText()).isEqualTo("127.0.0.1");
    assertThat(input.path("route").path("id").asText()).isEqualTo("opa");

    var no = gw.get("/opa", "X-User", "bob");
    assertThat(no.statusCode()).isEqualTo(401);
    assertThat(no.body()).isEqualTo("{\"why\":\"not alice\"}");
    assertThat(no.headers().firstValue("X-Why")).hasValue("policy");

    assertThat(gw.get("/plain", "X-User", "alice").statusCode()).isEqualTo(200);
    assertThat(gw.get("/plain", "X-User", "bob").statusCode()).isEqualTo(403);
    assertThat(gw.get("/broken").statusCode()).isEqualTo(503);
    assertThat(gw.get("/down").statusCode()).isEqualTo(403);
  }

  @Test
  void wolfRbacAsksTheConsumersServer() throws Exception {
    var attempts = new java.util.concurrent.atomic.AtomicInteger();
    var wolf =
        sideServer(
            ex -> {
              var q = ex.getRequestURI().getQuery();
              seen.put(
                  "check",
                  JSON.createObjectNode()
                      .put("path", ex.getRequestURI().getPath())
                      .put("query", q)
                      .put("token", ex.getRequestHeaders().getFirst("x-rbac-token")));
              var token = ex.getRequestHeaders().getFirst("x-rbac-token");
              var user =
                  "{\"userInfo\": {\"id\": 7, \"username\": \"root\", \"nickname\": \"Root"
                      + " User\"}}";
              if ("flaky".equals(token) && attempts.incrementAndGet() < 3) {
                answer(ex, 502, "{}");
              } else if ("good".equals(token) || "flaky".equals(token)) {
                answer(ex, 200, "{\"ok\": true, \"data\": " + user + "}");
              } else {
                answer(
                    ex,
                    401,
                    "{\"ok\": false, \"reason\": \"ERR_ACCESS_DENIED\", \"data\": " + user + "}");
              }
            });
    gw =
        Gateways.start(
            dir,
            """
            consumers:
              - username: wolf
                plugins:
                  wolf-rbac: {appid: restful, server: "%s"}
            routes:
            """
                    .formatted(wolf)
                + route("wolf", "/wolf/*", "wolf-rbac: {}"));
    var ok = gw.get("/wolf/a?x=1", "x-rbac-token", "V1#restful#good");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.headers().firstValue("X-UserId")).hasValue("7");
    assertThat(ok.headers().firstValue("X-Nickname")).hasValue("Root%20User");
    assertThat(up.lastHeaders())
        .containsEntry("x-username", "root")
        .containsEntry("x-userid", "7")
        .containsEntry("x-rbac-token", "V1#restful#good");
    var check = seen.get("check");
    assertThat(check.path("path").asText()).isEqualTo("/wolf/rbac/access_check");
    assertThat(check.path("query").asText())
        .isEqualTo("appID=restful&resName=/wolf/a&action=GET&clientIP=127.0.0.1");
    assertThat(check.path("token").asText()).isEqualTo("good");

    assertThat(gw.get("/wolf/a", "Authorization", "V1#restful#flaky").statusCode()).isEqualTo(200);
    assertThat(attempts.get()).isEqualTo(3);
    assertThat(gw.get("/wolf/a", "Cookie", "x-rbac-token=V1#restful#good").statusCode())
        .isEqualTo(200);

    var denied = gw.get("/wolf/a", "x-rbac-token", "V1#restful#bad");
    assertThat(denied.statusCode()).isEqualTo(401);
    var body = JSON.readTree(denied.body());
    assertThat(body.path("message").asText()).isEqualTo("ERR_ACCESS_DENIED");
    assertThat(body.path("username").asText()).isEqualTo("root");

    var missing = gw.get("/wolf/a");
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.body()).contains("Missing rbac token in request");
    assertThat(gw.get("/wolf/a", "x-rbac-token", "nonsense").body())
        .contains("invalid rbac token: parse failed");
    assertThat(gw.get("/wolf/a", "x-rbac-token", "V1#other#good").body())
        .contains("Invalid appid in rbac token");
    side.stop(0);
    side = null;
    var down = gw.get("/wolf/a", "x-rbac-token", "V1#restful#good");
    assertThat(down.statusCode()).isEqualTo(500);
    assertThat(down.body()).contains("request to wolf-server failed");
  }

  @Test
  void authzKeycloakAsksTheUmaTokenEndpoint() throws Exception {
    var discoveries = new java.util.concurrent.atomic.AtomicInteger();
    var keycloak =
        sideServer(
            ex -> {
              var path = ex.getRequestURI().getPath();
              if (path.endsWith("/.well-known/uma2-configuration")) {
                discoveries.incrementAndGet();
                var self = "http://127.0.0.1:" + side.getAddress().getPort();
                answer(
                    ex,
                    200,
                    "{\"issuer\": \"%s/realms/r\", \"token_endpoint\":".formatted(self)
                        + " \"%s/realms/r/protocol/openid-connect/token\"}".formatted(self));
                return;
              }
              var form =
                  new io.netty.handler.codec.http.QueryStringDecoder(
                          new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8),
                          false)
                      .parameters();
              seen.put("form", JSON.valueToTree(form));
              var grant = form.get("grant_type").get(0);
              if (grant.equals("password")) {
                if (form.get("password").get(0).equals("alice-pw")) {
                  answer(ex, 200, "{\"access_token\": \"alice-token\", \"expires_in\": 300}");
                } else {
                  answer(ex, 401, "{\"error\": \"invalid_grant\"}");
                }
                return;
              }
              var auth = String.valueOf(ex.getRequestHeaders().getFirst("Authorization"));
              switch (auth) {
                case "Bearer good" -> answer(ex, 200, "{\"result\": true}");
                case "Bearer expired" -> answer(ex, 401, "{\"error\": \"invalid_grant\"}");
                default ->
                    answer(
                        ex,
                        403,
                        "{\"error\": \"access_denied\", \"error_description\":"
                            + " \"not_authorized\"}");
              }
            });
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "kc",
                    "/kc",
                    """
                    authz-keycloak:
                      discovery: "%s/realms/r/.well-known/uma2-configuration"
                      client_id: api
                      client_secret: api-secret
                      permissions: ["res#read", "other"]
                      password_grant_token_generation_incoming_uri: /kc
                    """
                        .formatted(keycloak))
                + route(
                    "method",
                    "/method",
                    """
                    authz-keycloak:
                      token_endpoint: "%s/realms/r/protocol/openid-connect/token"
                      client_id: api
                      http_method_as_scope: true
                      permissions: ["res"]
                      access_denied_redirect_uri: "http://login.example/denied"
                    """
                        .formatted(keycloak))
                + route(
                    "down",
                    "/down",
                    "authz-keycloak: {client_id: api, token_endpoint: \"http://127.0.0.1:1/t\"}"));
    var ok = gw.get("/kc", "Authorization", "Bearer good");
    assertThat(ok.statusCode()).isEqualTo(200);
    var form = seen.get("form");
    assertThat(form.path("grant_type").get(0).asText())
        .isEqualTo("urn:ietf:params:oauth:grant-type:uma-ticket");
    assertThat(form.path("audience").get(0).asText()).isEqualTo("api");
    assertThat(form.path("response_mode").get(0).asText()).isEqualTo("decision");
    assertThat(form.path("permission").toString()).isEqualTo("[\"res#read\",\"other\"]");
    assertThat(gw.get("/kc", "Authorization", "good").statusCode()).isEqualTo(200);

    var denied = gw.get("/kc", "Authorization", "Bearer bad");
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).contains("not_authorized");
    assertThat(gw.get("/kc", "Authorization", "Bearer expired").statusCode()).isEqualTo(401);
    var none = gw.get("/kc");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.body()).contains("Missing JWT token in request");
    assertThat(discoveries.get()).isEqualTo(1);

    var login =
        send(
            req("/kc")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=alice&password=alice-pw")));
    assertThat(login.statusCode()).isEqualTo(200);
    assertThat(login.body()).contains("alice-token");
    assertThat(seen.get("form").path("client_secret").get(0).asText()).isEqualTo("api-secret");
    var wrong =
        send(
            req("/kc")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=alice&password=no")));
    assertThat(wrong.statusCode()).isEqualTo(401);
    var noUser =
        send(
            req("/kc")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("password=x")));
    assertThat(noUser.statusCode()).isEqualTo(422);
    assertThat(noUser.body()).contains("username is missing.");

    assertThat(send(req("/method").header("Authorization", "Bearer good").DELETE()).statusCode())
        .isEqualTo(200);
    assertThat(seen.get("form").path("permission").toString()).isEqualTo("[\"res#DELETE\"]");
    var redirected = gw.get("/method", "Authorization", "Bearer bad");
    assertThat(redirected.statusCode()).isEqualTo(307);
    assertThat(redirected.headers().firstValue("Location")).hasValue("http://login.example/denied");
    assertThat(gw.get("/down", "Authorization", "Bearer good").statusCode()).isEqualTo(503);
  }

  @Test
  void casAuthSignsInWithAServiceTicket() throws Exception {
    var cas =
        sideServer(
            ex -> {
              var q =
                  new io.netty.handler.codec.http.QueryStringDecoder(ex.getRequestURI())
                      .parameters();
              seen.put("validate", JSON.valueToTree(q));
              var ticket = q.get("ticket").get(0);
              if (ex.getRequestURI().getPath().equals("/cas/serviceValidate")
                  && ticket.startsWith("ST-good")) {
                answer(
                    ex,
                    200,
                    "<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">"
                        + "<cas:authenticationSuccess><cas:user>alice</cas:user>"
                        + "</cas:authenticationSuccess></cas:serviceResponse>");
              } else {
                answer(
                    ex,
                    200,
                    "<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">"
                        + "<cas:authenticationFailure code=\"INVALID_TICKET\">no"
                        + "</cas:authenticationFailure></cas:serviceResponse>");
              }
            });
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "cas",
                    "/*",
                    """
                    cas-auth:
                      idp_uri: "%s/cas"
                      cas_callback_uri: /cas_callback
                      logout_uri: /logout"""
                        .formatted(cas)));
    var first = gw.get("/app/page?x=1");
    assertThat(first.statusCode()).isEqualTo(302);
    var service = "http://127.0.0.1:" + gw.port() + "/cas_callback";
    assertThat(first.headers().firstValue("Location"))
        .hasValue(
            cas
                + "/cas/login?service="
                + java.net.URLEncoder.encode(service, StandardCharsets.UTF_8));
    assertThat(first.headers().allValues("Set-Cookie"))
        .contains("CAS_REDIRECT_URI=/app/page?x=1; Path=/; HttpOnly");
    assertThat(up.requests()).isZero();

    var back = gw.get("/cas_callback?ticket=ST-good-1", "Cookie", "CAS_REDIRECT_URI=/app/page?x=1");
    assertThat(back.statusCode()).isEqualTo(302);
    assertThat(back.headers().firstValue("Location")).hasValue("/app/page?x=1");
    assertThat(back.headers().allValues("Set-Cookie"))
        .contains("CAS_SESSION=ST-good-1; Path=/; HttpOnly");
    assertThat(seen.get("validate").path("service").get(0).asText()).isEqualTo(service);

    assertThat(gw.get("/app/page", "Cookie", "CAS_SESSION=ST-good-1").statusCode()).isEqualTo(200);
    assertThat(up.lastRequest()).isEqualTo("GET /app/page");

    var replay = gw.get("/cas_callback?ticket=ST-good-1");
    assertThat(replay.statusCode()).isEqualTo(401);
    assertThat(replay.body()).contains("invalid ticket");
    assertThat(gw.get("/cas_callback?ticket=ST-bad").statusCode()).isEqualTo(401);
    var unknown = gw.get("/app/page", "Cookie", "CAS_SESSION=made-up");
    assertThat(unknown.statusCode()).isEqualTo(302);
    assertThat(unknown.headers().allValues("Set-Cookie"))
        .contains("CAS_SESSION=deleted; Max-Age=0; Path=/; HttpOnly");

    // The IdP's back-channel log-out ends the ticket's session.
    var slo =
        send(
            req("/cas_callback")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "<samlp:LogoutRequest><samlp:SessionIndex>ST-good-1"
                            + "</samlp:SessionIndex></samlp:LogoutRequest>")));
    assertThat(slo.statusCode()).isEqualTo(200);
    assertThat(gw.get("/app/page", "Cookie", "CAS_SESSION=ST-good-1").statusCode()).isEqualTo(302);
    assertThat(send(req("/cas_callback").POST(HttpRequest.BodyPublishers.ofString("x"))).body())
        .contains("invalid logout request from IdP, no ticket");

    assertThat(gw.get("/cas_callback?ticket=ST-good-2").statusCode()).isEqualTo(302);
    var out = gw.get("/logout", "Cookie", "CAS_SESSION=ST-good-2");
    assertThat(out.statusCode()).isEqualTo(302);
    assertThat(out.headers().firstValue("Location")).hasValue(cas + "/cas/logout");
    assertThat(gw.get("/app/page", "Cookie", "CAS_SESSION=ST-good-2").statusCode()).isEqualTo(302);
    assertThat(gw.get("/logout").statusCode()).isEqualTo(401);
  }
}
