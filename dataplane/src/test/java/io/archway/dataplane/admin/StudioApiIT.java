package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.testing.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PluginFlow Studio's Admin API calls through the real admin server (standalone mode): the
 * seed's flow saved and dry-run on both branches, an unsaved flow dry-run, live counts after real
 * traffic (the stats call and {@code /metrics}), the validate call giving a PUT's message, a flow
 * in use refused a DELETE, a route's flow set by PATCH.
 */
class StudioApiIT {

  static final String KEY = AdminApiContract.ADMIN;
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  TestUpstream upstream;
  Dataplane dataplane;
  int brokerPort;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() throws Exception {
    upstream = new TestUpstream("up1");
    brokerPort = Ports.free(); // closed again: no broker answers there
    var file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes: []\n#END\n");
    dataplane =
        new Dataplane(
                DataplaneOptions.standaloneOnLoopback(file)
                    .withAdmin(AdminSettings.onLoopback(KEY, null, false)))
            .start();
    await().atMost(Duration.ofSeconds(10)).until(() -> dataplane.config().loaded());
    ok(
        admin(
            "PUT",
            "/apisix/admin/consumers",
            "{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"k1\"}}}"));
    ok(admin("PUT", "/apisix/admin/plugin_flows/f1", seedFlow()));
    ok(
        admin(
            "PUT",
            "/apisix/admin/routes/r1",
            "{\"uri\":\"/get\",\"plugin_flow_id\":\"f1\",\"upstream\":{\"nodes\":{\""
                + upstream.node()
                + "\":1}}}"));
  }

  @AfterEach
  void stop() {
    if (dataplane != null) {
      dataplane.close();
    }
    upstream.close();
  }

  String seedFlow() throws Exception {
    return io.archway.dataplane.flow.FlowTraceTest.seedFlow(brokerPort);
  }

  @Test
  void theSeedsFlowIsDryRunOnBothBranches() throws Exception {
    var anonymous =
        ok(
            admin(
                "POST",
                "/apisix/admin/plugin_flows/f1/dry-run",
                "{\"request\":{\"uri\":\"/get?a=1\"}}"));
    assertThat(anonymous.at("/steps/0/status").asInt()).isEqualTo(401);
    assertThat(anonymous.at("/edges/0/to").asText()).isEqualTo("4-5-6");
    assertThat(anonymous.at("/steps/1/plugin").asText()).isEqualTo("limit-req");
    assertThat(anonymous.at("/response/status").asInt()).isEqualTo(200);
    var jack =
        ok(
            admin(
                "POST",
                "/apisix/admin/plugin_flows/f1/dry-run",
                """
                {"request": {"method": "GET", "uri": "/get?a=1", "host": "example.com",
                             "headers": {"apikey": "k1"}, "body": "", "remote_addr": "127.0.0.1"},
                 "upstream_response": {"status": 201, "headers": {}, "body": "made"}}
                """));
    assertThat(jack.at("/steps/0/published/consumer").asText()).isEqualTo("jack");
    assertThat(jack.at("/edges/0/condition").asText()).isEmpty();
    assertThat(jack.at("/logs/0/plugin").asText()).isEqualTo("kafka-logger");
    assertThat(jack.at("/logs/0/node").asText()).isEqualTo("7-8-9");
    assertThat(jack.at("/logs/0/entry/response/status").asInt()).isEqualTo(201);
    assertThat(jack.at("/response/body").asText()).isEqualTo("made");
    // An unsaved flow, from the body.
    var unsaved =
        ok(
            admin(
                "POST",
                "/apisix/admin/plugin_flows/dry-run",
                "{\"flow\":" + seedFlow() + ",\"request\":{\"uri\":\"/\"}}"));
    assertThat(unsaved.at("/steps/0/outcome").asText()).isEqualTo("respond");
    // Refusals: unknown id, a field at fault, a flow that would not be saved.
    assertThat(
            admin(
                    "POST",
                    "/apisix/admin/plugin_flows/nope/dry-run",
                    "{\"request\":{\"uri\":\"/\"}}")
                .statusCode())
        .isEqualTo(404);
    var noUri = admin("POST", "/apisix/admin/plugin_flows/f1/dry-run", "{\"request\":{}}");
    assertThat(noUri.statusCode()).isEqualTo(400);
    assertThat(json(noUri).path("error_msg").asText()).startsWith("request.uri: missing");
    var badFlow =
        admin(
            "POST",
            "/apisix/admin/plugin_flows/dry-run",
            "{\"flow\":{\"rule\":{\"root\":\"a\"},\"conf\":{\"a\":{\"name\":\"limit-req\",\"conf\":{}}}},"
                + "\"request\":{\"uri\":\"/\"}}");
    assertThat(badFlow.statusCode()).isEqualTo(400);
    assertThat(json(badFlow).path("error_msg").asText())
        .startsWith("flow: ")
        .contains("conf.a.conf.rate");
  }

