package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** workflow through the real proxy, with an upstream that counts what reaches it. */
class WorkflowPluginIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
  }

  private String routes(String plugins) {
    return """
        routes:
          - id: wf
            uri: /*
            upstream:
              nodes:
                "%s": 1
            plugins:
              workflow:
        %s
        """
        .formatted(up.node(), plugins.indent(8).stripTrailing());
  }

  @Test
  void theFirstMatchingRuleRunsItsActions() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                """
                rules:
                  - case: [["uri", "==", "/rejected"]]
                    actions: [["return", {code: 403}]]
                  - case: ["OR", ["arg_tier", "==", "free"], ["http_x_tier", "==", "free"]]
                    actions:
                      - ["limit-count", {count: 2, time_window: 60, rejected_code: 429}]
                  - case: [["uri", "~~", "^/rejected"]]
                    actions: [["return", {code: 418}]]
                """));
    var rejected = gw.get("/rejected");
    assertThat(rejected.statusCode()).isEqualTo(403);
    assertThat(rejected.body()).isEqualTo("{\"error_msg\":\"rejected by workflow\"}\n");
    // Only the first matching rule: the third would answer 418.
    assertThat(gw.get("/rejected/too").statusCode()).isEqualTo(418);
    assertThat(up.requests()).isZero();

    // limit-count configured from the action, with its headers.
    var first = gw.get("/a?tier=free");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("X-RateLimit-Limit")).hasValue("2");
    assertThat(first.headers().firstValue("X-RateLimit-Remaining")).hasValue("1");
    assertThat(gw.get("/b", "x-tier", "free").statusCode()).isEqualTo(200);
    assertThat(gw.get("/c?tier=free").statusCode()).isEqualTo(429);
    assertThat(up.requests()).isEqualTo(2);
    // No rule matches: proxied, not counted.
    var other = gw.get("/d?tier=paid");
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.headers().firstValue("X-RateLimit-Limit")).isEmpty();
    assertThat(up.requests()).isEqualTo(3);
  }

  @Test
  void limitConnActionsGiveTheirSlotsBack() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(
                """
                rules:
                  - case: [["uri", "~~", "^/delay/"]]
                    actions:
                      - ["limit-conn", {conn: 1, burst: 0, default_conn_delay: 0.1,
                                        key: remote_addr, rejected_code: 503}]
                  - actions: [["return", {code: 204}]]
                """));
    var codes = gw.getAtOnce("/delay/500", 4);
    assertThat(codes).contains(200, 503);
    assertThat(codes.stream().filter(c -> c == 200).count()).isEqualTo(1);
    // The slot comes back in the log phase, after the response is written (as APISIX's): one at
    // a time passes again once it has run.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(gw.get("/delay/1").statusCode()).isEqualTo(200));
    assertThat(gw.get("/delay/1").statusCode()).isEqualTo(200);
    // A rule without case always matches.
    assertThat(gw.get("/other").statusCode()).isEqualTo(204);
  }
}
