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

/** limit-count with policy redis: two dataplanes share one count in a real Redis. */
class RedisLimitCountIT {

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
              limit-count:
                count: 4
                time_window: 60
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
  void twoDataplanesShareOneCount() throws Exception {
    try (var redis = new RedisServer(dir);
        var up = new TestUpstream("up");
        var a =
            Gateways.start(
                Files.createDirectories(dir.resolve("a")), config(up, redis.port(), ""));
        var b =
            Gateways.start(
                Files.createDirectories(dir.resolve("b")), config(up, redis.port(), ""))) {
      var codes = new ArrayList<Integer>();
      for (int i = 0; i < 3; i++) {
        codes.add(a.get("/x").statusCode());
        codes.add(b.get("/x").statusCode());
      }
      assertThat(codes).containsExactly(200, 200, 200, 200, 429, 429);
      var last = b.get("/x");
      assertThat(last.headers().firstValue("x-ratelimit-remaining")).hasValue("0");
      assertThat(Long.parseLong(last.headers().firstValue("x-ratelimit-reset").orElseThrow()))
          .isBetween(1L, 60L);
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
    // Redis coming up later is found without a restart.
    try (var up = new TestUpstream("up");
        var gw = Gateways.start(Files.createDirectories(dir.resolve("c")), config(up, dead, ""))) {
      assertThat(gw.get("/x").statusCode()).isEqualTo(500);
      try (var redis = new RedisServer(Files.createDirectories(dir.resolve("r")), dead)) {
        org.awaitility.Awaitility.await().until(() -> gw.get("/x").statusCode() == 200);
      }
    }
  }
}
