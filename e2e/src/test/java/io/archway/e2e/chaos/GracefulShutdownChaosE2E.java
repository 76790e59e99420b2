package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.H2Wire;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.WebSocketClient;
import io.archway.e2e.Backends.HttpEcho;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 5, graceful shutdown (docs/chaos.md), on dataplane processes fed from a real etcd
 * ({@link Dataplanes}). SIGTERM ({@code Process.destroy()}, what Kubernetes sends once the preStop
 * hook is done): the dataplane says not ready at once, stops accepting connections, lets what is in
 * flight finish within its drain timeout (slow HTTP/1.1 requests on keep-alive connections, h2c
 * streams after a GOAWAY, a WebSocket ended with a Close frame, 1001 going away), then exits 0.
 * Then the Deployment's own rolling update: two dataplanes behind {@link ServiceLoad}, replaced one
 * by one (the endpoint out, the preStop wait, SIGTERM, the new one started and ready) under load,
 * with 0 failed requests.
 */
class GracefulShutdownChaosE2E {

  /** How long the slow requests take at the backend: the drain waits for them. */
  private static final int SLOW_MILLIS = 3000;

  // Kept when the test fails: the dataplanes' logs are in it.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  Dataplanes planes;
  HttpEcho backend;
  TestUpstream ws;

  @BeforeEach
  void start() throws Exception {
    backend = new HttpEcho("b");
    ws = new TestUpstream("ws");
    planes = new Dataplanes(dir);
    planes.put(
        "upstreams/all",
        "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:" + backend.port() + "\":1}}");
    planes.put("routes/slow", "{\"uri\":\"/slow\",\"upstream_id\":\"all\"}");
    planes.put(
        "routes/ws",
        "{\"uri\":\"/ws\",\"enable_websocket\":true,\"upstream\":{\"type\":\"roundrobin\","
            + "\"nodes\":{\""
            + ws.node()
            + "\":1}}}");
  }

  @AfterEach
  void stop() {
    if (planes != null) {
      planes.close();
    }
    backend.close();
    ws.close();
  }

