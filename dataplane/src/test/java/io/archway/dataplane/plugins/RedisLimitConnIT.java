package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisServer;
import io.archway.dataplane.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

  @TempDir Path dir;

  static String config(TestUpstream up, int redisPort) {
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
                redis_timeout: 500
        """
        .formatted(up.node(), redisPort);
  }

  @Test
  void twoDataplanesShareTheConnectionCount() throws Exception {
    try (var redis = new RedisServer(dir);
        var up = new TestUpstream("up");
        var a =
            Gateways.start(Files.createDirectories(dir.resolve("a")), config(up, redis.port()));
        var b =
            Gateways.start(Files.createDirectories(dir.resolve("b")), config(up, redis.port()))) {
      // A slow request holds the only slot, through pod a.
      var held =
          a.client()
              .sendAsync(
                  HttpRequest.newBuilder(URI.create(a.url("/delay/1500"))).build(),
                  HttpResponse.BodyHandlers.ofString());
      await().atMost(Duration.ofSeconds(5)).until(() -> up.requests() >= 1);
      assertThat(b.get("/x").statusCode()).as("pod b sees pod a's slot taken").isEqualTo(429);
      assertThat(held.get().statusCode()).isEqualTo(200);
      // The slot is given back when the request ends (asynchronously): pod b gets it.
      await().atMost(Duration.ofSeconds(5)).until(() -> b.get("/x").statusCode() == 200);
    }
  }
}
