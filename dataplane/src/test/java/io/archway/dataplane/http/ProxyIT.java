package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.testing.Ports;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProxyIT {

  @TempDir Path dir;
  TestUpstream a;
  TestUpstream b;
  Gateways gw;

  @BeforeEach
  void upstreams() throws Exception {
    a = new TestUpstream("a");
    b = new TestUpstream("b");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    a.close();
    b.close();
  }

  static String route(String uri, String upstreamFields) {
    return """
        routes:
          - id: r1
            uri: "%s"
            upstream:
        %s
        """
        .formatted(uri, upstreamFields.indent(6).stripTrailing());
  }

  static String nodes(String... nodes) {
    var out = new StringBuilder("nodes:\n");
    for (var n : nodes) {
      out.append("  \"").append(n).append("\": 1\n");
    }
    return out.toString();
  }

  @Test
  void proxiesAndKeepsTheUpstreamConnectionAlive() throws Exception {
    gw = Gateways.start(dir, route("/*", nodes(a.node())));
    for (int i = 0; i < 20; i++) {
      var res = gw.get("/hello?x=1");
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(res.body()).isEqualTo("a");
    }
    assertThat(a.requests()).isEqualTo(20);
    assertThat(a.connections()).isLessThanOrEqualTo(2);
    var h = a.lastHeaders();
    assertThat(h)
        .containsEntry("x-real-ip", "127.0.0.1")
        .containsEntry("x-forwarded-proto", "http")
        .containsEntry("x-forwarded-for", "127.0.0.1")
        .containsEntry("x-forwarded-port", Integer.toString(gw.port()))
        .containsEntry("host", "127.0.0.1:" + gw.port())
        .containsEntry("x-forwarded-host", "127.0.0.1:" + gw.port());
  }

  @Test
  void idleUpstreamConnectionsCloseAfterTheirIdleTimeout() throws Exception {
    gw =
        Gateways.start(
            dir, route("/*", nodes(a.node()) + "keepalive_pool: {size: 8, idle_timeout: 0.3}"));
    for (int i = 0; i < 5; i++) {
      assertThat(gw.get("/x").statusCode()).isEqualTo(200);
    }
    assertThat(a.openConnections()).isEqualTo(1);
    // The pool's one sweep closes it once it has idled 0.3 s.
    await().atMost(Duration.ofSeconds(5)).until(() -> a.openConnections() == 0);
    // A new request opens a new connection, which is kept alive again.
    assertThat(gw.get("/x").statusCode()).isEqualTo(200);
    assertThat(a.connections()).isEqualTo(2);
    assertThat(a.openConnections()).isEqualTo(1);
  }

  @Test
  void readTimeoutIsPerExchangeOnAKeptAliveConnection() throws Exception {
    gw =
        Gateways.start(
            dir,
            route("/*", nodes(a.node()) + "retries: 0\ntimeout: {connect: 1, send: 1, read: 0.3}"));
    try (var raw = new Raw(gw.port())) {
      // Quick requests for longer than the timeout on one connection (9 of at least 0.1 s each):
      // none times out, as the connection's one timer only counts from each exchange's last
      // progress.
      for (int i = 0; i < 9; i++) {
        raw.send("GET /delay/100 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(raw.response()).startsWith("HTTP/1.1 200");
      }
      // A slow one after them still does, at its own 0.3 s: the gateway's 504, not the node's
      // 200 three seconds later.
      raw.send("GET /delay/3000 HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 504");
      // ... and the connection goes on serving.
      raw.send("GET /delay/10 HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 200");
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    gw = Gateways.start(dir, route("/*", nodes(a.node())));
    try (var raw = new Raw(gw.port())) {
      raw.send(
          "GET /delay/300 HTTP/1.1\r\nHost: x\r\n\r\n"
              + "GET /status/201 HTTP/1.1\r\nHost: x\r\n\r\n"
              + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
              + "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 200").endsWith("\r\n\r\na");
      assertThat(raw.response()).startsWith("HTTP/1.1 201");
      assertThat(raw.response()).startsWith("HTTP/1.1 200").endsWith("hello");
      assertThat(raw.response()).startsWith("HTTP/1.1 200");
    }
  }

  @Test
  void hopByHopHeadersAreRemovedAndForwardedForIsAppended() throws Exception {
    gw = Gateways.start(dir, route("/*", nodes(a.node())));
    try (var raw = new Raw(gw.port())) {
      raw.send(
          "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Secret\r\n"
              + "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: x\r\n"
              + "X-Forwarded-For: 1.2.3.4\r\n\r\n");
      var res = raw.response();
      assertThat(res).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("keep-alive:");
    }
    assertThat(a.lastHeaders())
        .doesNotContainKeys("x-secret", "keep-alive", "te", "proxy-connection", "connection")
        .containsEntry("x-forwarded-for", "1.2.3.4, 127.0.0.1")
        .containsEntry("host", "example.com");
  }

  @Test
  void passHostNodeAndRewrite() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: node
                uri: /node
                upstream:
                  pass_host: node
                  nodes:
                    "%s": 1
              - id: rewrite
                uri: /rewrite
                upstream:
                  pass_host: rewrite
                  upstream_host: internal.example
                  nodes:
                    "%s": 1
            """
                .formatted(a.node(), a.node()));
    gw.get("/node");
    assertThat(a.lastHeaders()).containsEntry("host", a.node());
    gw.get("/rewrite");
    assertThat(a.lastHeaders()).containsEntry("host", "internal.example");
  }

  @Test
  void chunkedRequestBodyStreamsThrough() throws Exception {
    gw = Gateways.start(dir, route("/echo", nodes(a.node())));
    var res =
        gw.client()
            .send(
                HttpRequest.newBuilder(URI.create(gw.url("/echo")))
                    .timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> stream(100_000)))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(a.lastHeaders()).containsEntry("transfer-encoding", "chunked");
    assertThat(res.body()).hasSize(100_000);
  }

  @Test
  void expectContinueIsAnsweredBeforeTheBodyIsSent() throws Exception {
    gw = Gateways.start(dir, route("/*", nodes(a.node())));
    try (var raw = new Raw(gw.port())) {
      raw.send(
          "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 100 Continue");
      raw.send("abcd");
      assertThat(raw.response()).startsWith("HTTP/1.1 200").endsWith("4");
    }
  }

  @Test
  void oneGigabyteEachWayWithBoundedMemory() throws Exception {
    gw = Gateways.start(dir, route("/*", nodes(a.node())));
    long size = 1L << 30;
    // Every buffer tracked at PARANOID would make 2 GB crawl; this test is about memory bounds,
    // the other tests catch leaks.
    var level = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
    var peak = new AtomicLong();
    var sampler =
        Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().factory());
    sampler.scheduleAtFixedRate(
        () -> {
          var m = PooledByteBufAllocator.DEFAULT.metric();
          peak.accumulateAndGet(m.usedDirectMemory() + m.usedHeapMemory(), Math::max);
        },
        0,
        5,
        TimeUnit.MILLISECONDS);
    try {
      var up =
          gw.client()
              .send(
                  HttpRequest.newBuilder(URI.create(gw.url("/upload")))
                      .POST(HttpRequest.BodyPublishers.fromPublisher(zeros(size), size))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(up.statusCode()).isEqualTo(200);
      assertThat(up.body()).isEqualTo(Long.toString(size));
      var down =
          gw.client()
              .send(
                  HttpRequest.newBuilder(URI.create(gw.url("/download?size=" + size))).build(),
                  HttpResponse.BodyHandlers.ofInputStream());
      assertThat(down.statusCode()).isEqualTo(200);
      long got = 0;
      try (var in = down.body()) {
        var buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
          got += n;
        }
      }
      assertThat(got).isEqualTo(size);
    } finally {
      sampler.shutdownNow();
      ResourceLeakDetector.setLevel(level);
    }
    // Gateway and test node together, in one process: a few chunks in flight, never the body.
    assertThat(peak.get()).isLessThan(64L << 20);
  }

  @Test
  void errorsHaveTheirStatusAndAreCounted() throws Exception {
    int dead = Ports.free();
    gw =
        Gateways.start(
            dir,
            """
            upstreams:
              - id: empty
                nodes: {}
            routes:
              - id: dead
                uri: /dead
                upstream:
                  nodes:
                    "127.0.0.1:%d": 1
              - id: slow
                uri: /delay/*
                timeout: {connect: 1, send: 1, read: 0.3}
                upstream:
                  retries: 0
                  nodes:
                    "%s": 1
              - id: empty
                uri: /empty
                upstream_id: empty
              - id: missing
                uri: /missing
                upstream_id: nothing-here
            """
                .formatted(dead, a.node()),
            io.archway.dataplane.http.HttpSettings.DEFAULTS
                .withAccessLog("off")
                .withLimits(1024, 2048, 100));
    assertThat(gw.get("/nope").statusCode()).isEqualTo(404);
    assertThat(gw.get("/nope").body()).isEqualTo("{\"error_msg\":\"404 Route Not Found\"}\n");
    assertThat(gw.get("/dead").statusCode()).isEqualTo(502);
    assertThat(gw.get("/delay/2000").statusCode()).isEqualTo(504);
    assertThat(gw.get("/empty").statusCode()).isEqualTo(503);
    assertThat(gw.get("/missing").statusCode()).isEqualTo(503);
    assertThat(gw.get("/delay/10").statusCode()).isEqualTo(200);
    try (var raw = new Raw(gw.port())) {
      raw.send("POST /delay/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 413");
    }
    try (var raw = new Raw(gw.port())) {
      raw.send("POST /delay/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      raw.send("50\r\n" + "x".repeat(80) + "\r\n50\r\n" + "x".repeat(80) + "\r\n0\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 413");
    }
    try (var raw = new Raw(gw.port())) {
      raw.send("GET /" + "u".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 414");
    }
    try (var raw = new Raw(gw.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "h".repeat(4000) + "\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 431");
    }
    try (var raw = new Raw(gw.port())) {
      raw.send("NOT HTTP AT ALL\r\n\r\n");
      var res = raw.response();
      assertThat(res).startsWith("HTTP/1.1 400").doesNotContain("Exception");
      assertThat(raw.closed()).isTrue();
    }
    // A request is counted once its last byte is written: the count can trail the answer.
    org.awaitility.Awaitility.await()
        .untilAsserted(
            () -> {
              var metrics = gw.status("/metrics");
              for (var cause :
                  new String[] {
                    "upstream_connect_failed",
                    "upstream_read_timeout",
                    "no_upstream_nodes",
                    "body_too_large",
                    "uri_too_long",
                    "headers_too_large",
                    "bad_request"
                  }) {
                assertThat(metrics).contains("archway_http_errors_total{cause=\"" + cause + "\"}");
              }
              assertThat(metrics)
                  .contains("archway_http_requests_total{route=\"\",code=\"404\"} 2")
                  .contains("archway_http_requests_total{route=\"dead\",code=\"502\"} 1")
                  .contains("archway_http_requests_total{route=\"slow\",code=\"504\"} 1")
                  .contains("archway_http_requests_total{route=\"slow\",code=\"413\"} 2")
                  .contains(
                      "archway_http_request_duration_seconds_bucket{route=\"slow\",le=\"+Inf\"} 4")
                  .contains("archway_http_upstream_duration_seconds_count{route=\"slow\"}");
            });
  }

  @Test
  void retriesGoToAnotherNodeWithinTheBounds() throws Exception {
    int dead = Ports.free();
    gw = Gateways.start(dir, route("/*", nodes("127.0.0.1:" + dead, a.node())));
    for (int i = 0; i < 10; i++) {
      assertThat(gw.get("/").statusCode()).isEqualTo(200);
    }
    assertThat(gw.status("/metrics"))
        .contains("archway_http_errors_total{cause=\"upstream_retry\"}");
    gw.reload(route("/*", "retries: 0\n" + nodes("127.0.0.1:" + dead, a.node())));
    int failed = 0;
    for (int i = 0; i < 10; i++) {
      failed += gw.get("/").statusCode() == 502 ? 1 : 0;
    }
    assertThat(failed).isEqualTo(5);
  }

  @Test
  void interimAnswersOfTheNodeAreDroppedAndTheFinalOneServed() throws Exception {
    // A node that answers each request with 103 Early Hints and 100 Continue before its 200.
    try (var node = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread.ofVirtual()
          .start(
              () -> {
                while (!node.isClosed()) {
                  try (var s = node.accept()) {
                    var in =
                        new java.io.BufferedReader(
                            new java.io.InputStreamReader(
                                s.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1));
                    var out = s.getOutputStream();
                    while (true) {
                      String line = in.readLine();
                      if (line == null) {
                        break;
                      }
                      if (!line.isEmpty()) {
                        continue;
                      }
                      out.write(
                          ("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                                  + "HTTP/1.1 100 Continue\r\n\r\n"
                                  + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                      out.flush();
                    }
                  } catch (java.io.IOException e) {
                    return;
                  }
                }
              });
      gw = Gateways.start(dir, route("/*", nodes("127.0.0.1:" + node.getLocalPort())));
      // Twice on one client connection and one node connection: each exchange ends cleanly.
      for (int i = 0; i < 2; i++) {
        var r = gw.get("/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok");
        assertThat(r.headers().firstValue("link")).isEmpty();
      }
    }
  }

  @Test
  void aRequestThatIsNotIdempotentIsNotSentAgainOnceANodeHadIt() throws Exception {
    // A node that reads each request's head, then closes without an answer: it may have acted.
    try (var closer = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      var heads = new java.util.concurrent.atomic.AtomicInteger();
      Thread.ofVirtual()
          .start(
              () -> {
                while (!closer.isClosed()) {
                  try (var s = closer.accept()) {
                    var in =
                        new java.io.BufferedReader(
                            new java.io.InputStreamReader(
                                s.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1));
                    for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {}
                    heads.incrementAndGet();
                  } catch (java.io.IOException e) {
                    return;
                  }
                }
              });
      var closerNode = "127.0.0.1:" + closer.getLocalPort();
      gw = Gateways.start(dir, route("/*", "retries: 1\n" + nodes(closerNode, a.node())));
      // Idempotent: the other node answers.
      for (int i = 0; i < 4; i++) {
        assertThat(gw.get("/").statusCode()).isEqualTo(200);
      }
      assertThat(heads.get()).isEqualTo(2);
      // A POST the closing node had (with no body: nothing of it is held back): 502, never resent.
      int before = a.requests();
      int failed = 0;
      for (int i = 0; i < 4; i++) {
        var post =
            HttpRequest.newBuilder(URI.create(gw.url("/")))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build();
        failed +=
            gw.client().send(post, HttpResponse.BodyHandlers.ofString()).statusCode() == 502
                ? 1
                : 0;
      }
      assertThat(failed).isEqualTo(2);
      assertThat(a.requests() - before).isEqualTo(2);
      // With an Idempotency-Key the client says a second delivery is safe: it is resent.
      for (int i = 0; i < 2; i++) {
        var post =
            HttpRequest.newBuilder(URI.create(gw.url("/")))
                .header("Idempotency-Key", "k" + i)
                .POST(HttpRequest.BodyPublishers.noBody())
                .build();
        assertThat(gw.client().send(post, HttpResponse.BodyHandlers.ofString()).statusCode())
            .isEqualTo(200);
      }
    }
  }

  @Test
  void slowClientsAreCutOff() throws Exception {
    gw =
        Gateways.start(
            dir,
            route("/*", nodes(a.node())),
            HttpSettings.DEFAULTS
                .withAccessLog("off")
                .withTimeouts(Duration.ofMillis(500), Duration.ofMillis(800)));
    try (var raw = new Raw(gw.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: x\r\n");
      // The stimulus: a client sending its head a line every 0.1 s, 2 s in all if let be.
      int sent = 0;
      for (; sent < 20 && !raw.socket.isClosed(); sent++) {
        try {
          raw.send("X-Slow-" + sent + ": 1\r\n");
        } catch (java.io.IOException e) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(raw.closed()).isTrue();
      // Cut off by the header timeout (0.5 s) while still sending, not after it was done.
      assertThat(sent).isLessThan(20);
    }
    try (var raw = new Raw(gw.port())) {
      raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.response()).startsWith("HTTP/1.1 200");
      assertThat(raw.closed()).isTrue(); // idle keep-alive connection closed
    }
    assertThat(gw.status("/metrics"))
        .contains("archway_http_errors_total{cause=\"client_header_timeout\"}")
        .contains("archway_http_errors_total{cause=\"client_idle_timeout\"}");
  }

  private static InputStream stream(int size) {
    return new java.io.ByteArrayInputStream(new byte[size]);
  }

  /** {@code size} zero bytes published in 64 KiB buffers as they are requested. */
  private static Flow.Publisher<ByteBuffer> zeros(long size) {
    return subscriber ->
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
                  int len = (int) Math.min(1 << 16, size - sent);
                  sent += len;
                  subscriber.onNext(ByteBuffer.allocate(len));
                }
              }

              @Override
              public void cancel() {
                done = true;
              }
            });
  }
}
