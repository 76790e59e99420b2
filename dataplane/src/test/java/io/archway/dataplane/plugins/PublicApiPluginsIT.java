package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * public-api with the endpoints Archway has (batch-requests, node-status, prometheus metrics,
 * proxy-cache purge), and server-info on the status port, through a real dataplane.
 */
class PublicApiPluginsIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;

  @BeforeEach
  void start() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
  }

  String routes() {
    return """
        consumers:
          - username: ops
            plugins:
              key-auth: {key: ops-key}
        routes:
          - id: status
            uri: /apisix/status
            plugins:
              public-api: {}
          - id: metrics
            uri: /gw/metrics
            plugins:
              public-api: {uri: /apisix/prometheus/metrics}
              key-auth: {}
          - id: batch
            uri: /apisix/batch-requests
            plugins:
              public-api: {}
          - id: purge
            uri: /apisix/plugin/proxy-cache/*
            plugins:
              public-api: {}
          - id: nothing
            uri: /apisix/none
            plugins:
              public-api: {}
          - id: up
            uri: /up/*
            upstream:
              nodes:
                "%1$s": 1
          - id: echo
            uri: /echo
            upstream:
              nodes:
                "%1$s": 1
          - id: cached
            uri: /cached
            plugins:
              proxy-cache: {cache_strategy: memory, cache_key: ["$uri"]}
            upstream:
              nodes:
                "%1$s": 1
        plugin_metadata:
          - id: batch-requests
            max_body_size: 2048
        """
        .formatted(up.node());
  }

  HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return gw.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(gw.url(path)));
  }

  @Test
  void nodeStatusServerInfoAndMetrics() throws Exception {
    gw = Gateways.start(dir, routes());
    var status = gw.get("/apisix/status");
    assertThat(status.statusCode()).isEqualTo(200);
    assertThat(status.headers().firstValue("content-type")).hasValue("application/json");
    var s = JSON.readTree(status.body());
    assertThat(s.path("status").path("active").asLong()).isPositive();
    assertThat(s.path("status").path("accepted").asLong()).isPositive();
    assertThat(s.path("status").path("writing").asLong()).isPositive();
    assertThat(s.path("status").path("total").asLong()).isPositive();
    assertThat(s.path("status").has("reading")).isTrue();
    assertThat(s.path("status").has("waiting")).isTrue();
    assertThat(s.path("status").has("handled")).isTrue();

    JsonNode info = JSON.readTree(gw.status("/v1/server_info"));
    assertThat(info.path("id").asText()).isEqualTo(s.path("id").asText()).isNotEmpty();
    assertThat(info.path("hostname").asText()).isNotEmpty();
    assertThat(info.path("version").asText()).isNotEmpty();
    assertThat(info.path("boot_time").asLong()).isPositive();
    assertThat(info.path("up_time").asLong()).isNotNegative();
    assertThat(info.path("etcd_version").asText()).isEqualTo("unknown");

    // The route's own plugins run first: metrics need the key.
    assertThat(gw.get("/gw/metrics").statusCode()).isEqualTo(401);
    var metrics = gw.get("/gw/metrics", "apikey", "ops-key");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("archway_http_connections");

    var none = gw.get("/apisix/none");
    assertThat(none.statusCode()).isEqualTo(404);
    assertThat(none.body()).contains("404 Route Not Found");
    // Another method than the endpoint's is not found either.
    assertThat(send(req("/apisix/status").DELETE()).statusCode()).isEqualTo(404);
  }

  @Test
  void batchRequestsGoThroughTheGatewaysRoutes() throws Exception {
    gw = Gateways.start(dir, routes());
    var body =
        """
        {"headers": {"X-Common": "c"}, "query": {"shared": "1"}, "timeout": 5000,
         "pipeline": [
           {"method": "GET", "path": "/up/a", "query": {"q": "x y"}},
           {"method": "POST", "path": "/echo", "body": "hello", "headers": {"X-Common": "mine"}},
           {"method": "GET", "path": "/missing"}
         ]}""";
    var res =
        send(
            req("/apisix/batch-requests")
                .header("X-Outer", "o")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(res.statusCode()).isEqualTo(200);
    var all = JSON.readTree(res.body());
    assertThat(all.size()).isEqualTo(3);
    assertThat(all.get(0).path("status").asInt()).isEqualTo(200);
    assertThat(all.get(0).path("reason").asText()).isEqualTo("OK");
    assertThat(all.get(0).path("body").asText()).isEqualTo("up");
    assertThat(all.get(0).path("headers").isObject()).isTrue();
    assertThat(all.get(1).path("status").asInt()).isEqualTo(200);
    assertThat(all.get(1).path("body").asText()).isEqualTo("hello");
    assertThat(up.lastHeaders())
        .containsEntry("x-common", "mine")
        .containsEntry("x-outer", "o")
        .containsEntry("x-real-ip", "127.0.0.1");
    assertThat(all.get(2).path("status").asInt()).isEqualTo(404);
    assertThat(all.get(2).path("body").asText()).contains("404 Route Not Found");

    var bad =
        send(
            req("/apisix/batch-requests")
                .POST(HttpRequest.BodyPublishers.ofString("{\"pipeline\": []}")));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("bad request body: pipeline");
    var noJson = send(req("/apisix/batch-requests").POST(HttpRequest.BodyPublishers.ofString("{")));
    assertThat(noJson.statusCode()).isEqualTo(400);
    assertThat(noJson.body()).contains("invalid request body");
    var big =
        send(
            req("/apisix/batch-requests")
                .POST(
                    HttpRequest.BodyPublishers.ofString("{\"x\": \"" + "a".repeat(3000) + "\"}")));
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(big.body()).contains("is greater than the maximum size 2048 allowed");
  }

  @Test
  void proxyCachePurgeByRouteAndKey() throws Exception {
    gw = Gateways.start(dir, routes());
    assertThat(gw.get("/cached").headers().firstValue("apisix-cache-status")).hasValue("MISS");
    assertThat(gw.get("/cached").headers().firstValue("apisix-cache-status")).hasValue("HIT");
    var purge = req("/apisix/plugin/proxy-cache/memory/cached/%2Fcached");
    var purged = send(purge.method("PURGE", HttpRequest.BodyPublishers.noBody()));
    assertThat(purged.statusCode()).as(purged.body()).isEqualTo(200);
    assertThat(gw.get("/cached").headers().firstValue("apisix-cache-status")).hasValue("MISS");
    var again = req("/apisix/plugin/proxy-cache/memory/cached/nothing-here");
    assertThat(send(again.method("PURGE", HttpRequest.BodyPublishers.noBody())).statusCode())
        .isEqualTo(404);
    // The route caches in memory: its disk zone has nothing; a strategy nobody has is a 400.
    var disk = req("/apisix/plugin/proxy-cache/disk/cached/x");
    assertThat(send(disk.method("PURGE", HttpRequest.BodyPublishers.noBody())).statusCode())
        .isEqualTo(404);
    var other = req("/apisix/plugin/proxy-cache/tape/cached/x");
    assertThat(send(other.method("PURGE", HttpRequest.BodyPublishers.noBody())).statusCode())
        .isEqualTo(400);
  }
}
