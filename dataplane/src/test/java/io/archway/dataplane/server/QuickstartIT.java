package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.testing.Gateways;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first run, as a new user meets it: {@code examples/quickstart.yaml} served as it
 * ships (only the ports are the test's), nothing else running. The first request answers 200 with
 * JSON that says what to try next, and the next two show a plugin at work.
 */
class QuickstartIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private Gateways gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  @Test
  void theQuickstartAnswersItsFirstRequestAndShowsKeyAuth() throws Exception {
    var example = Files.readString(Path.of("../examples/quickstart.yaml")).replace("#END", "");
    gw = Gateways.start(dir, example);

    var hello = gw.get("/hello");
    assertThat(hello.statusCode()).isEqualTo(200);
    assertThat(hello.headers().firstValue("content-type")).hasValue("application/json");
    var body = JSON.readTree(hello.body());
    assertThat(body.path("message").asText()).startsWith("Hello from Archway");
    assertThat(body.path("you").asText()).isEqualTo("127.0.0.1");
    assertThat(body.path("next")).hasSize(3);
    assertThat(body.path("next").get(0).asText()).contains("/private").contains("401");

    var refused = gw.get("/private");
    assertThat(refused.statusCode()).isEqualTo(401);
    var allowed = gw.get("/private", "apikey", "demo-key");
    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(allowed.body()).path("message").asText()).contains("Hello, demo");

    // The proxied route is there too; with no node listening it says so with a 502.
    assertThat(gw.get("/api/anything").statusCode()).isIn(200, 404, 502);
  }
}
