package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisServer;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** limit-req with policy redis: two dataplanes take from one leaky bucket in a real Redis. */
class RedisLimitReqIT {

  @TempDir Path dir;

  static String config(TestUpstream up, int redisPort, String extra) {
    return """
        routes:
          - id: r1
            uri: /*
            upstream:
              nodes:
                "%s": 1
            plugins:
              limit-req:
                rate: 0.5
                burst: 1
                nodelay: true
                key: remote_addr
                rejected_code: 429
                policy: redis
                redis_host: 127.0.0.1
                redis_port: %d
                redis_timeout: 500
                %s
        """
        .formatted(up.node(), redisPort, extra);
  }

  @Test
  void twoDataplanesShareOneBucket() throws Exception {
    try (var redis = new RedisServer(dir);
        var up = new TestUpstream("up");
        var a =
            Gateways.start(
                Files.createDirectories(dir.resolve("a")), config(up, redis.port(), ""));
        var b =
            Gateways.start(
                Files.createDirectories(dir.resolve("b")), config(up, redis.port(), ""))) {
      var codes = new ArrayList<Integer>();
      codes.add(a.get("/x").statusCode());
      codes.add(b.get("/x").statusCode());
      codes.add(a.get("/x").statusCode());
      codes.add(b.get("/x").statusCode());
      // One request at the rate and one of burst between both pods; the rest are refused.
      assertThat(codes).containsExactly(200, 200, 429, 429);
    }
  }

  @Test
  void redisDownAnswers500UnlessDegradationIsAllowed() throws Exception {
    int dead = Ports.free();
    try (var up = new TestUpstream("up");
        var strict =
            Gateways.start(Files.createDirectories(dir.resolve("a")), config(up, dead, ""));
        var lenient =
            Gateways.start(
                Files.createDirectories(dir.resolve("b")),
                config(up, dead, "allow_degradation: true"))) {
      assertThat(strict.get("/x").statusCode()).isEqualTo(500);
      assertThat(lenient.get("/x").statusCode()).isEqualTo(200);
    }
  }
}
