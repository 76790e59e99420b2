package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.http2.H2Settings;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routes that match on the request body ({@code post_arg.*}) through a real dataplane to real
 * nodes: two routes on one path told apart by a JSON field and a form field, the fall-through to a
 * route with no body condition, the body sent upstream unchanged (whole, chunked, over the bound),
 * requests that never wait for their body (another route, another content type), a client that
 * never sends it, and HTTP/2. The nodes echo the body ({@code /echo}) and name themselves in {@code
 * X-Node}.
 */
class BodyMatchIT {

  @TempDir Path dir;
  TestUpstream gpt4;
  TestUpstream admin;
  TestUpstream rest;
  Gateways gw;

  @BeforeEach
  void upstreams() throws Exception {
    gpt4 = new TestUpstream("gpt4");
    admin = new TestUpstream("admin");
    rest = new TestUpstream("rest");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    gpt4.close();
    admin.close();
    rest.close();
  }

  String config() {
    return """
        routes:
          - id: gpt4
            uri: /echo
            priority: 10
            vars: [["post_arg.model", "==", "gpt-4"], ["post_arg.messages[*].role", "has", "user"]]
            upstream: {nodes: {"%s": 1}}
          - id: admin
            uri: /echo
            priority: 5
            vars: [["post_arg.role", "==", "admin"]]
            upstream: {nodes: {"%s": 1}}
          - id: rest
            uri: /echo
            upstream: {nodes: {"%s": 1}}
          - id: upload
            uri: /upload
            upstream: {nodes: {"%s": 1}}
        """
        .formatted(gpt4.node(), admin.node(), rest.node(), rest.node());
  }

