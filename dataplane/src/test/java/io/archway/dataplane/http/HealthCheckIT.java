package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HealthCheckIT {

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

  private HashMap<String, Integer> spread(int n) throws Exception {
    var counts = new HashMap<String, Integer>();
    for (int i = 0; i < n; i++) {
      var res = gw.get("/");
      counts.merge(res.statusCode() + ":" + res.body(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void activeChecksTakeANodeOutAndBringItBack() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            upstreams:
              - id: web
                nodes:
                  "%s": 1
                  "%s": 1
                checks:
                  active:
                    http_path: /health
                    timeout: 1
                    healthy: {interval: 1, successes: 1}
                    unhealthy: {interval: 1, http_failures: 1, http_statuses: [500]}
            routes:
              - id: r
                uri: /*
                upstream_id: web
            """
                .formatted(a.node(), b.node()));
    assertThat(spread(10)).containsOnlyKeys("200:a", "200:b");
    b.forceStatus(500);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> gw.status("/v1/healthcheck").contains("\"unhealthy\""));
    assertThat(gw.status("/v1/healthcheck"))
        .contains("\"name\" : \"upstreams/web\"")
        .contains("\"port\" : " + b.port());
    assertThat(spread(10)).containsOnlyKeys("200:a");
    assertThat(gw.status("/metrics"))
        .contains(
            "archway_upstream_node_healthy{upstream=\"upstreams/web\",node=\"" + b.node() + "\"} 0")
        .contains(
            "archway_upstream_node_healthy{upstream=\"upstreams/web\",node=\""
                + a.node()
                + "\"} 1");
    b.forceStatus(0);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !gw.status("/v1/healthcheck").contains("\"unhealthy\""));
    assertThat(spread(10)).containsOnlyKeys("200:a", "200:b");
  }

  @Test
  void passiveChecksTakeAFailingNodeOut() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: r
                uri: /*
                upstream:
                  nodes:
                    "%s": 1
                    "%s": 1
                  checks:
                    active:
                      type: tcp
                      healthy: {interval: 60, successes: 1}
                      unhealthy: {interval: 60, tcp_failures: 1}
                    passive:
                      unhealthy: {http_failures: 2, http_statuses: [503]}
            """
                .formatted(a.node(), b.node()));
    b.forceStatus(503);
    var counts = spread(20);
    // b answers 503 twice at most, then gets nothing.
    assertThat(counts.getOrDefault("503:b", 0)).isEqualTo(2);
    assertThat(counts.get("200:a")).isEqualTo(18);
    assertThat(gw.status("/v1/healthcheck")).contains("\"unhealthy\"");
  }

  @Test
  void allNodesUnhealthyMeansAllAreUsed() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: r
                uri: /*
                upstream:
                  nodes:
                    "%s": 1
                    "%s": 1
                  checks:
                    active:
                      http_path: /status/500
                      healthy: {interval: 1, successes: 1}
                      unhealthy: {interval: 1, http_failures: 1, http_statuses: [500]}
            """
                .formatted(a.node(), b.node()));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !gw.status("/v1/healthcheck").contains("\"healthy\""));
    assertThat(spread(10)).containsOnlyKeys("200:a", "200:b");
  }
}
