package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.ModelJson;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The Studio's helper calls without a server: palette categories, secret fields, the validate
 * call's answers, the dry-run body's checks, the one-segment paths.
 */
class StudioEndpointsTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();

  @Test
  void everyPluginHasACategoryFromTheFixedSet() {
    var all = Schemas.allPlugins(REGISTRY, null);
    var labels = Arrays.stream(Plugin.Category.values()).map(Plugin.Category::label).toList();
    all.properties()
        .forEach(
            e -> assertThat(e.getValue().path("category").asText()).as(e.getKey()).isIn(labels));
    assertThat(all.path("key-auth").path("category").asText()).isEqualTo("authentication");
    assertThat(all.path("limit-req").path("category").asText()).isEqualTo("traffic");
    assertThat(all.path("kafka-logger").path("category").asText()).isEqualTo("observability");
    assertThat(all.path("proxy-rewrite").path("category").asText()).isEqualTo("transformation");
    assertThat(all.path("aws-lambda").path("category").asText()).isEqualTo("serverless");
    assertThat(all.path("ip-restriction").path("category").asText()).isEqualTo("security");
    // Only the "other" group is a catch-all: the built-in plugins all chose one on purpose.
    assertThat(
            all.properties().stream()
                .filter(e -> e.getValue().path("category").asText().equals("other"))
                .map(java.util.Map.Entry::getKey)
                .toList())
        .containsExactlyInAnyOrder("batch-requests", "echo", "kafka-proxy", "real-ip");
  }

  @Test
  void secretFieldsAreWriteOnly() {
    var kafka = REGISTRY.schema("kafka-logger").orElseThrow();
    assertThat(
            kafka
                .at(
                    "/properties/brokers/items/properties/sasl_config/properties/password/writeOnly")
                .asBoolean())
        .isTrue();
    assertThat(kafka.at("/properties/kafka_topic/writeOnly").isMissingNode()).isTrue();
    assertThat(
            REGISTRY
                .schema("limit-count")
                .orElseThrow()
                .at("/properties/redis_password/writeOnly")
                .asBoolean())
        .isTrue();
    assertThat(
            REGISTRY
                .schema("openid-connect")
                .orElseThrow()
                .at("/properties/client_secret/writeOnly")
                .asBoolean())
        .isTrue();
    assertThat(REGISTRY.schema("csrf").orElseThrow().at("/properties/key/writeOnly").asBoolean())
        .isTrue();
    assertThat(
            REGISTRY
                .schema("aws-lambda")
                .orElseThrow()
                .findValues("secretkey")
                .get(0)
                .path("writeOnly")
                .asBoolean())
        .isTrue();
    // limit-count's key names the counter: not a secret.
    assertThat(
            REGISTRY
                .schema("limit-count")
                .orElseThrow()
                .at("/properties/key/writeOnly")
                .isMissingNode())
        .isTrue();
    assertThat(
            Schemas.consumerSchema("key-auth")
                .orElseThrow()
                .at("/properties/key/writeOnly")
                .asBoolean())
        .isTrue();
    assertThat(
            Schemas.consumerSchema("basic-auth")
                .orElseThrow()
                .at("/properties/password/writeOnly")
                .asBoolean())
        .isTrue();
    assertThat(
            Schemas.consumerSchema("jwt-auth")
                .orElseThrow()
                .at("/properties/key/writeOnly")
                .isMissingNode())
        .isTrue();
  }

  @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir;

  @Test
  void validateAnswersAsAWriteWould() throws Exception {
    var validation = new AdminValidation(REGISTRY);
    var file = dir.resolve("apisix.yaml");
    java.nio.file.Files.writeString(file, "routes: []\n#END\n");
    var store = StandaloneAdminStore.load(file, false);
    var ok =
        StudioEndpoints.validate(
            store, validation, "plugin_configs", bytes("{\"plugins\":{\"key-auth\":{}}}"));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.body().asText()).isEmpty();
    var body = "{\"plugins\":{\"limit-req\":{\"rate\":-1,\"burst\":0,\"key\":\"remote_addr\"}}}";
    var bad = StudioEndpoints.validate(store, validation, "plugin_configs", bytes(body));
    assertThat(bad.status()).isEqualTo(400);
    var target = AdminPaths.parse("plugin_configs/validate").orElseThrow();
    var value = (com.fasterxml.jackson.databind.node.ObjectNode) ModelJson.mapper().readTree(body);
    value.put("id", "validate");
    assertThat(bad.body().path("error_msg").asText())
        .isEqualTo(validation.check(target, value))
        .contains("plugins.limit-req.rate");
    assertThat(
            StudioEndpoints.validate(store, validation, "nope", bytes("{}"))
                .body()
                .path("error_msg")
                .asText())
        .isEqualTo("Unsupported resource type: nope");
    assertThat(StudioEndpoints.validate(store, validation, "routes", bytes("{")).status())
        .isEqualTo(400);
  }

  @Test
  void theDryRunBodyIsCheckedFieldByField() throws Exception {
    assertThat(StudioEndpoints.upstream(null).status()).isEqualTo(200);
    var r = StudioEndpoints.request(json("{\"uri\":\"/get?a=1\",\"headers\":{\"apikey\":\"k1\"}}"));
    assertThat(r.method()).isEqualTo("GET");
    assertThat(r.remoteAddr()).isEqualTo("127.0.0.1");
    assertThat(r.headers()).containsEntry("apikey", java.util.List.of("k1"));
    assertBad(() -> StudioEndpoints.request(null), "request: missing");
    assertBad(() -> StudioEndpoints.request(json("{}")), "request.uri: missing");
    assertBad(() -> StudioEndpoints.request(json("{\"uri\":\"get\"}")), "request.uri: \"get\"");
    assertBad(() -> StudioEndpoints.request(json("{\"uri\":\"/\",\"uir\":1}")), "request.uir");
    assertBad(
        () -> StudioEndpoints.request(json("{\"uri\":\"/\",\"headers\":{\"a\":{}}}")),
        "request.headers.a");
    assertBad(
        () -> StudioEndpoints.upstream(json("{\"status\":99}")), "upstream_response.status: 99");
  }

  interface Parse {
    Object run() throws Exception;
  }

  static void assertBad(Parse p, String start) {
    assertThatThrownBy(p::run)
        .isInstanceOf(StudioEndpoints.BadField.class)
        .hasMessageStartingWith(start);
  }

  @Test
  void aStarSegmentMatchesOneIdOnly() {
    var e = new AdminEndpoints();
    e.add(
        "GET",
        "/apisix/admin/plugin_flows/*/stats",
        req -> CompletableFuture.completedFuture(null));
    assertThat(e.find("GET", "/apisix/admin/plugin_flows/f1/stats")).isPresent();
    assertThat(e.find("GET", "/apisix/admin/plugin_flows//stats")).isEmpty();
    assertThat(e.find("GET", "/apisix/admin/plugin_flows/a/b/stats")).isEmpty();
    assertThat(e.find("GET", "/apisix/admin/plugin_flows/f1")).isEmpty();
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static JsonNode json(String s) throws Exception {
    return ModelJson.mapper().readTree(s);
  }

  @Test
  void aDryRunsRequestIsHeldToTheListenersLimits() throws Exception {
    var limits = new io.archway.dataplane.flow.FlowTrace.Limits(3, 100, 10, 1);
    assertBad(
        () ->
            StudioEndpoints.request(
                json("{\"uri\":\"/\",\"headers\":{\"a\":[\"1\",\"2\"],\"b\":\"3\",\"c\":\"4\"}}"),
                limits),
        "request.headers: 4 fields (expected: at most 3, the HTTP listener's limit)");
    assertBad(
        () ->
            StudioEndpoints.request(
                json("{\"uri\":\"/\",\"headers\":{\"a\":\"" + "x".repeat(100) + "\"}}"), limits),
        "request.headers: 121 bytes with the request line (expected: at most 100, the HTTP"
            + " listener's max header size)");
    assertBad(
        () -> StudioEndpoints.request(json("{\"uri\":\"/\",\"body\":\"12345678901\"}"), limits),
        "request.body: 11 bytes (expected: at most 10, the HTTP listener's client_max_body_size)");
    assertThat(
            StudioEndpoints.request(json("{\"uri\":\"/\",\"body\":\"1234567890\"}"), limits).body())
        .hasSize(10);
  }
}