  @Test
  void liveCountsFollowRealTraffic() throws Exception {
    for (int i = 0; i < 3; i++) {
      data("/get", null);
    }
    for (int i = 0; i < 2; i++) {
      assertThat(data("/get", "k1").statusCode()).isEqualTo(200);
    }
    var stats = ok(admin("GET", "/apisix/admin/plugin_flows/f1/stats?window=60", null));
    assertThat(stats.path("window").asInt()).isEqualTo(60);
    assertThat(stats.at("/nodes/1-2-3/runs").asLong()).isEqualTo(5);
    assertThat(stats.at("/nodes/1-2-3/rejected").asLong()).isEqualTo(3);
    assertThat(stats.at("/nodes/1-2-3/errors").asLong()).isZero();
    assertThat(stats.at("/nodes/4-5-6/runs").asLong()).isEqualTo(3);
    assertThat(stats.at("/nodes/7-8-9/runs").asLong()).isEqualTo(2);
    for (var e : stats.path("edges")) {
      var expected = e.path("to").asText().equals("4-5-6") ? 3 : 2;
      assertThat(e.path("count").asLong()).as(e.toString()).isEqualTo(expected);
    }
    // Dry-runs count nothing.
    ok(admin("POST", "/apisix/admin/plugin_flows/f1/dry-run", "{\"request\":{\"uri\":\"/get\"}}"));
    assertThat(
            ok(admin("GET", "/apisix/admin/plugin_flows/f1/stats", null))
                .at("/nodes/1-2-3/runs")
                .asLong())
        .isEqualTo(5);
    var metrics =
        client
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + dataplane.servers().statusPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains(
            "archway_flow_node_runs_total{flow=\"f1\",node=\"1-2-3\",plugin=\"key-auth\","
                + "outcome=\"rejected\"} 3")
        .contains("archway_flow_edge_taken_total{flow=\"f1\",from=\"1-2-3\",to=\"7-8-9\"} 2");
    assertThat(admin("GET", "/apisix/admin/plugin_flows/f1/stats?window=5", null).statusCode())
        .isEqualTo(400);
    assertThat(admin("GET", "/apisix/admin/plugin_flows/nope/stats", null).statusCode())
        .isEqualTo(404);
  }

  @Test
  void validateGivesThePutsMessage() throws Exception {
    var body = "{\"plugins\":{\"limit-req\":{\"rate\":1,\"burst\":-1,\"key\":\"remote_addr\"}}}";
    var validate = admin("POST", "/apisix/admin/schema/validate/plugin_configs", body);
    var put = admin("PUT", "/apisix/admin/plugin_configs/pc1", body);
    assertThat(validate.statusCode()).isEqualTo(400);
    assertThat(put.statusCode()).isEqualTo(400);
    assertThat(json(validate).path("error_msg").asText())
        .isEqualTo(json(put).path("error_msg").asText())
        .contains("limit-req")
        .contains("burst");
    var valid =
        admin(
            "POST",
            "/apisix/admin/schema/validate/routes",
            "{\"uri\":\"/a\",\"upstream\":{\"nodes\":{\"127.0.0.1:1\":1}}}");
    assertThat(valid.statusCode()).isEqualTo(200);
    assertThat(valid.body()).isEmpty();
    assertThat(admin("POST", "/apisix/admin/schema/validate/nope", "{}").statusCode())
        .isEqualTo(404);
    // What PUT refuses, validate refuses with the same message: an id of two path segments, a
    // consumer group that does not exist, a key another consumer has.
    sameRefusal("routes", "{\"id\":\"a/b\",\"uri\":\"/a\"}", "one path segment");
    sameRefusal("consumers", "{\"username\":\"jill\",\"group_id\":\"nope\"}", "nope");
    sameRefusal(
        "consumers",
        "{\"username\":\"jill\",\"plugins\":{\"key-auth\":{\"key\":\"k1\"}}}",
        "consumers/jack");
  }