  @Test
  void sigtermDrainsHttp1RequestsH2StreamsAndAWebSocketThenExitsZero() throws Exception {
    var a = planes.node("a").start();
    a.awaitReady();
    var base = "http://127.0.0.1:" + a.httpPort;

    // HTTP/1.1 on keep-alive connections: each opened by a quick request first, then a slow one.
    var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    var slow = new ArrayList<CompletableFuture<HttpResponse<String>>>();
    for (int i = 0; i < 4; i++) {
      assertThat(http.send(get(base + "/slow"), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);
    }
    for (int i = 0; i < 4; i++) {
      slow.add(
          http.sendAsync(
              get(base + "/slow?delay=" + SLOW_MILLIS), HttpResponse.BodyHandlers.ofString()));
    }
    // A WebSocket through the gateway to a WebSocket backend.
    var client = new WebSocketClient();
    var messages = client.messages;
    var closed = client.closed;
    var wsError = client.error;
    var socket = client.open(http, URI.create("ws://127.0.0.1:" + a.httpPort + "/ws"));
    socket.sendText("hello", true).get(5, TimeUnit.SECONDS);
    assertThat(messages.poll(10, TimeUnit.SECONDS)).isEqualTo("ws:hello");
    // h2c with prior knowledge: three slow streams on one connection.
    try (var h2 = H2Wire.connect(a.httpPort)) {
      for (int stream = 1; stream <= 5; stream += 2) {
        h2.headers(stream, H2Wire.get("/slow?delay=" + SLOW_MILLIS), true);
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> inFlight(a) >= 7);

      long sigterm = System.nanoTime();
      a.process().destroy();
      await()
          .atMost(Duration.ofSeconds(5))
          .pollInterval(Duration.ofMillis(10))
          .until(() -> a.readyz() == 503);
      await().atMost(Duration.ofSeconds(5)).until(() -> refused(a.httpPort));

      for (var f : slow) {
        var r = f.get(30, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"backend\":\"b\"");
      }
      assertThat(closed.get(30, TimeUnit.SECONDS)).as("the WebSocket's close code").isEqualTo(1001);
      // GOAWAY without an error, naming the last stream taken: none of the three is refused.
      var goAway = h2.await(s -> s.startsWith("GOAWAY "), Duration.ofSeconds(30)).split(" ");
      assertThat(Integer.parseInt(goAway[1])).isGreaterThanOrEqualTo(5);
      assertThat(goAway[2]).isEqualTo("0");
      for (int stream = 1; stream <= 5; stream += 2) {
        var id = stream;
        h2.await(s -> s.equals("HEADERS " + id + " 200"), Duration.ofSeconds(30));
        h2.await(
            s -> s.startsWith("DATA " + id + " ") && s.endsWith(" end"), Duration.ofSeconds(30));
      }
      assertThat(h2.lines()).noneMatch(s -> s.startsWith("RST"));
      assertThat(a.process().waitFor(Dataplanes.DRAIN.toSeconds() + 20, TimeUnit.SECONDS)).isTrue();
      long drained = System.nanoTime() - sigterm;
      assertThat(a.process().exitValue()).as("exit code after SIGTERM").isZero();
      assertThat(wsError).isNotDone();
      ChaosReport.add(
          "graceful shutdown: SIGTERM with 4 slow HTTP/1.1 requests, 3 h2c streams, 1 WebSocket"
              + " in flight (drained in "
              + TimeUnit.NANOSECONDS.toMillis(drained)
              + " ms, exit 0)",
          TimeUnit.NANOSECONDS.toSeconds(drained),
          new Load.Result(8, Map.of(), List.of(), 0, 0, 0),
          null);
    } finally {
      http.close();
    }
  }

  @Test
  void rollingTheDataplanesOneByOneFailsNoRequest() throws Exception {
    var a = planes.node("a").start();
    var b = planes.node("b").start();
    a.awaitReady();
    b.awaitReady();
    a.warmUp("/slow");
    b.warmUp("/slow");
    var service = new ServiceLoad("/slow", 8, Duration.ofMillis(5), body -> body.contains("\"b\""));
    var live = new ArrayList<ServiceLoad.Endpoint>();
    var nodes = new ArrayList<Dataplanes.Node>();
    live.add(service.add("a", a.httpPort, a.statusPort));
    live.add(service.add("b", b.httpPort, b.statusPort));
    nodes.add(a);
    nodes.add(b);
    service.start();
    await().atMost(EtcdDataplane.WAIT).until(() -> live.stream().allMatch(service::serving));

    long seconds = EtcdDataplane.seconds();
    int replaced = 0;
    ServiceLoad.Result result;
    long start = System.nanoTime();
    try {
      long end = start + TimeUnit.SECONDS.toNanos(seconds);
      do {
        // One rollout: each pod replaced in turn (maxSurge 1, maxUnavailable 0: new one first).
        for (int i = 0; i < 2; i++) {
          var old = nodes.get(i);
          var oldEndpoint = live.get(i);
          long t0 = System.nanoTime();
          var fresh = planes.node("n" + (++replaced)).start();
          fresh.awaitReady();
          fresh.warmUp("/slow");
          long t1 = System.nanoTime();
          var freshEndpoint = service.add(fresh.name, fresh.httpPort, fresh.statusPort);
          await().atMost(EtcdDataplane.WAIT).until(() -> service.serving(freshEndpoint));
          // The old pod is deleted: out of the endpoints, then the preStop sleep, then SIGTERM.
          service.terminating(oldEndpoint);
          Thread.sleep(ServiceLoad.removalDelay().toMillis());
          assertThat(old.terminate(Dataplanes.DRAIN.plusSeconds(20)))
              .as("exit code of %s", old)
              .isZero();
          System.out.printf(
              "rolled %s -> %s: new one ready in %d ms, old one stopped in %d ms%n",
              old.name,
              fresh.name,
              TimeUnit.NANOSECONDS.toMillis(t1 - t0),
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1));
          nodes.set(i, fresh);
          live.set(i, freshEndpoint);
        }
      } while (System.nanoTime() < end);
    } finally {
      result = service.stop();
    }
    var load = result.load();
    ChaosReport.add(
        "graceful shutdown: rolling two dataplanes one by one, " + replaced + " replaced",
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start),
        load,
        null);
    assertThat(load.failed()).as("failed requests: %s", load).isZero();
    assertThat(result.unavoidable()).isZero();
    assertThat(live).allMatch(e -> e.served.get() > 0);
  }

  private static HttpRequest get(String uri) {
    return HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(30)).build();
  }

  /** The dataplane's {@code archway_http_requests_in_flight}, or -1 without an answer. */
  private static long inFlight(Dataplanes.Node n) throws Exception {
    var http = HttpClient.newHttpClient();
    try {
      var body =
          http.send(
                  get("http://127.0.0.1:" + n.statusPort + "/metrics"),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (var line : body.split("\n")) {
        if (line.startsWith("archway_http_requests_in_flight ")) {
          return Long.parseLong(line.substring(line.indexOf(' ') + 1).trim());
        }
      }
      return -1;
    } finally {
      http.close();
    }
  }

  private static boolean refused(int port) {
    try (var s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
