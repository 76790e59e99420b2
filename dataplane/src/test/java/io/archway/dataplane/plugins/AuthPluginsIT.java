package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 * forward-auth, csrf, hmac-auth, multi-auth, request-validation and proxy-mirror through the real
 * proxy, a real upstream and (for forward-auth and proxy-mirror) a real HTTP server standing for
 * the authorization service or the mirror: APISIX's statuses, messages and headers.
 */
class AuthPluginsIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  HttpServer side;
  final Map<String, String> seen = new ConcurrentHashMap<>();

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

  /** An HTTP server on loopback standing for an authorization service or a mirror. */
  String sideServer(com.sun.net.httpserver.HttpHandler handler) throws Exception {
    side = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    side.createContext("/", handler);
    side.setExecutor(Executors.newFixedThreadPool(2));
    side.start();
    return "http://127.0.0.1:" + side.getAddress().getPort();
  }

  HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return gw.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(gw.url(path)));
  }

  @Test
  void forwardAuthAsksTheServiceWithoutBlocking() throws Exception {
    var release = new CountDownLatch(1);
    var auth =
        sideServer(
            ex -> {
              var h = ex.getRequestHeaders();
              seen.put("method", ex.getRequestMethod());
              seen.put("uri", String.valueOf(h.getFirst("X-Forwarded-Uri")));
              seen.put("xmethod", String.valueOf(h.getFirst("X-Forwarded-Method")));
              seen.put("proto", String.valueOf(h.getFirst("X-Forwarded-Proto")));
              seen.put("for", String.valueOf(h.getFirst("X-Forwarded-For")));
              seen.put("token", String.valueOf(h.getFirst("Authorization")));
              seen.put("extra", String.valueOf(h.getFirst("X-Client")));
              seen.put(
                  "body", new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
              var user = h.getFirst("Authorization");
              if ("slow".equals(user)) {
                try {
                  release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              byte[] body;
              if (user != null && (user.startsWith("good") || user.equals("slow"))) {
                if (!user.equals("good-anonymous")) {
                  ex.getResponseHeaders().add("X-User-ID", "i-am-" + user);
                }
                if (user.startsWith("good-as-")) {
                  ex.getResponseHeaders().add("X-Consumer", user.substring(8));
                }
                body = new byte[0];
                ex.sendResponseHeaders(200, -1);
              } else {
                ex.getResponseHeaders().add("Location", "http://login.example/");
                ex.getResponseHeaders().add("X-Other", "no");
                body = "go and log in".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(403, body.length);
                ex.getResponseBody().write(body);
              }
              ex.close();
            });
    gw =
        Gateways.start(
            dir,
            CONSUMERS
                + "routes:\n"
                + route(
                    "get",
                    "/get/*",
                    """
                    forward-auth:
                      uri: "%s/auth"
                      request_headers: ["Authorization"]
                      extra_headers: {X-Client: "addr=$remote_addr"}
                      upstream_headers: ["X-User-ID"]
                      client_headers: ["Location"]"""
                        .formatted(auth))
                + route(
                    "as",
                    "/as",
                    """
                    forward-auth:
                      uri: "%s/auth"
                      request_headers: ["Authorization"]
                      consumer_header: X-Consumer"""
                        .formatted(auth))
                + route(
                    "post",
                    "/post",
                    """
                    forward-auth:
                      uri: "%s/auth"
                      request_method: POST
                      request_headers: ["Authorization"]"""
                        .formatted(auth))
                + route(
                    "down",
                    "/down",
                    """
                    forward-auth:
                      uri: "http://127.0.0.1:1/auth"
                      status_on_error: 503""")
                + route(
                    "degrade",
                    "/degrade",
                    """
                    forward-auth:
                      uri: "http://127.0.0.1:1/auth"
                      allow_degradation: true"""));

    var ok = gw.get("/get/a?x=1", "Authorization", "good-1");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("up");
    assertThat(up.lastHeaders()).containsEntry("x-user-id", "i-am-good-1");
    assertThat(seen)
        .containsEntry("method", "GET")
        .containsEntry("uri", "/get/a?x=1")
        .containsEntry("xmethod", "GET")
        .containsEntry("proto", "http")
        .containsEntry("for", "127.0.0.1")
        .containsEntry("token", "good-1");

    assertThat(seen).containsEntry("extra", "addr=127.0.0.1");
    // The service said nothing of X-User-ID: the client's own value does not pass for it.
    assertThat(
            gw.get("/get/b", "Authorization", "good-anonymous", "X-User-ID", "admin").statusCode())
        .isEqualTo(200);
    assertThat(up.lastHeaders()).doesNotContainKey("x-user-id");

    // consumer_header: the request goes on as the consumer the service names.
    assertThat(gw.get("/as", "Authorization", "good-as-kate").statusCode()).isEqualTo(200);
    var unknown = gw.get("/as", "Authorization", "good-as-nobody");
    assertThat(unknown.statusCode()).isEqualTo(403);
    assertThat(unknown.body()).isEqualTo("consumer not found");
    var missing = gw.get("/as", "Authorization", "good-1");
    assertThat(missing.statusCode()).isEqualTo(403);
    assertThat(missing.body()).isEqualTo("consumer header missing in auth response");

    var refused = gw.get("/get/a", "Authorization", "bad");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).isEqualTo("go and log in");
    assertThat(refused.headers().firstValue("Location")).hasValue("http://login.example/");
    assertThat(refused.headers().firstValue("X-Other")).isEmpty();

    // POST sends the client's body on; the upstream still gets it whole.
    var posted =
        send(
            req("/post")
                .header("Authorization", "good-2")
                .POST(HttpRequest.BodyPublishers.ofString("hello body")));
    assertThat(posted.statusCode()).isEqualTo(200);
    assertThat(seen).containsEntry("method", "POST").containsEntry("body", "hello body");

    assertThat(gw.get("/down").statusCode()).isEqualTo(503);
    assertThat(gw.get("/degrade").statusCode()).isEqualTo(200);

    // While one request waits for the service, another on the same gateway is served: the wait
    // holds no event loop.
    var slow =
        gw.client()
            .sendAsync(
                req("/get/slow").header("Authorization", "slow").build(),
                HttpResponse.BodyHandlers.ofString());
    for (int i = 0; i < 5; i++) {
      assertThat(gw.get("/degrade").statusCode()).isEqualTo(200);
    }
    assertThat(slow).isNotDone();
    release.countDown();
    assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void csrfSetsATokenAndChecksItOnUnsafeMethods() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n" + route("r", "/*", "csrf: {key: \"edd1c9f034335f136f87ad84b625c8f1\"}"));
    var first = gw.get("/a");
    assertThat(first.statusCode()).isEqualTo(200);
    var cookie = first.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(cookie).startsWith("apisix-csrf-token=").contains(";path=/;SameSite=Lax;Expires=");
    var token = cookie.substring("apisix-csrf-token=".length(), cookie.indexOf(';'));

    var noHeader = send(req("/a").POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(noHeader.statusCode()).isEqualTo(401);
    assertThat(noHeader.body()).isEqualTo("{\"error_msg\":\"no csrf token in headers\"}\n");
    // Refusals get a fresh cookie too, as in APISIX.
    assertThat(noHeader.headers().firstValue("Set-Cookie")).isPresent();

    var noCookie =
        send(
            req("/a").header("apisix-csrf-token", token).POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(noCookie.body()).contains("no csrf cookie");
    var mismatch =
        send(
            req("/a")
                .header("apisix-csrf-token", token)
                .header("Cookie", "apisix-csrf-token=other")
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(mismatch.body()).contains("csrf token mismatch");
    var forged =
        java.util.Base64.getEncoder()
            .encodeToString(
                "{\"random\":0.5,\"expires\":1,\"sign\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    var bad =
        send(
            req("/a")
                .header("apisix-csrf-token", forged)
                .header("Cookie", "apisix-csrf-token=" + forged)
                .method("DELETE", HttpRequest.BodyPublishers.noBody()));
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(bad.body()).contains("Failed to verify the csrf token signature");

    var ok =
        send(
            req("/a")
                .header("apisix-csrf-token", token)
                .header("Cookie", "x=1; apisix-csrf-token=" + token)
                .POST(HttpRequest.BodyPublishers.ofString("x")));
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("up");
  }

  static String hmacAuthorization(
      String keyId, String secret, String algorithm, String signing, String headers) {
    var sig =
        java.util.Base64.getEncoder()
            .encodeToString(HmacAuthPlugin.hmac(algorithm, secret, signing));
    return "Signature keyId=\""
        + keyId
        + "\",algorithm=\""
        + algorithm
        + "\",headers=\""
        + headers
        + "\",signature=\""
        + sig
        + "\"";
  }

  static String now() {
    return java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
        java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
  }

  static final String CONSUMERS =
      """
      consumers:
        - username: jack
          plugins:
            hmac-auth:
              key_id: jack-key
              secret_key: jack-secret
        - username: kate
          plugins:
            key-auth:
              key: kate-key
      """;

  @Test
  void hmacAuthChecksApisix3Signatures() throws Exception {
    gw =
        Gateways.start(
            dir,
            CONSUMERS
                + "routes:\n"
                + route("r", "/h/*", "hmac-auth: {hide_credentials: true}")
                + route(
                    "strict",
                    "/strict",
                    """
                    hmac-auth:
                      allowed_algorithms: [hmac-sha512]
                      signed_headers: [x-custom]
                      validate_request_body: true"""));
    var date = now();
    var auth =
        hmacAuthorization(
            "jack-key",
            "jack-secret",
            "hmac-sha256",
            "jack-key\n@request-target\ndate: " + date + "\n",
            "@request-target date");
    // The signing string covers "GET /h/x?a=1" and the Date header.
    var signed = "jack-key\nGET /h/x?a=1\ndate: " + date + "\n";
    auth =
        hmacAuthorization("jack-key", "jack-secret", "hmac-sha256", signed, "@request-target date");
    var ok = gw.get("/h/x?a=1", "Authorization", auth, "Date", date);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).doesNotContainKey("authorization");

    var wrongPath = gw.get("/h/y?a=1", "Authorization", auth, "Date", date);
    assertThat(wrongPath.statusCode()).isEqualTo(401);
    assertThat(wrongPath.body()).isEqualTo("{\"message\":\"client request can't be validated\"}\n");
    assertThat(gw.get("/h/x").statusCode()).isEqualTo(401);
    var unknown =
        hmacAuthorization("nobody", "jack-secret", "hmac-sha256", signed, "@request-target date");
    assertThat(gw.get("/h/x?a=1", "Authorization", unknown, "Date", date).statusCode())
        .isEqualTo(401);
    var old = "Tue, 01 Jan 2019 00:00:00 GMT";
    var stale =
        hmacAuthorization(
            "jack-key",
            "jack-secret",
            "hmac-sha256",
            "jack-key\nGET /h/x\ndate: " + old + "\n",
            "@request-target date");
    assertThat(gw.get("/h/x", "Authorization", stale, "Date", old).statusCode()).isEqualTo(401);

    // The strict route: sha512 only, x-custom signed, and the body's digest.
    var body = "{\"a\":1}";
    var digest =
        "SHA-256="
            + java.util.Base64.getEncoder()
                .encodeToString(HmacAuthPlugin.sha256(body.getBytes(StandardCharsets.UTF_8)));
    var strictSigned = "jack-key\nPOST /strict\ndate: " + date + "\nx-custom: v\n";
    var strict =
        hmacAuthorization(
            "jack-key",
            "jack-secret",
            "hmac-sha512",
            strictSigned,
            "@request-target date x-custom");
    var good =
        send(
            req("/strict")
                .header("Authorization", strict)
                .header("Date", date)
                .header("X-Custom", "v")
                .header("Digest", digest)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(good.statusCode()).isEqualTo(200);
    var badDigest =
        send(
            req("/strict")
                .header("Authorization", strict)
                .header("Date", date)
                .header("X-Custom", "v")
                .header("Digest", digest)
                .POST(HttpRequest.BodyPublishers.ofString("{\"a\":2}")));
    assertThat(badDigest.statusCode()).isEqualTo(401);
    var sha256 =
        hmacAuthorization(
            "jack-key",
            "jack-secret",
            "hmac-sha256",
            strictSigned,
            "@request-target date x-custom");
    assertThat(
            send(req("/strict")
                    .header("Authorization", sha256)
                    .header("Date", date)
                    .header("X-Custom", "v")
                    .header("Digest", digest)
                    .POST(HttpRequest.BodyPublishers.ofString(body)))
                .statusCode())
        .isEqualTo(401);
  }

  @Test
  void multiAuthTakesTheFirstThatSucceeds() throws Exception {
    gw =
        Gateways.start(
            dir,
            CONSUMERS
                + "routes:\n"
                + route(
                    "m",
                    "/m",
                    """
                    multi-auth:
                      auth_plugins:
                        - hmac-auth: {}
                        - key-auth: {}
                    consumer-restriction:
                      whitelist: [kate]"""));
    var byKey = gw.get("/m", "apikey", "kate-key");
    assertThat(byKey.statusCode()).isEqualTo(200);
    var date = now();
    var auth =
        hmacAuthorization(
            "jack-key",
            "jack-secret",
            "hmac-sha256",
            "jack-key\nGET /m\ndate: " + date + "\n",
            "@request-target date");
    // jack is identified by hmac-auth, then refused by the consumer-restriction that follows.
    var jack = gw.get("/m", "Authorization", auth, "Date", date);
    assertThat(jack.statusCode()).isEqualTo(403);
    assertThat(jack.body()).contains("consumer_name");
    var none = gw.get("/m", "apikey", "wrong");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.body()).isEqualTo("{\"message\":\"Authorization Failed\"}\n");
  }

  @Test
  void requestValidationChecksHeadersAndBody() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "v",
                    "/echo",
                    """
                    request-validation:
                      header_schema:
                        type: object
                        required: [x-api-version]
                        properties:
                          x-api-version: {type: string, enum: ["1", "2"]}
                      body_schema:
                        type: object
                        required: [name]
                        properties:
                          name: {type: string, minLength: 1}
                          age: {type: string, pattern: "^[0-9]+$"}""")
                + route(
                    "msg",
                    "/msg",
                    """
                    request-validation:
                      header_schema: {type: object, required: [x-token]}
                      rejected_code: 403
                      rejected_msg: "no way\""""));
    var ok =
        send(
            req("/echo")
                .header("X-Api-Version", "1")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"jo\"}")));
    assertThat(ok.statusCode()).isEqualTo(200);
    // The upstream got the body the plugin read.
    assertThat(ok.body()).isEqualTo("{\"name\":\"jo\"}");

    // Checked as the parser reads it (the last of duplicate keys), and sent on as checked.
    var duplicate =
        send(
            req("/echo")
                .header("X-Api-Version", "1")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": 1, \"name\": \"jo\"}")));
    assertThat(duplicate.statusCode()).isEqualTo(200);
    assertThat(duplicate.body()).isEqualTo("{\"name\":\"jo\"}");

    var noHeader =
        send(req("/echo").POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"jo\"}")));
    assertThat(noHeader.statusCode()).isEqualTo(400);
    assertThat(noHeader.body()).contains("x-api-version");

    var badBody =
        send(
            req("/echo")
                .header("X-Api-Version", "2")
                .POST(HttpRequest.BodyPublishers.ofString("{\"age\":\"x\"}")));
    assertThat(badBody.statusCode()).isEqualTo(400);
    assertThat(badBody.body()).contains("age", "pattern");
    var notJson =
        send(
            req("/echo")
                .header("X-Api-Version", "2")
                .POST(HttpRequest.BodyPublishers.ofString("{oops")));
    assertThat(notJson.statusCode()).isEqualTo(400);

    var form =
        send(
            req("/echo")
                .header("X-Api-Version", "2")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("name=jo&age=12")));
    assertThat(form.statusCode()).isEqualTo(200);
    assertThat(form.body()).isEqualTo("name=jo&age=12");

    var refused = gw.get("/msg");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).isEqualTo("no way");
    assertThat(gw.get("/msg", "X-Token", "t").statusCode()).isEqualTo(200);

    // A body sent in chunks, with Expect: 100-continue, is read whole and still reaches the node.
    try (var s = new java.net.Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              ("POST /echo HTTP/1.1\r\nHost: x\r\nX-Api-Version: 1\r\nConnection: close\r\n"
                      + "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
                      + "5\r\n{\"nam\r\n8\r\ne\":\"ab\"}\r\n0\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      var answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer)
          .startsWith("HTTP/1.1 100 Continue")
          .contains("HTTP/1.1 200")
          .endsWith("{\"name\":\"ab\"}");
    }
  }

  @Test
  void aBodyReadForAPluginIsBounded() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n" + route("v", "/echo", "request-validation: {body_schema: {type: object}}"));
    // Declared over the bound: refused before a byte of it is read, and the connection closes.
    try (var s = new java.net.Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
                      + (RequestValidationPlugin.MAX_BODY + 1)
                      + "\r\n\r\n{}")
                  .getBytes(StandardCharsets.US_ASCII));
      var answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 413");
    }
    // No body at all: refused at once (APISIX: rejected_code), not waited for.
    assertThat(gw.get("/echo").statusCode()).isEqualTo(400);
    // A client that leaves half-way through its body: nothing is left behind (the leak detector
    // would fail the test), and the gateway goes on serving.
    try (var s = new java.net.Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":"
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
    }
    var ok = send(req("/echo").POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}")));
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("{\"a\":1}");
  }

  @Test
  void proxyMirrorSendsACopyAndNeverWaitsForIt() throws Exception {
    var copies = new java.util.concurrent.LinkedBlockingQueue<String>();
    var mirror =
        sideServer(
            ex -> {
              copies.add(
                  ex.getRequestMethod()
                      + " "
                      + ex.getRequestURI()
                      + " "
                      + ex.getRequestHeaders().getFirst("X-Trace")
                      + " "
                      + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
              // A mirror that answers 500: the client never sees it.
              ex.sendResponseHeaders(500, -1);
              ex.close();
            });
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("m", "/echo", "proxy-mirror: {host: \"%s\"}".formatted(mirror))
                + route(
                    "p",
                    "/p/*",
                    "proxy-mirror: {host: \"%s\", path: /shadow, path_concat_mode: prefix}"
                        .formatted(mirror))
                + route("down", "/down", "proxy-mirror: {host: \"http://127.0.0.1:1\"}")
                + route(
                    "refused",
                    "/refused",
                    "proxy-mirror: {host: \"%s\"}\nip-restriction: {blacklist: [127.0.0.1]}"
                        .formatted(mirror))
                + route(
                    "never",
                    "/never",
                    "proxy-mirror: {host: \"%s\", sample_ratio: 0.00001}".formatted(mirror)));
    var res =
        send(
            req("/echo?q=1")
                .header("X-Trace", "t1")
                .POST(HttpRequest.BodyPublishers.ofString("payload")));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isEqualTo("payload");
    assertThat(copies.poll(10, TimeUnit.SECONDS)).isEqualTo("POST /echo?q=1 t1 payload");

    assertThat(gw.get("/p/a?x=2", "X-Trace", "t2").statusCode()).isEqualTo(200);
    assertThat(copies.poll(10, TimeUnit.SECONDS)).isEqualTo("GET /shadow/p/a?x=2 t2 ");

    // A mirror that cannot be reached changes nothing for the client.
    assertThat(gw.get("/down").statusCode()).isEqualTo(200);
    // A request a later plugin refuses never reached a node: no copy either.
    assertThat(gw.get("/refused").statusCode()).isEqualTo(403);
    for (int i = 0; i < 20; i++) {
      assertThat(gw.get("/never").statusCode()).isEqualTo(200);
    }
    assertThat(copies.poll(200, TimeUnit.MILLISECONDS)).isNull();
  }

  /** {@code mirrors} (Archway's extension): each mirror gets its own copy, sampled on its own. */
  @Test
  void proxyMirrorSendsACopyToEachOfSeveralMirrors() throws Exception {
    var copies = new java.util.concurrent.LinkedBlockingQueue<String>();
    var first = sideServer(ex -> mirrored(ex, "first", copies));
    var second = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    var never = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    second.createContext("/", ex -> mirrored(ex, "second", copies));
    never.createContext("/", ex -> mirrored(ex, "never", copies));
    second.start();
    never.start();
    try {
      gw =
          Gateways.start(
              dir,
              "routes:\n"
                  + route(
                      "m",
                      "/echo",
                      ("proxy-mirror: {host: \"%s\", mirrors: [{host: \"http://127.0.0.1:%d\"},"
                              + " {host: \"http://127.0.0.1:%d\", sample_ratio: 0.00001}]}")
                          .formatted(
                              first, second.getAddress().getPort(), never.getAddress().getPort())));
      var res = send(req("/echo?q=1").POST(HttpRequest.BodyPublishers.ofString("payload")));
      assertThat(res.statusCode()).isEqualTo(200);
      var got = new java.util.ArrayList<String>();
      got.add(copies.poll(10, TimeUnit.SECONDS));
      got.add(copies.poll(10, TimeUnit.SECONDS));
      assertThat(got)
          .containsExactlyInAnyOrder(
              "first POST /echo?q=1 payload", "second POST /echo?q=1 payload");
      assertThat(copies.poll(200, TimeUnit.MILLISECONDS)).isNull();
    } finally {
      second.stop(0);
      never.stop(0);
    }
  }

  /** Keeps {@code <mirror's name> <method> <target> <body>}. */
  private static void mirrored(
      com.sun.net.httpserver.HttpExchange ex,
      String name,
      java.util.concurrent.BlockingQueue<String> copies)
      throws java.io.IOException {
    copies.add(
        name
            + " "
            + ex.getRequestMethod()
            + " "
            + ex.getRequestURI()
            + " "
            + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
    ex.sendResponseHeaders(204, -1);
    ex.close();
  }
}