  void sameRefusal(String resource, String body, String saying) throws Exception {
    var validate = admin("POST", "/apisix/admin/schema/validate/" + resource, body);
    var put = admin("PUT", "/apisix/admin/" + resource, body);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(400);
    assertThat(validate.statusCode()).as(validate.body()).isEqualTo(400);
    assertThat(json(validate).path("error_msg").asText())
        .isEqualTo(json(put).path("error_msg").asText())
        .contains(saying);
  }

  @Test
  void aFlowInUseIsNotDeletedAndARoutesFlowIsSetByPatch() throws Exception {
    var delete = admin("DELETE", "/apisix/admin/plugin_flows/f1", null);
    assertThat(delete.statusCode()).isEqualTo(400);
    assertThat(json(delete).path("error_msg").asText()).contains("route [r1]");
    ok(
        admin(
            "PUT",
            "/apisix/admin/plugin_flows/teapot",
            "{\"rule\":{\"root\":\"a\"},\"conf\":{\"a\":{\"name\":\"fault-injection\","
                + "\"conf\":{\"abort\":{\"http_status\":418,\"body\":\"tea\"}}}}}"));
    ok(admin("PATCH", "/apisix/admin/routes/r1", "{\"plugin_flow_id\":\"teapot\"}"));
    assertThat(data("/get", "k1").statusCode()).isEqualTo(418);
    assertThat(admin("DELETE", "/apisix/admin/plugin_flows/f1", null).statusCode()).isEqualTo(200);
  }

  @Test
  void aFlowsSecretsAreMaskedAndAGetPutBackKeepsThem() throws Exception {
    var flow =
        """
        {"rule": {"root": "a"},
         "conf": {"a": {"name": "kafka-logger",
                        "conf": {"brokers": [{"host": "127.0.0.1", "port": %d,
                                              "sasl_config": {"user": "u", "password": "kafka-pw"}}],
                                 "kafka_topic": "t"}}}}
        """
            .formatted(brokerPort);
    ok(admin("PUT", "/apisix/admin/plugin_flows/sec", flow));
    var got = admin("GET", "/apisix/admin/plugin_flows/sec", null);
    assertThat(got.body()).doesNotContain("kafka-pw");
    var value = ok(got).get("value");
    assertThat(value.at("/conf/a/conf/brokers/0/sasl_config/password").asText())
        .isEqualTo(Redaction.MASK);
    assertThat(admin("GET", "/apisix/admin/plugin_flows", null).body()).doesNotContain("kafka-pw");
    // The Studio's round trip: the GET's value, edited, PUT back.
    ((com.fasterxml.jackson.databind.node.ObjectNode) value.at("/conf/a/conf"))
        .put("kafka_topic", "edited");
    ok(admin("PUT", "/apisix/admin/plugin_flows/sec", JSON.writeValueAsString(value)));
    var served =
        dataplane.config().current().items(io.archway.model.Kind.PLUGIN_FLOWS).get("sec").value();
    assertThat(io.archway.model.ModelJson.mapper().writeValueAsString(served))
        .contains("kafka-pw")
        .contains("edited");
  }

  HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + dataplane.servers().adminPort() + path))
            .header("X-API-KEY", KEY)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> data(String path, String apikey) throws Exception {
    var b =
        HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + dataplane.servers().httpPort() + path));
    if (apikey != null) {
      b.header("apikey", apikey);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  static JsonNode ok(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
    return json(r);
  }
}
