package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.archway.model.testing.Ports;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The load generator itself: what it counts as a failure, on a real loopback server, so that a
 * chaos scenario's "0 failed" means something.
 */
class LoadTest {

  HttpServer server;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    answer("/ok", 200, "fine");
    answer("/unavailable", 503, "no upstream");
    server.createContext(
        "/slow",
        ex -> {
          try {
            Thread.sleep(1000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
  }

  private void answer(String path, int status, String body) {
    server.createContext(
        path,
        ex -> {
          var bytes = body.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, bytes.length);
          try (var out = ex.getResponseBody()) {
            out.write(bytes);
          }
        });
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private Load.Result run(URI target, Duration timeout) throws Exception {
    try (var load = new Load(target, 4, Duration.ofMillis(5), timeout)) {
      load.start();
      Thread.sleep(400);
      return load.stop();
    }
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  @Test
  void countsEveryRequestAndNoFailureWhenAllAre2xx() throws Exception {
    var r = run(uri("/ok"), Duration.ofSeconds(5));
    assertThat(r.failed()).as("%s", r).isZero();
    assertThat(r.requests()).isGreaterThan(4);
    assertThat(r.p50Micros()).isPositive().isLessThanOrEqualTo(r.p99Micros());
    assertThat(r.p99Micros()).isLessThanOrEqualTo(r.maxMicros());
  }

  @Test
  void aNon2xxIsAFailureWithItsStatusAndBody() throws Exception {
    var r = run(uri("/unavailable"), Duration.ofSeconds(5));
    assertThat(r.failures()).containsOnlyKeys(Load.Kind.STATUS);
    assertThat(r.failed()).isEqualTo(r.requests());
    assertThat(r.examples()).isNotEmpty().hasSizeLessThanOrEqualTo(Load.EXAMPLES);
    assertThat(r.examples().getFirst().status()).isEqualTo(503);
    assertThat(r.examples().getFirst().body()).isEqualTo("no upstream");
  }

  @Test
  void aRefusedConnectionIsAReset() throws Exception {
    var r = run(URI.create("http://127.0.0.1:" + Ports.free() + "/"), Duration.ofSeconds(5));
    assertThat(r.failures()).containsOnlyKeys(Load.Kind.RESET);
    assertThat(r.examples().getFirst().error()).contains("Connect");
  }

  @Test
  void noAnswerInTimeIsATimeout() throws Exception {
    var r = run(uri("/slow"), Duration.ofMillis(100));
    assertThat(r.failures()).containsOnlyKeys(Load.Kind.TIMEOUT);
  }

  @Test
  void aRefusedBodyIsAFailure() throws Exception {
    try (var load =
        new Load(
            uri("/ok"),
            2,
            Duration.ofMillis(5),
            Duration.ofSeconds(5),
            (status, body) -> body.equals("fine") ? "not this one" : null)) {
      load.start();
      Thread.sleep(200);
      var r = load.stop();
      assertThat(r.failures()).containsOnlyKeys(Load.Kind.BODY);
      assertThat(r.examples().getFirst().error()).isEqualTo("not this one");
    }
  }
}
