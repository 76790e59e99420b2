package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.UnknownFieldSet;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Pki;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.UdpServer;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cloud loggers through a real dataplane and a real upstream. None of the services they push to
 * (Splunk, Loggly, Google Cloud Logging, Alibaba SLS, Tencent CLS, Lago) can run here, so each peer
 * is a server written in the test that checks what it receives as the service would: Splunk's HEC
 * events and token, Loggly's RFC 5424 lines (UDP) and bulk endpoint, Google's OAuth 2.0 JWT bearer
 * grant (the JWT's RS256 signature checked with the service account's public key) and {@code
 * entries:write}, SLS's syslog over TLS with its structured data, CLS's protobuf {@code
 * LogGroupList} and its signature (recomputed here), Lago's batch events.
 */
class MoreLoggersIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  final List<AutoCloseable> peers = new CopyOnWriteArrayList<>();

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
    up.close();
    for (var p : peers) {
      p.close();
    }
  }

  String route(String plugins, String more) {
    return """
        routes:
          - id: r1
            uri: /*
            upstream:
              nodes:
                "%s": 1
            plugins:
        %s
        %s
        """
        .formatted(up.node(), plugins.indent(6).stripTrailing(), more);
  }

  static JsonNode json(String s) throws IOException {
    return ModelJson.mapper().readTree(s);
  }

  /** One request an {@link HttpPeer} received. */
  record Received(String method, String uri, Map<String, List<String>> headers, byte[] body) {
    String header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .map(e -> e.getValue().get(0))
          .findFirst()
          .orElse(null);
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /**
   * An HTTP server: what it received, answered by {@code answer} (a status and a body; 200 {@code
   * {}} by default).
   */
  final class HttpPeer implements AutoCloseable {
    final HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    final List<Received> received = new CopyOnWriteArrayList<>();
    volatile Function<Received, Map.Entry<Integer, String>> answer = r -> Map.entry(200, "{}");

    HttpPeer() throws IOException {
      server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
      server.createContext("/", this::handle);
      server.start();
      peers.add(this);
    }

    private void handle(HttpExchange ex) throws IOException {
      var r =
          new Received(
              ex.getRequestMethod(),
              ex.getRequestURI().toString(),
              Map.copyOf(ex.getRequestHeaders()),
              ex.getRequestBody().readAllBytes());
      Map.Entry<Integer, String> a;
      try {
        a = answer.apply(r);
      } catch (AssertionError | RuntimeException e) {
        a = Map.entry(400, String.valueOf(e.getMessage()));
      }
      received.add(r);
      var out = a.getValue().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(a.getKey(), out.length == 0 ? -1 : out.length);
      ex.getResponseBody().write(out);
      ex.close();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    List<Received> to(String pathStart) {
      return received.stream().filter(r -> r.uri().startsWith(pathStart)).toList();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  /** A UDP server: every datagram received. */
  final class UdpPeer implements AutoCloseable {
    final List<String> received = new CopyOnWriteArrayList<>();
    private final UdpServer server = UdpServer.collecting(received);

    UdpPeer() throws IOException {
      peers.add(this);
    }

    int port() {
      return server.port();
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /** A TLS server (a certificate of its own, made here): every line received. */
  final class TlsPeer implements AutoCloseable {
    final java.net.ServerSocket server;
    final List<String> lines = new CopyOnWriteArrayList<>();

    TlsPeer() throws Exception {
      var ca = Pki.authority("sls test CA");
      var cert = Pki.serverForIp(ca, "127.0.0.1");
      var ctx = SSLContext.getInstance("TLS");
      ctx.init(cert.toKeyManagerFactory().getKeyManagers(), null, null);
      server =
          ctx.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread.ofPlatform().daemon().start(this::accept);
      peers.add(this);
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          var s = server.accept();
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    try (s;
                        var r =
                            new java.io.BufferedReader(
                                new java.io.InputStreamReader(
                                    s.getInputStream(), StandardCharsets.UTF_8))) {
                      String l;
                      while ((l = r.readLine()) != null) {
                        lines.add(l);
                      }
                    } catch (IOException e) {
                      // the logger closed
                    }
                  });
        } catch (IOException e) {
          return;
        }
      }
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  /** The JSON values of a body of JSON texts one after another (HEC's, Loggly's bulk). */
  static List<JsonNode> values(String body) throws IOException {
    var out = new ArrayList<JsonNode>();
    try (var it = ModelJson.mapper().readerFor(JsonNode.class).readValues(body)) {
      while (it.hasNext()) {
        out.add((JsonNode) it.next());
      }
    }
    return out;
  }

  @Test
  void splunkHecLoggingPostsHecEventsWithItsToken() throws Exception {
    var hec = new HttpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                """
                splunk-hec-logging:
                  endpoint: {uri: "%s/services/collector", token: "BD274822-96AA-4DA6-90EC-18940FB2414C", channel: "FE0ECFAD-13D5-401B-847D-77833BD77131"}
                  batch_max_size: 2
                """
                    .formatted(hec.url()),
                ""));
    assertThat(gw.get("/s1?a=1").statusCode()).isEqualTo(200);
    assertThat(gw.get("/s2").statusCode()).isEqualTo(200);
    await().until(() -> hec.received.size() == 1);
    var r = hec.received.get(0);
    assertThat(r.method()).isEqualTo("POST");
    assertThat(r.uri()).isEqualTo("/services/collector");
    assertThat(r.header("Authorization")).isEqualTo("Splunk BD274822-96AA-4DA6-90EC-18940FB2414C");
    assertThat(r.header("X-Splunk-Request-Channel"))
        .isEqualTo("FE0ECFAD-13D5-401B-847D-77833BD77131");
    assertThat(r.header("Content-Type")).isEqualTo("application/json");
    var events = values(r.text());
    assertThat(events).hasSize(2);
    for (var e : events) {
      assertThat(e.path("time").isNumber()).isTrue();
      assertThat(e.path("host").asText()).isNotEmpty();
      assertThat(e.path("source").asText()).isEqualTo("apache-apisix-splunk-hec-logging");
      assertThat(e.path("sourcetype").asText()).isEqualTo("_json");
      assertThat(e.path("event").path("request_method").asText()).isEqualTo("GET");
      assertThat(e.path("event").path("response_status").asInt()).isEqualTo(200);
      assertThat(e.path("event").path("upstream").asText()).isEqualTo(up.node());
    }
    assertThat(events)
        .extracting(e -> e.path("event").path("request_url").asText())
        .anyMatch(u -> u.endsWith("/s1?a=1"));
    assertThat(events.stream().filter(e -> e.path("event").path("request_query").has("a")))
        .hasSize(1);
  }

  @Test
  void splunkHecLoggingSendsTheLogFormatEntryAsTheEventAndRetriesAFailedBatch() throws Exception {
    var hec = new HttpPeer();
    var failures = new AtomicInteger(1);
    hec.answer =
        r ->
            failures.getAndDecrement() > 0
                ? Map.entry(503, "{\"text\":\"Server is busy\",\"code\":9}")
                : Map.entry(200, "{\"text\":\"Success\",\"code\":0}");
    gw =
        Gateways.start(
            dir,
            route(
                """
                splunk-hec-logging:
                  endpoint: {uri: "%s/services/collector", token: "t"}
                  log_format: {uri: $uri, status: $status}
                  batch_max_size: 1
                  max_retry_count: 2
                  retry_delay: 0.1
                """
                    .formatted(hec.url()),
                ""));
    gw.get("/fmt");
    await().until(() -> hec.received.size() == 2);
    var e = values(hec.received.get(1).text()).get(0);
    assertThat(e.path("event").path("uri").asText()).isEqualTo("/fmt");
    assertThat(e.path("event").path("status").asText()).isEqualTo("200");
    assertThat(e.path("event").has("request_method")).isFalse();
    await().until(() -> sent("splunk-hec-logging") == 1);
  }

  long sent(String plugin) {
    return gw.dataplane().servers().compiler().pluginServices().metrics().loggerSent(plugin);
  }

  @Test
  void logglySendsRfc5424LinesOverUdpWithTheTokenAndTagsAsStructuredData() throws Exception {
    var loggly = new UdpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                """
                loggly:
                  customer_token: "0e6fe4bf-376e-40f4-b25f-1d55cb29f5a2"
                  tags: [apisix, archway]
                  severity: notice
                  batch_max_size: 1
                """,
                """
                plugin_metadata:
                  - id: loggly
                    host: 127.0.0.1
                    port: %d
                """
                    .formatted(loggly.port())));
    gw.get("/l1");
    await().until(() -> loggly.received.size() == 1);
    var line = loggly.received.get(0);
    // facility user (1) * 8 + notice (5)
    assertThat(line)
        .matches(
            "<13>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\S+ apisix \\d+ -"
                + " \\[0e6fe4bf-376e-40f4-b25f-1d55cb29f5a2@41058 tag=\"apisix\" tag=\"archway\"\\]"
                + " \\{.*\\}");
    var entry = json(line.substring(line.indexOf("] {") + 2));
    assertThat(entry.path("request").path("uri").asText()).isEqualTo("/l1");
    assertThat(entry.path("route_id").asText()).isEqualTo("r1");
  }

  @Test
  void logglySeverityMapPicksTheSeverityOfTheStatus() throws Exception {
    var loggly = new UdpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                """
                loggly:
                  customer_token: "tok"
                  severity_map: {"200": ERR, "503": alert}
                  batch_max_size: 1
                """,
                """
                plugin_metadata:
                  - id: loggly
                    host: 127.0.0.1
                    port: %d
                """
                    .formatted(loggly.port())));
    gw.get("/ok");
    await().until(() -> loggly.received.size() == 1);
    assertThat(loggly.received.get(0)).startsWith("<11>1 ").contains("[tok@41058 tag=\"apisix\"]");
  }

  @Test
  void logglyPostsToTheBulkEndpointOverHttpWithTheMetadatasLogFormat() throws Exception {
    var loggly = new HttpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                """
                loggly:
                  customer_token: "tok"
                  tags: [web, gw]
                  batch_max_size: 2
                """,
                """
                plugin_metadata:
                  - id: loggly
                    host: "%s"
                    protocol: http
                    timeout: 2000
                    log_format: {path: $uri, method: $request_method}
                """
                    .formatted(loggly.url())));
    gw.get("/b1");
    gw.get("/b2");
    await().until(() -> loggly.received.size() == 1);
    var r = loggly.received.get(0);
    assertThat(r.uri()).isEqualTo("/bulk/tok/tag/bulk");
    assertThat(r.header("X-LOGGLY-TAG")).isEqualTo("web,gw");
    var lines = r.text().split("\n");
    assertThat(lines).hasSize(2);
    assertThat(List.of(json(lines[0]).path("path").asText(), json(lines[1]).path("path").asText()))
        .containsExactlyInAnyOrder("/b1", "/b2");
    assertThat(json(lines[0]).path("method").asText()).isEqualTo("GET");
    assertThat(json(lines[0]).has("request")).isFalse();
  }

  /** A Google stand-in: the token endpoint (checking the JWT) and entries:write. */
  final class Google {
    final HttpPeer peer;
    final KeyPair keys;
    final AtomicInteger tokens = new AtomicInteger();
    final List<JsonNode> claims = new CopyOnWriteArrayList<>();

    Google() throws Exception {
      var gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048);
      keys = gen.generateKeyPair();
      peer = new HttpPeer();
      peer.answer = this::answer;
    }

    String privateKeyPem() {
      return "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(keys.getPrivate().getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
    }

    Map.Entry<Integer, String> answer(Received r) {
      if (r.uri().equals("/token")) {
        var form = new HashMap<String, String>();
        for (var kv : r.text().split("&")) {
          var i = kv.indexOf('=');
          form.put(
              kv.substring(0, i), URLDecoder.decode(kv.substring(i + 1), StandardCharsets.UTF_8));
        }
        assertThat(form.get("grant_type")).isEqualTo("urn:ietf:params:oauth:grant-type:jwt-bearer");
        var parts = form.get("assertion").split("\\.");
        assertThat(parts).hasSize(3);
        try {
          var sig = Signature.getInstance("SHA256withRSA");
          sig.initVerify(keys.getPublic());
          sig.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
          if (!sig.verify(Base64.getUrlDecoder().decode(parts[2]))) {
            return Map.entry(
                400, "{\"error\":\"invalid_grant\",\"error_description\":\"bad sig\"}");
          }
          var header = json(new String(Base64.getUrlDecoder().decode(parts[0])));
          assertThat(header.path("alg").asText()).isEqualTo("RS256");
          claims.add(json(new String(Base64.getUrlDecoder().decode(parts[1]))));
        } catch (Exception e) {
          throw new AssertionError(e);
        }
        tokens.incrementAndGet();
        return Map.entry(
            200, "{\"access_token\":\"ya29.test\",\"expires_in\":3599,\"token_type\":\"Bearer\"}");
      }
      if (r.uri().equals("/v2/entries:write")) {
        if (!"Bearer ya29.test".equals(r.header("Authorization"))) {
          return Map.entry(401, "{\"error\":{\"code\":401}}");
        }
        return Map.entry(200, "{}");
      }
      return Map.entry(404, "{}");
    }
  }

  @Test
  void googleCloudLoggingExchangesASignedJwtForATokenOnceAndWritesEntries() throws Exception {
    var google = new Google();
    var url = google.peer.url();
    gw =
        Gateways.start(
            dir,
            route(
                """
                google-cloud-logging:
                  auth_config:
                    client_email: "gw@proj-1.iam.gserviceaccount.com"
                    project_id: "proj-1"
                    private_key: %s
                    token_uri: "%s/token"
                    entries_uri: "%s/v2/entries:write"
                    scope: ["https://www.googleapis.com/auth/logging.write"]
                  ssl_verify: false
                  resource: {type: "generic_node", labels: {location: "here"}}
                  log_id: "gw%%2Faccess"
                  batch_max_size: 1
                """
                    .formatted(
                        ModelJson.mapper().writeValueAsString(google.privateKeyPem()), url, url),
                ""));
    assertThat(gw.get("/g1", "User-Agent", "it/1").statusCode()).isEqualTo(200);
    assertThat(gw.get("/g2").statusCode()).isEqualTo(200);
    await()
        .untilAsserted(
            () ->
                assertThat(google.peer.received)
                    .extracting(Received::uri)
                    .containsExactly("/token", "/v2/entries:write", "/v2/entries:write"));
    assertThat(google.tokens.get()).isEqualTo(1);
    var claims = google.claims.get(0);
    assertThat(claims.path("iss").asText()).isEqualTo("gw@proj-1.iam.gserviceaccount.com");
    assertThat(claims.path("aud").asText()).isEqualTo(url + "/token");
    assertThat(claims.path("scope").asText())
        .isEqualTo("https://www.googleapis.com/auth/logging.write");
    assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(3600);
    var writes = google.peer.to("/v2/entries:write");
    assertThat(writes).allMatch(w -> w.header("Authorization").equals("Bearer ya29.test"));
    var body = json(writes.get(0).text());
    assertThat(body.path("partialSuccess").asBoolean(true)).isFalse();
    var entry = body.path("entries").get(0);
    assertThat(entry.path("logName").asText()).isEqualTo("projects/proj-1/logs/gw%2Faccess");
    assertThat(entry.path("resource").path("type").asText()).isEqualTo("generic_node");
    assertThat(entry.path("resource").path("labels").path("location").asText()).isEqualTo("here");
    assertThat(entry.path("labels").path("source").asText())
        .isEqualTo("apache-apisix-google-cloud-logging");
    assertThat(entry.path("timestamp").asText()).matches("\\d{4}-.*T.*\\.\\d{3}Z");
    var http = entry.path("httpRequest");
    assertThat(http.path("requestMethod").asText()).isEqualTo("GET");
    assertThat(http.path("status").asInt()).isEqualTo(200);
    assertThat(http.path("latency").asText()).matches("\\d+\\.\\d{3}s");
    assertThat(entry.path("jsonPayload").path("route_id").asText()).isEqualTo("r1");
    assertThat(
            writes.stream()
                .map(w -> uncheckedJson(w.text()).path("entries").get(0).path("httpRequest")))
        .anyMatch(h -> h.path("userAgent").asText().equals("it/1"));
  }

  @Test
  void googleCloudLoggingReadsAServiceAccountKeyFile() throws Exception {
    var google = new Google();
    var url = google.peer.url();
    var key = ModelJson.mapper().createObjectNode();
    key.put("type", "service_account")
        .put("project_id", "proj-2")
        .put("private_key_id", "k1")
        .put("private_key", google.privateKeyPem())
        .put("client_email", "gw@proj-2.iam.gserviceaccount.com")
        .put("token_uri", url + "/token")
        .put("entries_uri", url + "/v2/entries:write");
    var file = Files.writeString(dir.resolve("sa.json"), key.toString());
    gw =
        Gateways.start(
            dir,
            route(
                """
                google-cloud-logging:
                  auth_file: "%s"
                  log_format: {path: $uri}
                  batch_max_size: 1
                """
                    .formatted(file),
                ""));
    gw.get("/file");
    await().until(() -> google.peer.to("/v2/entries:write").size() == 1);
    var entry = json(google.peer.to("/v2/entries:write").get(0).text()).path("entries").get(0);
    assertThat(entry.path("logName").asText())
        .isEqualTo("projects/proj-2/logs/apisix.apache.org%2Flogs");
    assertThat(entry.path("resource").path("type").asText()).isEqualTo("global");
    assertThat(entry.path("jsonPayload").path("path").asText()).isEqualTo("/file");
    assertThat(entry.has("httpRequest")).isFalse();
    // Scopes not in the file: APISIX's defaults.
    assertThat(google.claims.get(0).path("scope").asText())
        .contains("https://www.googleapis.com/auth/logging.write")
        .contains("https://www.googleapis.com/auth/cloud-platform");
  }

  static JsonNode uncheckedJson(String s) {
    try {
      return json(s);
    } catch (IOException e) {
      throw new AssertionError(s, e);
    }
  }

  @Test
  void slsLoggerSendsRfc5424LinesOverTlsWithTheLogStoreAndKeyAsStructuredData() throws Exception {
    var sls = new TlsPeer();
    gw =
        Gateways.start(
            dir,
            route(
                """
                sls-logger:
                  host: 127.0.0.1
                  port: %d
                  project: "gw-project"
                  logstore: "access"
                  access_key_id: "LTAI-id"
                  access_key_secret: "secret-1"
                  include_req_body: true
                  batch_max_size: 2
                """
                    .formatted(sls.port()),
                ""));
    gw.get("/sls1");
    var post =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(gw.url("/sls2")))
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("hello sls"))
            .build();
    assertThat(
            gw.client().send(post, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);
    await().until(() -> sls.lines.size() == 2);
    for (var line : sls.lines) {
      assertThat(line)
          .matches(
              "<46>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.000Z \\S+ apisix \\d+ -"
                  + " \\[logservice project=\"gw-project\" logstore=\"access\""
                  + " access-key-id=\"LTAI-id\" access-key-secret=\"secret-1\"\\] \\{.*\\}");
    }
    var entries =
        sls.lines.stream().map(l -> uncheckedJson(l.substring(l.indexOf("\"] {") + 3))).toList();
    assertThat(entries).allMatch(e -> e.path("route_id").asText().equals("r1"));
    var posted =
        entries.stream()
            .filter(e -> e.path("request").path("method").asText().equals("POST"))
            .findFirst()
            .orElseThrow();
    assertThat(posted.path("request").path("body").asText()).isEqualTo("hello sls");
  }

  /** CLS's signature, computed here apart from the plugin's code, as CLS checks it. */
  static String clsSignature(String secretKey, String signTime) throws Exception {
    var sha1 = java.security.MessageDigest.getInstance("SHA-1");
    var hex = HexFormat.of();
    var info = hex.formatHex(sha1.digest("post\n/structuredlog\n\n\n".getBytes()));
    var mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(secretKey.getBytes(), "HmacSHA1"));
    var signKey = hex.formatHex(mac.doFinal(signTime.getBytes()));
    mac.init(new SecretKeySpec(signKey.getBytes(), "HmacSHA1"));
    return hex.formatHex(mac.doFinal(("sha1\n" + signTime + "\n" + info + "\n").getBytes()));
  }

  @Test
  void tencentCloudClsUploadsASignedProtobufLogGroupList() throws Exception {
    var cls = new HttpPeer();
    cls.answer =
        r -> {
          var auth = new HashMap<String, String>();
          for (var kv : r.header("Authorization").split("&")) {
            var i = kv.indexOf('=');
            auth.put(kv.substring(0, i), kv.substring(i + 1));
          }
          try {
            if (!auth.get("q-ak").equals("AKID-1")
                || !auth.get("q-signature")
                    .equals(clsSignature("key-1", auth.get("q-sign-time")))) {
              return Map.entry(401, "{\"errorcode\":\"AuthFailure\"}");
            }
          } catch (Exception e) {
            throw new AssertionError(e);
          }
          return Map.entry(200, "");
        };
    gw =
        Gateways.start(
            dir,
            route(
                """
                tencent-cloud-cls:
                  cls_host: "%s"
                  cls_topic: "topic-1"
                  secret_id: "AKID-1"
                  secret_key: "key-1"
                  global_tag: {env: test, team: {name: gw}}
                  batch_max_size: 2
                """
                    .formatted(cls.url()),
                ""));
    gw.get("/c1");
    gw.get("/c2");
    await().until(() -> sent("tencent-cloud-cls") == 2);
    assertThat(cls.received).hasSize(1);
    var r = cls.received.get(0);
    assertThat(r.uri()).isEqualTo("/structuredlog?topic_id=topic-1");
    assertThat(r.header("Content-Type")).isEqualTo("application/x-protobuf");
    var auth = r.header("Authorization");
    assertThat(auth)
        .matches(
            "q-sign-algorithm=sha1&q-ak=AKID-1&q-sign-time=(\\d+);\\d+&q-key-time=\\d+;\\d+"
                + "&q-header-list=&q-url-param-list=&q-signature=[0-9a-f]{40}");
    // LogGroupList { logGroupList = 1 } -> LogGroup { logs = 1, source = 4 }
    var list = UnknownFieldSet.parseFrom(r.body());
    var groups = list.getField(1).getLengthDelimitedList();
    assertThat(groups).hasSize(1);
    var group = UnknownFieldSet.parseFrom(groups.get(0));
    assertThat(group.getField(4).getLengthDelimitedList().get(0).toStringUtf8()).isNotEmpty();
    var logs = group.getField(1).getLengthDelimitedList();
    assertThat(logs).hasSize(2);
    var uris = new ArrayList<String>();
    for (var bytes : logs) {
      // Log { time = 1, contents = 2 } -> Content { key = 1, value = 2 }
      var log = UnknownFieldSet.parseFrom(bytes);
      assertThat(log.getField(1).getVarintList().get(0))
          .isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
      var contents = new HashMap<String, String>();
      for (var c : log.getField(2).getLengthDelimitedList()) {
        var content = UnknownFieldSet.parseFrom(c);
        contents.put(
            content.getField(1).getLengthDelimitedList().get(0).toStringUtf8(),
            content.getField(2).getLengthDelimitedList().get(0).toStringUtf8());
      }
      assertThat(contents).containsEntry("env", "test").containsEntry("route_id", "r1");
      assertThat(json(contents.get("team")).path("name").asText()).isEqualTo("gw");
      uris.add(json(contents.get("request")).path("uri").asText());
    }
    assertThat(uris).containsExactlyInAnyOrder("/c1", "/c2");
  }

  @Test
  void lagoPostsUsageEventsWithTemplatedIdsAndProperties() throws Exception {
    var lago = new HttpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                """
                lago:
                  endpoint_addrs: ["%s"]
                  token: "lago-key"
                  event_transaction_id: "tx_${uri}"
                  event_subscription_id: "sub_$remote_addr"
                  event_code: "api_calls"
                  event_properties: {status: "$status", tier: "gold"}
                  batch_max_size: 2
                """
                    .formatted(lago.url()),
                ""));
    gw.get("/l/a");
    gw.get("/l/b");
    await().until(() -> lago.received.size() == 1);
    var r = lago.received.get(0);
    assertThat(r.uri()).isEqualTo("/api/v1/events/batch");
    assertThat(r.header("Authorization")).isEqualTo("Bearer lago-key");
    var events = json(r.text()).path("events");
    assertThat(events).hasSize(2);
    var ids = new ArrayList<String>();
    for (var e : events) {
      ids.add(e.path("transaction_id").asText());
      assertThat(e.path("external_subscription_id").asText()).isEqualTo("sub_127.0.0.1");
      assertThat(e.path("code").asText()).isEqualTo("api_calls");
      assertThat(e.path("timestamp").asDouble())
          .isCloseTo(
              System.currentTimeMillis() / 1000.0, org.assertj.core.data.Offset.offset(60.0));
      assertThat(e.path("properties").path("status").asText()).isEqualTo("200");
      assertThat(e.path("properties").path("tier").asText()).isEqualTo("gold");
    }
    assertThat(ids).containsExactlyInAnyOrder("tx_/l/a", "tx_/l/b");
  }

  /** The rotated access logs in {@link #dir}, oldest first. */
  List<Path> rotated() throws IOException {
    try (var files = Files.list(dir)) {
      return files
          .filter(p -> p.getFileName().toString().matches(".*__access\\.log(\\.gz)?"))
          .sorted()
          .toList();
    }
  }

  static String gunzip(Path p) throws IOException {
    try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(p))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void logRotateRotatesTheAccessLogByIntervalCompressesAndKeepsMaxKept() throws Exception {
    var log = dir.resolve("access.log");
    gw =
        Gateways.start(
            dir,
            route(
                "log-rotate: {}",
                """
                plugin_metadata:
                  - id: log-rotate
                    interval: 0.5
                    max_kept: 2
                    enable_compression: true
                """),
            HttpSettings.DEFAULTS.withAccessLog(log.toString()));
    for (var uri : List.of("/rot1", "/rot2", "/rot3")) {
      assertThat(gw.get(uri).statusCode()).isEqualTo(200);
      await()
          .until(
              () ->
                  rotated().stream()
                      .filter(p -> p.toString().endsWith(".gz"))
                      .anyMatch(p -> uncheckedGunzip(p).contains("\"uri\":\"" + uri + "\"")));
    }
    await().until(() -> rotated().size() == 2);
    assertThat(rotated())
        .allMatch(
            p ->
                p.getFileName()
                    .toString()
                    .matches(
                        "\\d{4}-\\d\\d-\\d\\d_\\d\\d-\\d\\d-\\d\\d(-\\d+)?__access\\.log\\.gz"));
    assertThat(Files.exists(log)).isTrue();
  }

  static String uncheckedGunzip(Path p) {
    try {
      return gunzip(p);
    } catch (IOException e) {
      return ""; // still being written
    }
  }

  @Test
  void logRotateRotatesTheAccessLogPastMaxSize() throws Exception {
    var log = dir.resolve("access.log");
    gw =
        Gateways.start(
            dir,
            route(
                "log-rotate: {}",
                """
                plugin_metadata:
                  - id: log-rotate
                    max_size: 100
                """),
            HttpSettings.DEFAULTS.withAccessLog(log.toString()));
    assertThat(gw.get("/big-enough-to-pass-one-hundred-bytes").statusCode()).isEqualTo(200);
    await().until(() -> rotated().size() == 1);
    assertThat(Files.readString(rotated().get(0)))
        .contains("\"uri\":\"/big-enough-to-pass-one-hundred-bytes\"");
  }
}
