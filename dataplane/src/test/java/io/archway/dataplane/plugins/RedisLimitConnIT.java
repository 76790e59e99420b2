package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisServer;
import io.archway.dataplane.testing.TestUpstream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * limit-conn with policy redis: two dataplanes count one key's requests in flight in a real Redis;
 * a slot taken on one pod is missing on the other until its request ends.
 */
class RedisLimitConnIT {

  // How long to wait for a state before giving up: a slow (loaded) machine only waits longer.
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  static String config(TestUpstream up, int redisPort) {
    // redis_timeout is generous: the test counts slots, a loaded machine must not time Redis out.
    return """
        routes:
          - id: r1
            uri: /*
            upstream:
              nodes:
                "%s": 1
            plugins:
              limit-conn:
                conn: 1
                burst: 0
                default_conn_delay: 0.1
                key: remote_addr
                rejected_code: 429
                policy: redis
                redis_host: 127.0.0.1
                redis_port: %d
                redis_timeout: 5000
        """
        .formatted(up.node(), redisPort);
  }

  /** No slot is held in Redis: every take was given back. */
  private static boolean noSlotHeld(RedisServer redis) throws Exception {
    return redis.call("KEYS", "archway:limit-conn:*").isEmpty();
  }

  /**
   * Each pod's link to Redis is up (a pod connects on its first request, and a first script on a
   * cold link may fail), and every slot those requests took is back.
   */
  private static void linksUp(RedisServer redis, Gateways... pods) {
    for (var p : pods) {
      await().atMost(WAIT).until(() -> p.get("/x").statusCode() == 200);
    }
    await().atMost(WAIT).until(() -> noSlotHeld(redis));
  }

  @Test
  void twoDataplanesShareTheConnectionCount() throws Exception {
    try (var redis = new RedisServer(dir);
        var up = new TestUpstream("up");
        var a =
            Gateways.start(Files.createDirectories(dir.resolve("a")), config(up, redis.port()));
        var b =
            Gateways.start(Files.createDirectories(dir.resolve("b")), config(up, redis.port()))) {
      linksUp(redis, a, b);
      // A request the upstream holds until released takes the only slot, through pod a.
      var held =
          a.client()
              .sendAsync(
                  HttpRequest.newBuilder(URI.create(a.url("/hold"))).build(),
                  HttpResponse.BodyHandlers.ofString());
      await().atMost(WAIT).until(() -> held.isDone() || "GET /hold".equals(up.lastRequest()));
      assertThat(held).as("the held request went upstream (was not answered)").isNotDone();
      assertThat(b.get("/x").statusCode()).as("pod b sees pod a's slot taken").isEqualTo(429);
      up.release();
      assertThat(held.get().statusCode()).isEqualTo(200);
      // The slot is given back when the request ends (asynchronously): then pod b gets it.
      await().atMost(WAIT).until(() -> noSlotHeld(redis));
      assertThat(b.get("/x").statusCode()).isEqualTo(200);
    }
  }

  /**
   * A client that leaves while its take is still on its way to Redis: the run is cancelled, so the
   * take's answer is never turned into a decision, and the log phase has run before it came. The
   * slot the take got must still go back (it used to stay counted, refreshed by every later take).
   * Redis is paused ({@code CLIENT PAUSE}) to hold the take's answer back.
   */
  @Test
  void aClientGoneBeforeRedisAnsweredGivesItsSlotBack() throws Exception {
    try (var redis = new RedisServer(dir);
        var up = new TestUpstream("up");
        var a = Gateways.start(dir, config(up, redis.port()))) {
      linksUp(redis, a);
      var inFlight = a.dataplane().servers().inFlight();
      assertThat(redis.call("CLIENT", "PAUSE", "3000", "ALL")).isEqualTo("OK");
      try (var client = new Socket("127.0.0.1", a.port())) {
        client
            .getOutputStream()
            .write("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        await().atMost(WAIT).until(() -> inFlight.active() == 1);
      }
      // The gateway saw the client go (its log phase ran)...
      await().atMost(WAIT).until(() -> inFlight.active() == 0);
      // ... before Redis answered the take (else the request went upstream: no case for this test).
      assumeThat(up.lastRequest())
          .as("Redis still paused when the client left")
          .isEqualTo("GET /x");
      await().atMost(WAIT).ignoreExceptions().until(() -> noSlotHeld(redis));
    }
  }
}