  HttpResponse<byte[]> post(String path, String contentType, byte[] body, boolean chunked)
      throws Exception {
    var publisher =
        chunked
            ? HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofByteArray(body))
            : HttpRequest.BodyPublishers.ofByteArray(body);
    var req =
        HttpRequest.newBuilder(URI.create(gw.url(path)))
            .header("Content-Type", contentType)
            .POST(publisher)
            .build();
    return gw.client().send(req, HttpResponse.BodyHandlers.ofByteArray());
  }

  static String node(HttpResponse<?> res) {
    return res.headers().firstValue("x-node").orElse(null);
  }

  static final String GPT4 =
      "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"system\"},{\"role\":\"user\"}]}";

  @Test
  void routesOnOnePathAreToldApartByTheBodyAndFallThrough() throws Exception {
    gw = Gateways.start(dir, config());
    var json = GPT4.getBytes(StandardCharsets.UTF_8);
    for (boolean chunked : new boolean[] {false, true}) {
      var res = post("/echo", "application/json", json, chunked);
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(node(res)).isEqualTo("gpt4");
      // The body read for matching is what goes upstream, byte for byte.
      assertThat(res.body()).isEqualTo(json);
    }
    // gpt-4 without a user message, or another model: the next routes.
    var system = "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"system\"}]}".getBytes();
    assertThat(node(post("/echo", "application/json", system, false))).isEqualTo("rest");
    var form = "role=admin&x=1".getBytes();
    var res = post("/echo", "application/x-www-form-urlencoded", form, true);
    assertThat(node(res)).isEqualTo("admin");
    assertThat(res.body()).isEqualTo(form);
    var multipart =
        ("--b1\r\nContent-Disposition: form-data; name=\"role\"\r\n\r\nadmin\r\n--b1--\r\n")
            .getBytes();
    res = post("/echo", "multipart/form-data; boundary=b1", multipart, false);
    assertThat(node(res)).isEqualTo("admin");
    assertThat(res.body()).isEqualTo(multipart);
    // A JSON body that does not parse, a form with another role, another content type, no body:
    // no body condition holds, and the route with none is taken.
    assertThat(node(post("/echo", "application/json", "{\"model\":".getBytes(), false)))
        .isEqualTo("rest");
    assertThat(node(post("/echo", "application/x-www-form-urlencoded", "role=x".getBytes(), false)))
        .isEqualTo("rest");
    assertThat(node(post("/echo", "text/plain", json, false))).isEqualTo("rest");
    var get =
        gw.client()
            .send(
                HttpRequest.newBuilder(URI.create(gw.url("/echo"))).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(node(get)).isEqualTo("rest");
    // Keep-alive goes on after a body read for matching: several on one connection.
    try (var raw = new Raw(gw.port())) {
      for (int i = 0; i < 3; i++) {
        raw.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(GPT4.length())
                + "\r\n"
                + GPT4
                + "\r\n0\r\n\r\n");
        assertThat(raw.response())
            .startsWith("HTTP/1.1 200")
            .contains("X-Node: gpt4")
            .endsWith(GPT4);
      }
    }
    assertThat(gpt4.requests()).isEqualTo(5);
  }

  @Test
  void aBodyOverTheBoundIsNotMatchedOnAndStillGoesUpstreamWhole() throws Exception {
    gw = Gateways.start(dir, config());
    // 9 MiB, starting with fields that would match: over the 8 MiB bound they are not read.
    var big = new ByteArrayOutputStream();
    big.writeBytes("{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"user\"}],\"pad\":\"".getBytes());
    var pad = new byte[9 << 20];
    Arrays.fill(pad, (byte) 'a');
    big.writeBytes(pad);
    big.writeBytes("\"}".getBytes());
    var body = big.toByteArray();
    // Chunked: read up to the bound, then the rest streams after what was read.
    var res = post("/echo", "application/json", body, true);
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(node(res)).isEqualTo("rest");
    assertThat(res.body()).isEqualTo(body);
    // With its length declared: not read at all.
    res = post("/echo", "application/json", body, false);
    assertThat(node(res)).isEqualTo("rest");
    assertThat(res.body()).isEqualTo(body);
    assertThat(gw.status("/metrics")).contains("cause=\"route_body_over_limit\"} 2");
  }

  @Test
  void requestsThatNoBodyRouteDecidesStreamWithoutWaiting() throws Exception {
    gw = Gateways.start(dir, config());
    for (var target :
        List.of(
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n")) {
      var node = rest;
      int before = node.requests();
      try (var s = new Socket("127.0.0.1", gw.port())) {
        var out = s.getOutputStream();
        int size = 4 << 20;
        out.write((target + "Content-Length: " + size + "\r\n\r\n").getBytes());
        // More than client_body_buffer_size, much less than the body: the node has the request
        // while the client is still sending, so nothing waited for the whole body.
        var piece = new byte[256 << 10];
        out.write(piece);
        out.flush();
        await().atMost(Duration.ofSeconds(10)).until(() -> node.requests() == before + 1);
        for (int sent = piece.length; sent < size; sent += piece.length) {
          out.write(piece);
        }
        out.flush();
        assertThat(statusLine(s.getInputStream())).startsWith("HTTP/1.1 200");
      }
    }
  }

  @Test
  void aClientThatNeverSendsTheBodyGets408() throws Exception {
    gw =
        Gateways.start(
            dir,
            config(),
            HttpSettings.DEFAULTS
                .withAccessLog("off")
                .withClientBody(Duration.ofMillis(300), 64 * 1024));
    try (var s = new Socket("127.0.0.1", gw.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      + "Content-Length: 40\r\n\r\n{\"model\"")
                  .getBytes());
      var in = s.getInputStream();
      assertThat(statusLine(in)).startsWith("HTTP/1.1 408");
      // ... and the connection closes after it.
      in.skip(Long.MAX_VALUE);
      assertThat(in.read()).isEqualTo(-1);
    }
    assertThat(gpt4.requests() + rest.requests()).isZero();
  }

  @Test
  void http2StreamsAreMatchedOnTheirBodyToo() throws Exception {
    gw =
        Gateways.start(
            dir,
            config(),
            o ->
                o.withHttp(HttpSettings.DEFAULTS.withAccessLog("off"))
                    .withHttp2(H2Settings.DEFAULTS.withH2c(true)));
    var http = "http://127.0.0.1:" + gw.port();
    assertThat(
            curl(
                "--http2-prior-knowledge",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                GPT4,
                http + "/echo"))
        .isEqualTo("gpt4 " + GPT4 + "\n2 200");
    assertThat(
            curl(
                "--http2-prior-knowledge",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                "{\"model\":\"x\"}",
                http + "/echo"))
        .isEqualTo("rest {\"model\":\"x\"}\n2 200");
    assertThat(curl("--http2-prior-knowledge", "-d", "role=admin", http + "/echo"))
        .isEqualTo("admin role=admin\n2 200");
  }

  /** curl's answer: the node, the body, then the HTTP version and status. */
  static String curl(String... args) throws Exception {
    var cmd = new ArrayList<>(List.of("curl", "-s", "-S", "--max-time", "20"));
    cmd.addAll(List.of("-w", "\n%{http_version} %{http_code}", "-D", "-"));
    cmd.addAll(List.of(args));
    var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    // Headers first (-D -), then the body: keep x-node and the body.
    int end = out.indexOf("\r\n\r\n");
    var node =
        out.substring(0, end)
            .lines()
            .filter(l -> l.toLowerCase().startsWith("x-node:"))
            .map(l -> l.substring(7).strip())
            .findFirst()
            .orElse("?");
    return node + " " + out.substring(end + 4);
  }

  static String statusLine(InputStream in) throws Exception {
    var line = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n') {
      line.append((char) c);
    }
    return line.toString();
  }
}
