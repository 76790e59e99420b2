package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.ModelJson;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a GET masks, and a masked value sent back keeps the stored secret: plugin flows (stored and
 * a route's inline one) as consumers; routes' own plugins shown as APISIX shows them.
 */
class RedactionTest {

  static final String FLOW =
      """
      {"rule": {"root": "a", "a": [["b", ""]]},
       "conf": {"a": {"name": "limit-count",
                      "conf": {"count": 1, "time_window": 60, "policy": "redis",
                               "redis_host": "r", "redis_password": "redis-pw"}},
                "b": {"name": "kafka-logger",
                      "conf": {"brokers": [{"host": "k", "port": 9092,
                                            "sasl_config": {"user": "u", "password": "kafka-pw"}}],
                               "kafka_topic": "t"}}}}
      """;

  static ObjectNode json(String s) throws Exception {
    return (ObjectNode) ModelJson.mapper().readTree(s);
  }

  @Test
  void aListsSecretsFollowTheirElementNotTheirIndex() throws Exception {
    var stored =
        json(
            """
            {"rule": {"root": "b", "b": []},
             "conf": {"b": {"name": "kafka-logger",
                            "conf": {"kafka_topic": "t", "brokers": [
                              {"host": "a", "port": 9092,
                               "sasl_config": {"user": "u", "password": "pw-a"}},
                              {"host": "b", "port": 9092,
                               "sasl_config": {"user": "u", "password": "pw-b"}}]}}}}
            """);
    var shown = Redaction.masked("plugin_flows", stored);
    // Broker a removed: b keeps its own password, never a's (same index, other element).
    var back = shown.deepCopy();
    ((com.fasterxml.jackson.databind.node.ArrayNode) back.at("/conf/b/conf/brokers")).remove(0);
    assertThat(Redaction.restore("plugin_flows", back, stored)).isEmpty();
    assertThat(back.at("/conf/b/conf/brokers/0/host").asText()).isEqualTo("b");
    assertThat(back.at("/conf/b/conf/brokers/0/sasl_config/password").asText()).isEqualTo("pw-b");
    // An element whose other fields changed has no stored counterpart: its mask is refused.
    var moved = shown.deepCopy();
    ((ObjectNode) moved.at("/conf/b/conf/brokers/0")).put("host", "c");
    assertThat(Redaction.restore("plugin_flows", moved, stored))
        .containsExactly("conf.b.conf.brokers[0].sasl_config.password");
    assertThat(moved.at("/conf/b/conf/brokers/1/sasl_config/password").asText()).isEqualTo("pw-b");
  }

  @Test
  void aStoredFlowsSecretsAreMaskedAndKeptWhenTheMaskComesBack() throws Exception {
    var stored = json(FLOW);
    var shown = Redaction.masked("plugin_flows", stored);
    assertThat(shown.toString()).doesNotContain("redis-pw").doesNotContain("kafka-pw");
    assertThat(shown.at("/conf/a/conf/redis_password").asText()).isEqualTo(Redaction.MASK);
    assertThat(shown.at("/conf/b/conf/brokers/0/sasl_config/password").asText())
        .isEqualTo(Redaction.MASK);
    assertThat(shown.at("/conf/b/conf/brokers/0/sasl_config/user").asText()).isEqualTo("u");
    assertThat(stored.at("/conf/a/conf/redis_password").asText()).isEqualTo("redis-pw");
    // Sent back with one field edited: the masks become the stored secrets again.
    var back = shown.deepCopy();
    ((ObjectNode) back.at("/conf/a/conf")).put("count", 5);
    Redaction.restore("plugin_flows", back, stored);
    assertThat(back.at("/conf/a/conf/redis_password").asText()).isEqualTo("redis-pw");
    assertThat(back.at("/conf/b/conf/brokers/0/sasl_config/password").asText())
        .isEqualTo("kafka-pw");
    assertThat(back.at("/conf/a/conf/count").asInt()).isEqualTo(5);
    // A node now running another plugin does not inherit the old node's secret.
    var other = shown.deepCopy();
    ((ObjectNode) other.at("/conf/a")).put("name", "limit-req");
    assertThat(Redaction.restore("plugin_flows", other, stored))
        .containsExactly("conf.a.conf.redis_password");
    assertThat(other.at("/conf/a/conf/redis_password").asText()).isEqualTo(Redaction.MASK);
  }

  /** A mask with nothing stored to keep is named (the write is then refused), never kept. */
  @Test
  void masksWithNothingStoredAreNamed() throws Exception {
    var sent =
        json(
            "{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"******\"},"
                + "\"basic-auth\":{\"username\":\"j\",\"password\":\"******\"}}}");
    assertThat(Redaction.restore("consumers", sent.deepCopy(), null))
        .containsExactly("plugins.key-auth.key", "plugins.basic-auth.password");
    var stored = json("{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"k1\"}}}");
    assertThat(Redaction.restore("consumers", sent, stored))
        .containsExactly("plugins.basic-auth.password");
    assertThat(sent.at("/plugins/key-auth/key").asText()).isEqualTo("k1");
    var ssl = json("{\"cert\":\"c\",\"key\":\"******\"}");
    assertThat(Redaction.restore("ssls", ssl, json("{\"cert\":\"c\"}"))).containsExactly("key");
    var route = json("{\"uri\":\"/a\",\"plugin_flow\":" + FLOW + "}");
    var shown = Redaction.masked("routes", route);
    assertThat(Redaction.restore("routes", shown, json("{\"uri\":\"/a\"}")))
        .containsExactly(
            "plugin_flow.conf.a.conf.redis_password",
            "plugin_flow.conf.b.conf.brokers[0].sasl_config.password");
    // A literal "******" where no secret is shown is the user's value.
    var plain = json("{\"username\":\"jack\",\"desc\":\"******\"}");
    assertThat(Redaction.restore("consumers", plain, null)).isEmpty();
  }

  @Test
  void aRoutesInlineFlowIsMaskedItsPluginsShownAsApisixDoes() throws Exception {
    var route =
        json(
            "{\"uri\":\"/a\",\"plugins\":{\"limit-count\":{\"count\":1,\"time_window\":60,"
                + "\"redis_password\":\"route-pw\"}},\"plugin_flow\":"
                + FLOW
                + "}");
    var shown = Redaction.masked("routes", route);
    assertThat(shown.at("/plugin_flow/conf/a/conf/redis_password").asText())
        .isEqualTo(Redaction.MASK);
    assertThat(shown.at("/plugins/limit-count/redis_password").asText()).isEqualTo("route-pw");
    Redaction.restore("routes", shown, route);
    assertThat(shown.at("/plugin_flow/conf/a/conf/redis_password").asText()).isEqualTo("redis-pw");
    var plain = json("{\"uri\":\"/a\"}");
    assertThat(Redaction.masked("routes", plain)).isSameAs(plain);
  }

  @Test
  void consumersAsBefore() throws Exception {
    var consumer =
        json(
            "{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"k1\"},"
                + "\"jwt-auth\":{\"key\":\"jack-key\",\"secret\":\"s\"}}}");
    var shown = Redaction.masked("consumers", consumer);
    assertThat(shown.at("/plugins/key-auth/key").asText()).isEqualTo(Redaction.MASK);
    assertThat(shown.at("/plugins/jwt-auth/secret").asText()).isEqualTo(Redaction.MASK);
    assertThat(shown.at("/plugins/jwt-auth/key").asText()).isEqualTo("jack-key");
    Redaction.restore("consumers", shown, consumer);
    assertThat(shown).isEqualTo(consumer);
  }

  /** Every field a served plugin schema marks writeOnly is masked in a flow: one rule for both. */
  @Test
  void whatTheSchemasMarkWriteOnlyIsWhatIsMasked() throws Exception {
    var registry = PluginRegistry.load();
    var stored = json(FLOW);
    for (var node : List.of("a", "b")) {
      var plugin = stored.at("/conf/" + node + "/name").asText();
      var schema = registry.schema(plugin).orElseThrow();
      var writeOnly = new ArrayList<String>();
      writeOnlyNames(schema, writeOnly);
      assertThat(writeOnly).as(plugin).isNotEmpty();
      var shown = Redaction.masked("plugin_flows", stored);
      var masked = new ArrayList<String>();
      maskedNames(shown.at("/conf/" + node + "/conf"), null, masked);
      assertThat(writeOnly).as(plugin).containsAll(masked);
      assertThat(masked).as(plugin).isNotEmpty();
    }
  }

  private static void writeOnlyNames(JsonNode schema, List<String> out) {
    if (schema.isObject()) {
      schema
          .path("properties")
          .properties()
          .forEach(
              e -> {
                if (e.getValue().path("writeOnly").asBoolean()) {
                  out.add(e.getKey());
                }
              });
    }
    if (schema.isContainerNode()) {
      schema.forEach(c -> writeOnlyNames(c, out));
    }
  }

  private static void maskedNames(JsonNode conf, String name, List<String> out) {
    if (conf.isTextual() && conf.textValue().equals(Redaction.MASK)) {
      out.add(name);
    } else if (conf.isObject()) {
      conf.properties().forEach(e -> maskedNames(e.getValue(), e.getKey(), out));
    } else if (conf.isArray()) {
      conf.forEach(c -> maskedNames(c, name, out));
    }
  }
}
