package io.archway.dataplane.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Nginx;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code retry_on_status} and {@code retry_backoff}: an answer with a listed status goes to the
 * client only when no other node may be tried; the request is sent again whole to another node when
 * its body was held whole, after the backoff. Nodes are the JDK's HTTP server on loopback (and
 * Debian's nginx for HTTP/2 nodes), each answering with a status of its own and its name, and
 * recording what it received and when.
 */
class RetryOnStatusIT {

  @TempDir Path dir;
  final List<Node> nodes = new ArrayList<>();
  Gateways gw;
  Nginx nginx;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    nodes.forEach(Node::close);
    if (nginx != null) {
      nginx.close();
    }
  }

  Node node(String name, int status) throws IOException {
    var n = new Node(name, status);
    nodes.add(n);
    return n;
  }

  static String route(String upstreamFields, Node... nodes) {
    var list = new ArrayList<String>();
    for (var n : nodes) {
      list.add("\"" + n.address() + "\": 1");
    }
    return ProxyIT.route("/*", upstreamFields + "\nnodes: {" + String.join(", ", list) + "}");
  }

  @Test
  void anAnswerWithAListedStatusIsRetriedOnAnotherNode() throws Exception {
    var a = node("a", 503);
    var b = node("b", 200);
    gw = Gateways.start(dir, route("retry_on_status: [502, 503]", a, b));
    for (int i = 0; i < 10; i++) {
      var res = gw.get("/");
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(res.body()).isEqualTo("b");
    }
    assertThat(a.seen).isNotEmpty();
    assertThat(b.seen).hasSize(10);
    assertThat(gw.status("/metrics"))
        .contains("archway_http_errors_total{cause=\"upstream_retry\"}");

    gw.reload(route("retry_on_status: [503]\nretries: 0", a, b));
    int busy = 0;
    for (int i = 0; i < 10; i++) {
      var res = gw.get("/");
      if (res.statusCode() == 503) {
        busy++;
        assertThat(res.body()).isEqualTo("a");
      }
    }
    assertThat(busy).isEqualTo(5);

    // A status not listed goes to the client as it is.
    a.status = 500;
    gw.reload(route("retry_on_status: [503]", a, b));
    var statuses = new ArrayList<Integer>();
    for (int i = 0; i < 4; i++) {
      statuses.add(gw.get("/").statusCode());
    }
    assertThat(statuses).containsOnly(200, 500).contains(500);
  }

  @Test
  void aHeldBodyIsSentAgainWhole() throws Exception {
    var a = node("a", 503);
    var b = node("b", 200);
    gw = Gateways.start(dir, route("retry_on_status: [503]", a, b));
    var body = new byte[20_000]; // less than client_body_buffer_size (64 KiB by default)
    Arrays.fill(body, (byte) 'x');
    body[0] = 'f';
    body[body.length - 1] = 'l';
    for (int i = 0; i < 2; i++) {
      var res = post(body);
      assertThat(res.statusCode()).isEqualTo(200);
    }
    assertThat(a.seen).isNotEmpty();
    assertThat(b.seen).hasSize(2);
    for (var s : a.seen) {
      assertThat(s.method()).isEqualTo("POST");
      assertThat(s.body()).isEqualTo(body);
    }
    for (var s : b.seen) {
      assertThat(s.method()).isEqualTo("POST");
      assertThat(s.body()).isEqualTo(body);
    }
  }

  @Test
  void aStreamedBodyIsNotRetriedOnStatus() throws Exception {
    var a = node("a", 503);
    var b = node("b", 200);
    gw = Gateways.start(dir, route("retry_on_status: [503]", a, b));
    var body = new byte[200_000]; // more than client_body_buffer_size: streamed, not held
    var statuses = new ArrayList<Integer>();
    for (int i = 0; i < 4; i++) {
      statuses.add(post(body).statusCode());
    }
    assertThat(statuses).containsExactlyInAnyOrder(200, 200, 503, 503);
    assertThat(a.seen).hasSize(2);
    assertThat(b.seen).hasSize(2);
    assertThat(a.seen.get(0).body()).hasSize(body.length);
  }

  @Test
  void whenEveryNodeFailsTheLastAnswerIsTheClients() throws Exception {
    var a = node("a", 503);
    var b = node("b", 502);
    var c = node("c", 503);
    gw = Gateways.start(dir, route("retry_on_status: [502, 503]", a, b, c));
    for (int i = 0; i < 3; i++) {
      nodes.forEach(n -> n.seen.clear());
      var res = gw.get("/");
      // retries default to one per other node: each node was asked once.
      assertThat(nodes).allSatisfy(n -> assertThat(n.seen).hasSize(1));
      var last =
          nodes.stream().max((x, y) -> Long.compare(x.seen.get(0).nanos(), y.seen.get(0).nanos()));
      assertThat(res.body()).isEqualTo(last.orElseThrow().name);
      assertThat(res.statusCode()).isEqualTo(last.orElseThrow().status);
    }
  }

  @Test
  void theBackoffIsWaitedBetweenAttempts() throws Exception {
    var a = node("a", 503);
    var b = node("b", 503);
    var c = node("c", 200);
    gw = Gateways.start(dir, route("retry_on_status: [503]\nretry_backoff: 0.2", a, b, c));
    for (int i = 0; i < 3; i++) {
      nodes.forEach(n -> n.seen.clear());
      assertThat(gw.get("/").statusCode()).isEqualTo(200);
      var times =
          nodes.stream().flatMap(n -> n.seen.stream()).mapToLong(Seen::nanos).sorted().toArray();
      // The first retry waits the backoff at least, the next ones at least as long.
      for (int j = 1; j < times.length; j++) {
        assertThat(times[j] - times[j - 1])
            .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
      }
    }
  }

  @Test
  void aClientThatLeavesDuringTheBackoffEndsTheRetries() throws Exception {
    var a = node("a", 503);
    var b = node("b", 503);
    gw = Gateways.start(dir, route("retry_on_status: [503]\nretry_backoff: 1", a, b));
    for (int i = 0; i < 4; i++) {
      try (var s = new Socket("127.0.0.1", gw.port())) {
        var body = "held during the backoff";
        OutputStream out = s.getOutputStream();
        out.write(
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                .getBytes(UTF_8));
        out.flush();
        int before = i;
        await()
            .atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(5))
            .until(() -> a.seen.size() + b.seen.size() == before + 1 && retries() == before + 1);
        // The first node answered and the gateway waits to retry: the client leaves now.
      }
      // Closed during the wait: no other node is asked afterwards.
      int asked = i + 1;
      await()
          .during(Duration.ofMillis(2000))
          .atMost(Duration.ofSeconds(10))
          .until(() -> a.seen.size() + b.seen.size() == asked);
    }
    assertThat(gw.get("/").statusCode()).isEqualTo(503);
  }

  @Test
  void http2NodesAreRetriedOnStatusToo() throws Exception {
    var binary = Nginx.binary();
    if (binary == null) {
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException("nginx not found on PATH or at /usr/sbin/nginx");
      }
      Assumptions.abort("nginx not found on PATH or at /usr/sbin/nginx: test skipped");
    }
    int busy = Ports.free();
    int fine = Ports.free();
    nginx =
        Nginx.start(
            binary,
            dir.resolve("nginx"),
            """
            server {
              listen 127.0.0.1:%d http2;
              location / { return 503 "busy $server_protocol\\n"; }
            }
            """
                .formatted(busy),
            """
            listen 127.0.0.1:%d http2;
            location / { return 200 "fine $server_protocol\\n"; }
            """
                .formatted(fine));
    gw =
        Gateways.start(
            dir,
            ProxyIT.route(
                "/*",
                """
                scheme: http
                http2: true
                retry_on_status: [503]
                nodes: {"127.0.0.1:%d": 1, "127.0.0.1:%d": 1}
                """
                    .formatted(busy, fine)));
    for (int i = 0; i < 10; i++) {
      var res = gw.get("/");
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(res.body()).isEqualTo("fine HTTP/2.0\n");
    }
    assertThat(post(new byte[1000]).body()).isEqualTo("fine HTTP/2.0\n");
    assertThat(post(new byte[1000]).body()).isEqualTo("fine HTTP/2.0\n");
  }

  /** Retries the gateway counted so far. */
  private long retries() throws Exception {
    var prefix = "archway_http_errors_total{cause=\"upstream_retry\"} ";
    return gw.status("/metrics")
        .lines()
        .filter(l -> l.startsWith(prefix))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(prefix.length()).trim()))
        .sum();
  }

  private HttpResponse<String> post(byte[] body) throws Exception {
    return gw.client()
        .send(
            HttpRequest.newBuilder(URI.create(gw.url("/")))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  record Seen(long nanos, String method, byte[] body) {}

  /** A node: answers every request with its status and its name, after reading the body. */
  static final class Node implements AutoCloseable {
    final String name;
    volatile int status;
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final HttpServer server;

    Node(String name, int status) throws IOException {
      this.name = name;
      this.status = status;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext(
          "/",
          ex -> {
            long t = System.nanoTime();
            var body = ex.getRequestBody().readAllBytes();
            seen.add(new Seen(t, ex.getRequestMethod(), body));
            var out = name.getBytes(UTF_8);
            ex.sendResponseHeaders(this.status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
          });
      server.start();
    }

    String address() {
      return "127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
