package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * client-control, proxy-control, mocking, api-breaker and gzip through the real proxy and real
 * upstreams.
 */
class TrafficPluginsIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  HttpServer pages; // an upstream with typed, large, streamed bodies

  static final String PAGE = "<p>Archway compresses this page as it streams.</p>\n".repeat(8000);

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
    if (pages != null) {
      pages.stop(0);
    }
  }

  String route(String id, String uri, String node, String plugins) {
    return """
          - id: %s
            uri: "%s"
            upstream:
              nodes:
                "%s": 1
            plugins:
        %s
        """
        .formatted(id, uri, node, plugins.indent(6).stripTrailing());
  }

  // client-control

  @Test
  void clientControlRefusesALargeBodyBeforeAndWhileItStreams() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("small", "/upload", up.node(), "client-control: {max_body_size: 1000}")
                + route("free", "/free/*", up.node(), "client-control: {max_body_size: 0}"));
    // Declared: refused before a byte of it is read, and before the upstream hears of it.
    var declared = post("/upload", HttpRequest.BodyPublishers.ofByteArray(new byte[5000]));
    assertThat(declared.statusCode()).isEqualTo(413);
    assertThat(declared.body()).isEqualTo("{\"error_msg\":\"413 Request Entity Too Large\"}\n");
    assertThat(up.requests()).isZero();
    // Streamed with no length (chunked): refused when it passes the limit.
    var streamed = post("/upload", chunked(200_000));
    assertThat(streamed.statusCode()).isEqualTo(413);
    // Under the limit, either way.
    var ok = post("/upload", chunked(900));
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("900");
    // 0: no limit.
    assertThat(post("/free/x", chunked(300_000)).statusCode()).isEqualTo(200);
  }

  private HttpResponse<String> post(String path, HttpRequest.BodyPublisher body) throws Exception {
    return gw.client()
        .send(
            HttpRequest.newBuilder(URI.create(gw.url(path))).POST(body).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.BodyPublisher chunked(int size) {
    return HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[size]));
  }

  // proxy-control

  @Test
  void withoutRequestBufferingTheUpstreamGetsTheHeadBeforeTheBody() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "streamed", "/upload", up.node(), "proxy-control: {request_buffering: false}")
                + route("buffered", "/buffered/upload", up.node(), "proxy-control: {}"));
    try (var s = new Socket("127.0.0.1", gw.port())) {
      var out = s.getOutputStream();
      out.write(head("/upload"));
      out.flush();
      // Not a byte of the body yet, and the upstream has the request.
      await().atMost(Duration.ofSeconds(10)).until(() -> up.requests() == 1);
      out.write("a\r\nxxxxxxxxxx\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      var answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 200").endsWith("10");
    }
    // The default: the body is read (up to client_body_buffer_size) before a node is chosen.
    try (var s = new Socket("127.0.0.1", gw.port())) {
      var out = s.getOutputStream();
      out.write(head("/buffered/upload"));
      out.write("a\r\nxxxxxxxxxx\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(2))
          .until(() -> up.requests() == 1);
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      var answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 200");
      assertThat(up.requests()).isEqualTo(2);
    }
  }

  private static byte[] head(String path) {
    return ("POST "
            + path
            + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  // mocking

  @Test
  void mockingAnswersInsteadOfTheUpstream() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "example",
                    "/example/*",
                    up.node(),
                    """
                    mocking:
                      response_status: 201
                      response_example: '{"uri": "$uri", "a": "${arg_a}"}'
                      response_headers: {x-answer: 42}""")
                + route(
                    "schema",
                    "/schema",
                    up.node(),
                    """
                    mocking:
                      content_type: "application/xml"
                      with_mock_header: false
                      delay: 1
                      response_schema:
                        type: object
                        properties:
                          name: {type: string, example: jack}
                          age: {type: integer, example: 7}"""));
    var example = gw.get("/example/x?a=b");
    assertThat(example.statusCode()).isEqualTo(201);
    assertThat(example.body()).isEqualTo("{\"uri\": \"/example/x\", \"a\": \"b\"}");
    assertThat(example.headers().firstValue("content-type"))
        .hasValue("application/json;charset=utf8");
    assertThat(example.headers().firstValue("x-answer")).hasValue("42");
    assertThat(example.headers().firstValue("x-mock-by").orElseThrow()).startsWith("Archway/");

    long start = System.nanoTime();
    var schema = gw.get("/schema");
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
    assertThat(schema.statusCode()).isEqualTo(200);
    assertThat(schema.body()).isEqualTo("<data><name>jack</name><age>7</age></data>");
    assertThat(schema.headers().firstValue("x-mock-by")).isEmpty();
    assertThat(up.requests()).isZero();
  }

  // api-breaker

  @Test
  void apiBreakerOpensAfterFailuresAndClosesAfterTheBreakTime() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/*",
                    up.node(),
                    """
                    api-breaker:
                      break_response_code: 502
                      break_response_body: "breaker open"
                      break_response_headers: [{key: x-breaker, value: "$uri"}]
                      max_breaker_sec: 3
                      unhealthy: {http_statuses: [500, 503], failures: 2}
                      healthy: {http_statuses: [200], successes: 1}"""));
    up.forceStatus(500);
    assertThat(gw.get("/a").statusCode()).isEqualTo(500);
    assertThat(gw.get("/a").statusCode()).isEqualTo(500);
    int reached = up.requests();
    var open = gw.get("/a");
    assertThat(open.statusCode()).isEqualTo(502);
    assertThat(open.body()).isEqualTo("breaker open");
    assertThat(open.headers().firstValue("x-breaker")).hasValue("/a");
    assertThat(up.requests()).isEqualTo(reached);
    // Per path: another one is not broken.
    assertThat(gw.get("/b").statusCode()).isEqualTo(500);

    // After the break time (2 s for 2 failures), requests reach the upstream again.
    up.forceStatus(0);
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> gw.get("/a").statusCode() == 200);
    // One success closed it: a single failure now does not open it (the count started over).
    up.forceStatus(500);
    assertThat(gw.get("/a").statusCode()).isEqualTo(500);
    assertThat(gw.get("/a").statusCode()).isEqualTo(500);
    up.forceStatus(0);
  }

  @Test
  void aNodeThatCannotBeReachedCountsAsItsGateways502() throws Exception {
    int dead;
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      dead = s.getLocalPort();
    }
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/*",
                    "127.0.0.1:" + dead,
                    """
                    api-breaker:
                      break_response_code: 503
                      unhealthy: {http_statuses: [502], failures: 2}"""));
    assertThat(gw.get("/a").statusCode()).isEqualTo(502);
    assertThat(gw.get("/a").statusCode()).isEqualTo(502);
    var open = gw.get("/a");
    assertThat(open.statusCode()).isEqualTo(503);
    assertThat(open.body()).isEqualTo("{\"error_msg\":\"503 Service Unavailable\"}\n");
  }

  // gzip

  void startPages() throws Exception {
    pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    pages.createContext(
        "/page",
        x -> {
          x.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
          x.getResponseHeaders().set("ETag", "\"v1\"");
          x.sendResponseHeaders(200, 0); // chunked
          try (var out = x.getResponseBody()) {
            var bytes = PAGE.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bytes.length; i += 16384) {
              out.write(bytes, i, Math.min(16384, bytes.length - i));
              out.flush();
            }
          }
        });
    pages.createContext(
        "/tiny",
        x -> {
          x.getResponseHeaders().set("Content-Type", "text/html");
          var bytes = "tiny".getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(200, bytes.length);
          try (var out = x.getResponseBody()) {
            out.write(bytes);
          }
        });
    pages.createContext(
        "/encoded",
        x -> {
          var gz = new ByteArrayOutputStream();
          try (var g = new GZIPOutputStream(gz)) {
            g.write(PAGE.getBytes(StandardCharsets.UTF_8));
          }
          x.getResponseHeaders().set("Content-Type", "text/html");
          x.getResponseHeaders().set("Content-Encoding", "gzip");
          x.sendResponseHeaders(200, gz.size());
          try (var out = x.getResponseBody()) {
            out.write(gz.toByteArray());
          }
        });
    pages.createContext(
        "/json",
        x -> {
          x.getResponseHeaders().set("Content-Type", "application/json");
          var bytes =
              "{\"a\": \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}"
                  .getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(200, bytes.length);
          try (var out = x.getResponseBody()) {
            out.write(bytes);
          }
        });
    pages.createContext(
        "/broken",
        x -> {
          x.getResponseHeaders().set("Content-Type", "text/html");
          x.sendResponseHeaders(200, 0);
          var out = x.getResponseBody();
          out.write(PAGE.getBytes(StandardCharsets.UTF_8), 0, 100_000);
          out.flush();
          // Gone mid-body: the connection closes without the last chunk.
          throw new IllegalStateException("cut");
        });
    pages.start();
  }

  @Test
  void gzipCompressesStreamedResponsesForClientsThatAcceptIt() throws Exception {
    startPages();
    var node = "127.0.0.1:" + pages.getAddress().getPort();
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("html", "/*", node, "gzip: {comp_level: 6, vary: true}")
                + route("any", "/json", node, "gzip: {types: \"*\", min_length: 10}"));
    var res = bytes("/page", "gzip, deflate");
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-encoding")).hasValue("gzip");
    assertThat(res.headers().firstValue("content-length")).isEmpty();
    assertThat(res.headers().firstValue("vary")).hasValue("Accept-Encoding");
    assertThat(res.headers().firstValue("etag")).hasValue("W/\"v1\"");
    var body = res.body();
    assertThat(body.length).isLessThan(PAGE.length() / 10);
    assertThat(gunzip(body)).isEqualTo(PAGE);

    // No gzip accepted, refused with q=0, a body too small, already encoded: left alone.
    var plain = bytes("/page", null);
    assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
    assertThat(new String(plain.body(), StandardCharsets.UTF_8)).isEqualTo(PAGE);
    assertThat(bytes("/page", "gzip;q=0").headers().firstValue("content-encoding")).isEmpty();
    var tiny = bytes("/tiny", "gzip");
    assertThat(tiny.headers().firstValue("content-encoding")).isEmpty();
    assertThat(new String(tiny.body(), StandardCharsets.UTF_8)).isEqualTo("tiny");
    var encoded = bytes("/encoded", "gzip");
    assertThat(gunzip(encoded.body())).isEqualTo(PAGE); // compressed once, not twice

    // An HTTP/1.0 client cannot take a body with no length and no chunks: left alone.
    try (var s = new Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              "GET /page HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      var answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      var head = answer.substring(0, answer.indexOf("\r\n\r\n"));
      assertThat(head).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("content-encoding");
      assertThat(answer).contains("<p>Archway compresses this page as it streams.</p>");
    }

    // "*" compresses any type.
    var json = bytes("/json", "gzip");
    assertThat(json.headers().firstValue("content-encoding")).hasValue("gzip");
    assertThat(gunzip(json.body())).startsWith("{\"a\": \"bbb");
  }

  @Test
  void gzipFollowsTheWholeBodyFiltersAndFreesWhatItHeldWhenTheUpstreamIsCut() throws Exception {
    startPages();
    var node = "127.0.0.1:" + pages.getAddress().getPort();
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "rewritten",
                    "/json",
                    node,
                    """
                    gzip: {types: "*", min_length: 1}
                    response-rewrite: {body: "rewritten, then compressed"}""")
                + route("html", "/*", node, "gzip: {}"));
    var res = bytes("/json", "gzip");
    assertThat(res.headers().firstValue("content-encoding")).hasValue("gzip");
    assertThat(res.headers().firstValue("content-length"))
        .hasValue(Integer.toString(res.body().length));
    assertThat(gunzip(res.body())).isEqualTo("rewritten, then compressed");

    // The upstream goes away mid-body: the client's response is cut, the stream's buffers freed
    // (the leak detector checks), and the gateway goes on serving.
    var cut =
        gw.client()
            .sendAsync(
                HttpRequest.newBuilder(URI.create(gw.url("/broken")))
                    .header("Accept-Encoding", "gzip")
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(cut)
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withCauseInstanceOf(java.io.IOException.class);
    assertThat(gunzip(bytes("/page", "gzip").body())).isEqualTo(PAGE);
  }

  @Test
  void gzipCompressesTheGatewaysOwnAnswersToo() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/*",
                    up.node(),
                    """
                    gzip: {types: [application/json], min_length: 1}
                    mocking: {response_example: '{"hello": "world"}'}"""));
    var res = bytes("/a", "gzip");
    assertThat(res.headers().firstValue("content-encoding")).hasValue("gzip");
    assertThat(res.headers().firstValue("content-length"))
        .hasValue(Integer.toString(res.body().length));
    assertThat(gunzip(res.body())).isEqualTo("{\"hello\": \"world\"}");
  }

  private HttpResponse<byte[]> bytes(String path, String acceptEncoding) throws Exception {
    var b = HttpRequest.newBuilder(URI.create(gw.url(path)));
    if (acceptEncoding != null) {
      b.header("Accept-Encoding", acceptEncoding);
    }
    return gw.client().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String gunzip(byte[] gz) throws Exception {
    try (var in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
