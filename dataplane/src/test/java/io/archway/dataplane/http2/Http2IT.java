package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Pki;
import io.archway.dataplane.testing.TestUpstream;
import io.netty.pkitesting.X509Bundle;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 from real clients through the gateway to an HTTP/1.1 node: curl (built with nghttp2) over
 * TLS by ALPN, with prior knowledge and by {@code Upgrade: h2c} in cleartext; the JDK's {@code
 * HttpClient} over TLS and h2c; many concurrent streams on one connection through plugins; large
 * bodies both ways; the access log; a graceful stop with a stream in flight.
 */
class Http2IT {

  static {
    // The test certificate names no IP address; the JDK client connects to 127.0.0.1.
    System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
  }

  static X509Bundle ca;
  static TestUpstream up;

  @TempDir Path dir;
  Gateways gw;

  @BeforeAll
  static void setUp() throws Exception {
    ca = Pki.authority("Test CA");
    up = new TestUpstream("up");
  }

  @AfterAll
  static void tearDown() {
    up.close();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  String config(String plugins, String extra) throws Exception {
    var cert = Pki.server(ca, false, "h2.test");
    return """
        routes:
          - id: r1
            uri: /*
            plugins: %s
            upstream: {nodes: {"%s": 1}}
        ssls:
        %s%s"""
        .formatted(plugins, up.node(), Pki.ssl("s", cert, List.of("h2.test"), null), extra);
  }

  Gateways start(boolean h2c) throws Exception {
    return start(h2c, HttpSettings.DEFAULTS.withAccessLog("off"), "{}", "");
  }

  Gateways start(boolean h2c, HttpSettings http, String plugins, String extra) throws Exception {
    gw =
        Gateways.start(
            dir,
            config(plugins, extra),
            o -> o.withHttp(http).withHttp2(H2Settings.DEFAULTS.withH2c(h2c)));
    return gw;
  }

  /** curl's output: the body, then a line with the HTTP version and status. */
  static String curl(String... args) throws Exception {
    var cmd = new ArrayList<String>(List.of("curl", "-s", "-S", "--max-time", "20"));
    cmd.addAll(List.of("-w", "\n%{http_version} %{http_code}"));
    cmd.addAll(List.of(args));
    var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  @Test
  void curlNegotiatesH2OverTlsByAlpn() throws Exception {
    start(false);
    var https = "https://127.0.0.1:" + gw.httpsPort();
    assertThat(curl("-k", "--http2", https + "/a")).isEqualTo("up\n2 200");
    // A client that offers only http/1.1 still gets it.
    assertThat(curl("-k", "--http1.1", https + "/a")).isEqualTo("up\n1.1 200");
    assertThat(up.lastRequest()).isEqualTo("GET /a");
  }

  @Test
  void curlSpeaksH2cWithPriorKnowledgeAndByUpgradeWhenOn() throws Exception {
    start(true);
    var http = "http://127.0.0.1:" + gw.port();
    assertThat(curl("--http2-prior-knowledge", http + "/prior")).isEqualTo("up\n2 200");
    assertThat(up.lastRequest()).isEqualTo("GET /prior");
    assertThat(curl("--http2", http + "/upgraded?x=1")).isEqualTo("up\n2 200");
    assertThat(up.lastRequest()).isEqualTo("GET /upgraded?x=1");
    // The upgrade's fields are this hop's: the node sees none of them.
    assertThat(up.lastHeaders()).doesNotContainKeys("upgrade", "http2-settings", "connection");
    // HTTP/1.1 is still served on the same listener.
    assertThat(curl("--http1.1", http + "/one")).isEqualTo("up\n1.1 200");
    // An upgrade request with a body is served over HTTP/1.1 (the upgrade is ignored).
    assertThat(curl("--http2", "-d", "hello", http + "/upload")).isEqualTo("5\n1.1 200");
  }

  @Test
  void h2cIsOffUnlessEnabled() throws Exception {
    start(false);
    var http = "http://127.0.0.1:" + gw.port();
    // The upgrade is ignored: HTTP/1.1 answers.
    assertThat(curl("--http2", http + "/a")).isEqualTo("up\n1.1 200");
    // The preface is not HTTP/1.1: refused.
    assertThat(curl("--http2-prior-knowledge", http + "/a")).doesNotEndWith("2 200");
  }

  HttpClient h2Client() throws Exception {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_2)
        .sslContext(Pki.trustingContext())
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Test
  void javaHttpClientOverTlsAndH2c() throws Exception {
    start(true);
    try (var client = h2Client()) {
      var tls =
          client.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gw.httpsPort() + "/t"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(tls.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(tls.statusCode()).isEqualTo(200);
      assertThat(tls.body()).isEqualTo("up");
      // The JDK client goes h2c by Upgrade on its first request, then streams on that connection.
      for (int i = 0; i < 3; i++) {
        var clear =
            client.send(
                HttpRequest.newBuilder(URI.create(gw.url("/c" + i))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(clear.statusCode()).isEqualTo(200);
        assertThat(clear.body()).isEqualTo("up");
        if (i > 0) {
          assertThat(clear.version()).isEqualTo(HttpClient.Version.HTTP_2);
        }
      }
      // A request body over h2, with its length.
      var post =
          client.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gw.httpsPort() + "/echo"))
                  .POST(HttpRequest.BodyPublishers.ofString("ping over h2"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(post.body()).isEqualTo("ping over h2");
    }
  }

  @Test
  void manyConcurrentStreamsOnOneConnectionThroughPlugins() throws Exception {
    start(
        false,
        HttpSettings.DEFAULTS.withAccessLog("off"),
        "{key-auth: {}, proxy-rewrite: {headers: {set: {X-Via: h2}}}}",
        """
        consumers:
          - username: jack
            plugins:
              key-auth: {key: jack-key}
              limit-count: {count: 80, time_window: 60, rejected_code: 429}
        """);
    long connectionsBefore = gw.dataplane().servers().httpMetrics().openConnections();
    try (var client = h2Client()) {
      var base = "https://127.0.0.1:" + gw.httpsPort();
      // One request first, so that the rest share its connection.
      var first =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/s")).header("apikey", "jack-key").build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(first.statusCode()).isEqualTo(200);
      var all = new ArrayList<CompletableFuture<HttpResponse<String>>>();
      // Fewer than SETTINGS_MAX_CONCURRENT_STREAMS (128): the JDK client fails the rest.
      for (int i = 0; i < 100; i++) {
        all.add(
            client.sendAsync(
                HttpRequest.newBuilder(URI.create(base + "/s" + i))
                    .header("apikey", "jack-key")
                    .build(),
                HttpResponse.BodyHandlers.ofString()));
      }
      int ok = 0;
      int limited = 0;
      for (var f : all) {
        var r = f.get(30, TimeUnit.SECONDS);
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        if (r.statusCode() == 200) {
          ok++;
          assertThat(r.body()).isEqualTo("up");
        } else {
          assertThat(r.statusCode()).isEqualTo(429);
          limited++;
        }
      }
      // 80 in the window, the first one included.
      assertThat(ok).isEqualTo(79);
      assertThat(limited).isEqualTo(21);
      assertThat(up.lastHeaders()).containsEntry("x-via", "h2").containsEntry("apikey", "jack-key");
      var noKey =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/s")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(noKey.statusCode()).isEqualTo(401);
      assertThat(gw.dataplane().servers().httpMetrics().openConnections() - connectionsBefore)
          .isEqualTo(1);
    }
  }

  /** {@code size} bytes of a repeating pattern, produced as the client sends them. */
  static HttpRequest.BodyPublisher generated(long size) {
    var chunk = new byte[64 * 1024];
    java.util.Arrays.fill(chunk, (byte) 'x');
    return HttpRequest.BodyPublishers.fromPublisher(
        subscriber ->
            subscriber.onSubscribe(
                new Flow.Subscription() {
                  long sent;
                  boolean done;

                  @Override
                  public synchronized void request(long n) {
                    for (long i = 0; i < n && !done; i++) {
                      if (sent >= size) {
                        done = true;
                        subscriber.onComplete();
                        return;
                      }
                      int len = (int) Math.min(chunk.length, size - sent);
                      sent += len;
                      subscriber.onNext(ByteBuffer.wrap(chunk, 0, len));
                    }
                  }

                  @Override
                  public void cancel() {
                    done = true;
                  }
                }),
        size);
  }

  @Test
  void largeBodiesStreamBothWays() throws Exception {
    start(true);
    long size = 48L << 20;
    try (var client = h2Client()) {
      var base = "https://127.0.0.1:" + gw.httpsPort();
      var upload =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/upload")).POST(generated(size)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(upload.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(upload.body()).isEqualTo(Long.toString(size));
      var download =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/download?size=" + size)).build(),
              HttpResponse.BodyHandlers.ofInputStream());
      long got = 0;
      try (InputStream in = download.body()) {
        var buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {
          got += n;
        }
      }
      assertThat(got).isEqualTo(size);
    }
  }

  @Test
  void theAccessLogSaysHttp2() throws Exception {
    var log = dir.resolve("access.log");
    start(true, HttpSettings.DEFAULTS.withAccessLog(log.toString()), "{}", "");
    assertThat(curl("--http2-prior-knowledge", gw.url("/logged"))).isEqualTo("up\n2 200");
    assertThat(curl("--http1.1", gw.url("/logged1"))).isEqualTo("up\n1.1 200");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(Files.readString(log))
                    .contains("\"uri\":\"/logged\",\"protocol\":\"HTTP/2.0\"")
                    .contains("\"uri\":\"/logged1\",\"protocol\":\"HTTP/1.1\""));
  }

  @Test
  void routesSeeTheProtocolAsServerProtocol() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: h2only
                uri: /proto
                priority: 10
                vars: [["server_protocol", "==", "HTTP/2.0"]]
                upstream: {nodes: {"%s": 1}}
              - id: other
                uri: /proto
                plugins: {fault-injection: {abort: {http_status: 418, body: "h1"}}}
                upstream: {nodes: {"%s": 1}}"""
                .formatted(up.node(), up.node()),
            o -> o.withHttp2(H2Settings.DEFAULTS.withH2c(true)));
    assertThat(curl("--http2-prior-knowledge", gw.url("/proto"))).isEqualTo("up\n2 200");
    assertThat(curl("--http1.1", gw.url("/proto"))).isEqualTo("h1\n1.1 418");
  }

  @Test
  void aStreamInFlightFinishesWhenTheServerStops() throws Exception {
    start(true);
    try (var client = h2Client()) {
      var base = "https://127.0.0.1:" + gw.httpsPort();
      assertThat(
              client
                  .send(
                      HttpRequest.newBuilder(URI.create(base + "/warm")).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(200);
      var slow =
          client.sendAsync(
              HttpRequest.newBuilder(URI.create(base + "/delay/700")).build(),
              HttpResponse.BodyHandlers.ofString());
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> gw.dataplane().servers().inFlight().active() == 1);
      var stopping = CompletableFuture.runAsync(gw::close);
      var r = slow.get(10, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
      stopping.get(10, TimeUnit.SECONDS);
      gw = null;
    }
  }

  @Test
  void theServerStoppingSendsGoAwayAndLetsOpenStreamsFinish() throws Exception {
    start(true);
    try (var wire = io.archway.dataplane.testing.H2Wire.connect(gw.port())) {
      wire.headers(1, io.archway.dataplane.testing.H2Wire.get("/delay/700"), true);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> gw.dataplane().servers().inFlight().active() == 1);
      var stopping = CompletableFuture.runAsync(gw::close);
      // At once: no stream after the one open will be taken.
      assertThat(wire.await("GOAWAY")).isEqualTo("GOAWAY 1 0");
      assertThat(wire.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
      assertThat(wire.await("DATA 1")).isEqualTo("DATA 1 2 end");
      wire.await("EOF");
      stopping.get(10, TimeUnit.SECONDS);
      gw = null;
    }
  }

  static byte[] bytes(InputStream in) throws Exception {
    var out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  static final AtomicLong UNUSED = new AtomicLong();
}
