package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.PluginSchemas;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

class SchemasTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();

  @Test
  void servesEveryKindSchemaByItsAdminApiName() {
    assertThat(Schemas.kindNames())
        .contains("route", "upstream", "service", "consumer", "ssl", "global_rule")
        .contains("plugin_config", "stream_route", "plugin_metadata", "plugin_flow")
        .contains("credential", "consumer_group");
    for (var name : Schemas.kindNames()) {
      var schema = Schemas.kind(name, REGISTRY).orElseThrow();
      assertThat(schema.path("title").asText()).isEqualTo(name);
      assertThat(schema.path("type").asText()).isEqualTo("object");
    }
    var route = Schemas.kind("route", REGISTRY).orElseThrow();
    assertThat(route.at("/properties/methods/items/enum").toString()).contains("GET", "PURGE");
    assertThat(route.at("/properties/status/default").asInt()).isEqualTo(1);
    assertThat(Schemas.kind("routes", REGISTRY)).isEmpty();
    assertThat(Schemas.kind("nope", REGISTRY)).isEmpty();
  }

  @Test
  void everyAuthPluginHasAConsumerSchemaAndNoOtherPluginDoes() {
    for (var name : REGISTRY.names()) {
      assertThat(Schemas.consumerSchema(name).isPresent())
          .as(name)
          .isEqualTo(REGISTRY.credentialField(name) != null);
    }
    for (var name : REGISTRY.names()) {
      var field = REGISTRY.credentialField(name);
      if (field != null) {
        // The field consumers are found by is one the consumer schema requires, or gives a
        // default (wolf-rbac's appid, "unset" as in APISIX).
        var schema = Schemas.consumerSchema(name).orElseThrow();
        assertThat(
                schema.path("required").toString().contains("\"" + field + "\"")
                    || schema.path("properties").path(field).has("default"))
            .as(name)
            .isTrue();
      }
    }
  }

  @Test
  void pluginMetadataSchemasNameTheirPlugin() {
    var name = REGISTRY.names().iterator().next();
    var schema = Schemas.kind("plugin_metadata/" + name, REGISTRY).orElseThrow();
    assertThat(schema.at("/properties/id/const").asText()).isEqualTo(name);
    assertThat(schema.path("title").asText()).isEqualTo("plugin_metadata/" + name);
    // A copy each time: one caller's change does not reach the next.
    assertThat(
            Schemas.kind("plugin_metadata", REGISTRY)
                .orElseThrow()
                .at("/properties/id/const")
                .isMissingNode())
        .isTrue();
    assertThat(Schemas.kind("plugin_metadata/no-such-plugin", REGISTRY)).isEmpty();
  }

  @Test
  void pluginSchemasAreTheRegistrysAndOnlyForTheSubsystemTheyRunIn() {
    var schema = Schemas.plugin(REGISTRY, "limit-count", null).orElseThrow();
    // The model's schema, with its secret fields marked writeOnly for the Studio's forms.
    var model =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            PluginSchemas.schema("limit-count").orElseThrow().json().deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) model.at("/properties/redis_password"))
        .put("writeOnly", true);
    assertThat(schema).isEqualTo(model);
    assertThat(Schemas.plugin(REGISTRY, "limit-count", "http")).hasValue(schema);
    assertThat(Schemas.plugin(REGISTRY, "limit-count", "stream")).isEmpty();
    // Known to APISIX, not run by Archway: not found, as APISIX answers for a plugin it lacks.
    assertThat(Schemas.plugin(REGISTRY, "serverless-pre-function", null)).isEmpty();
    assertThat(Schemas.plugin(REGISTRY, "nope", null)).isEmpty();
  }

  @Test
  void theListIsNamesHighestPriorityFirst() {
    var names = Schemas.pluginNames(REGISTRY, null);
    assertThat(names).hasSize(REGISTRY.names().size());
    var priorities = new ArrayList<Integer>();
    names.forEach(n -> priorities.add(REGISTRY.get(n.asText()).priority()));
    assertThat(priorities).isSortedAccordingTo((a, b) -> Integer.compare(b, a));
    assertThat(names.toString()).contains("\"key-auth\"", "\"limit-req\"", "\"traffic-split\"");
    assertThat(Schemas.pluginNames(REGISTRY, "stream")).isEmpty();
  }

  @Test
  void allPluginsCarryPriorityAndSchema() {
    var all = Schemas.allPlugins(REGISTRY, null);
    assertThat(all.size()).isEqualTo(REGISTRY.names().size());
    var keyAuth = all.path("key-auth");
    assertThat(keyAuth.path("priority").asInt()).isEqualTo(REGISTRY.get("key-auth").priority());
    assertThat(keyAuth.path("schema")).isEqualTo(REGISTRY.schema("key-auth").orElseThrow());
    assertThat(keyAuth.path("phases").isArray()).isTrue();
    assertThat(keyAuth.path("phases")).isNotEmpty();
  }

  @Test
  void onlyHttpAndStreamAreSubsystems() {
    assertThat(Schemas.subsystemProblem(null)).isNull();
    assertThat(Schemas.subsystemProblem("http")).isNull();
    assertThat(Schemas.subsystemProblem("stream")).isNull();
    assertThat(Schemas.subsystemProblem("tcp")).isEqualTo("unsupported subsystem: tcp");
  }
}
