package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.Kind;
import io.archway.model.KindSchemas;
import io.archway.model.ModelJson;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class OpenApiTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();
  private static final JsonNode DOC = reparsed();

  private static JsonNode reparsed() {
    try {
      // As served: written out and read back.
      return ModelJson.mapper()
          .readTree(ModelJson.mapper().writeValueAsBytes(OpenApi.document(REGISTRY)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void isAnOpenApi30DocumentWithTheKeySchemes() {
    assertThat(DOC.path("openapi").asText()).isEqualTo("3.0.3");
    assertThat(DOC.at("/info/title").asText()).isNotBlank();
    assertThat(DOC.at("/components/securitySchemes/X-API-KEY/in").asText()).isEqualTo("header");
    assertThat(DOC.at("/components/securitySchemes/X-API-KEY/name").asText())
        .isEqualTo("X-API-KEY");
    assertThat(DOC.at("/components/securitySchemes/api_key/in").asText()).isEqualTo("query");
    assertThat(DOC.path("security").toString()).contains("X-API-KEY", "api_key");
  }

  @Test
  void documentsEveryResourceAndHelper() {
    var expected = new ArrayList<String>();
    for (var r : OpenApi.RESOURCES) {
      expected.add("/apisix/admin/" + r.dir());
      expected.add("/apisix/admin/" + r.dir() + "/{id}");
    }
    expected.addAll(
        List.of(
            "/apisix/admin/routes/{id}/{field}",
            "/apisix/admin/consumers/{id}/credentials",
            "/apisix/admin/consumers/{id}/credentials/{credential}",
            "/apisix/admin/plugin_metadata",
            "/apisix/admin/plugin_metadata/{plugin}",
            "/apisix/admin/secrets",
            "/apisix/admin/secrets/{manager}/{id}",
            "/apisix/admin/configs",
            "/apisix/admin/plugins",
            "/apisix/admin/plugins/list",
            "/apisix/admin/plugins/reload",
            "/apisix/admin/plugins/{name}",
            "/apisix/admin/schema/plugins/{name}",
            "/apisix/admin/schema/plugin_metadata/{plugin}",
            "/apisix/admin/openapi.json"));
    for (var k : Kind.values()) {
      expected.add("/apisix/admin/schema/" + KindSchemas.name(k));
    }
    var paths = new ArrayList<String>();
    DOC.path("paths").fieldNames().forEachRemaining(paths::add);
    assertThat(paths).containsAll(expected);

    var routes = DOC.path("paths").path("/apisix/admin/routes/{id}");
    assertThat(routes.has("get") && routes.has("put") && routes.has("patch")).isTrue();
    assertThat(routes.has("delete")).isTrue();
    assertThat(DOC.path("paths").path("/apisix/admin/routes").has("post")).isTrue();
    assertThat(parameterNames(DOC.at("/paths/~1apisix~1admin~1routes/get")))
        .contains("page", "page_size", "name", "label", "uri");
    assertThat(parameterNames(DOC.at("/paths/~1apisix~1admin~1upstreams~1{id}/delete")))
        .contains("force");
    assertThat(parameterNames(DOC.at("/paths/~1apisix~1admin~1routes~1{id}/delete")))
        .doesNotContain("force");
    assertThat(parameterNames(DOC.at("/paths/~1apisix~1admin~1plugins~1list/get")))
        .contains("subsystem");
  }

  @Test
  void bodiesAreTheKindSchemasAndPluginsNameEveryPluginSchema() {
    assertThat(
            DOC.at(
                    "/paths/~1apisix~1admin~1routes~1{id}/put/requestBody/content/application~1json/schema/$ref")
                .asText())
        .isEqualTo("#/components/schemas/route");
    assertThat(DOC.at("/components/schemas/route.item/properties/value/$ref").asText())
        .isEqualTo("#/components/schemas/route");
    assertThat(DOC.at("/components/schemas/route/properties/plugins/allOf/0/$ref").asText())
        .isEqualTo("#/components/schemas/plugins");
    for (var name : REGISTRY.names()) {
      assertThat(DOC.at("/components/schemas/plugins/properties/" + name + "/$ref").asText())
          .isEqualTo("#/components/schemas/plugin." + name);
    }
    assertThat(DOC.at("/components/schemas/upstream/properties/type/enum").toString())
        .contains("roundrobin");
  }

  @Test
  void everyRefResolves() {
    var refs = new ArrayList<String>();
    collect(DOC, "$ref", refs);
    assertThat(refs).hasSizeGreaterThan(100);
    for (var ref : new HashSet<>(refs)) {
      assertThat(ref).startsWith("#/");
      assertThat(DOC.at(JsonPointer.compile(ref.substring(1))).isMissingNode())
          .as("%s resolves", ref)
          .isFalse();
    }
  }

  @Test
  void everyPathParameterIsDeclaredAndEveryOperationAnswers() {
    var template = Pattern.compile("\\{([^}]+)}");
    for (var path : DOC.path("paths").properties()) {
      var declared = new HashSet<>(parameterNames(path.getValue()));
      for (var op : path.getValue().properties()) {
        if (op.getKey().equals("parameters")) {
          continue;
        }
        var names = new HashSet<>(declared);
        names.addAll(parameterNames(op.getValue()));
        var m = template.matcher(path.getKey());
        while (m.find()) {
          assertThat(names)
              .as("%s %s declares %s", op.getKey(), path.getKey(), m.group(1))
              .contains(m.group(1));
        }
        var responses = new ArrayList<String>();
        op.getValue().path("responses").fieldNames().forEachRemaining(responses::add);
        assertThat(responses)
            .as("%s %s", op.getKey(), path.getKey())
            .anyMatch(c -> c.startsWith("2"));
      }
    }
  }

  @Test
  void schemasSpeakOpenApi30() {
    var names = Pattern.compile("^[a-zA-Z0-9.\\-_]+$");
    for (var s : DOC.path("components").path("schemas").properties()) {
      assertThat(s.getKey()).matches(names);
      checkDialect(s.getValue(), "#/components/schemas/" + s.getKey());
    }
  }

  @Test
  void translatesDraft07IntoOpenApi30() throws Exception {
    var in =
        ModelJson.mapper()
            .readTree(
                """
                {"$schema": "x", "type": ["string", "integer", "null"], "const": 1,
                 "exclusiveMinimum": 0, "examples": [3], "required": [],
                 "patternProperties": {"^a": {"type": "string"}},
                 "x-archway-expected": "kept"}
                """);
    var out = OpenApi.convert(in);
    assertThat(out.has("$schema")).isFalse();
    assertThat(out.path("nullable").asBoolean()).isTrue();
    assertThat(out.path("anyOf").toString()).contains("string", "integer").doesNotContain("null");
    assertThat(out.path("enum").toString()).isEqualTo("[1]");
    assertThat(out.path("minimum").asInt()).isZero();
    assertThat(out.path("exclusiveMinimum").asBoolean()).isTrue();
    assertThat(out.path("example").asInt()).isEqualTo(3);
    assertThat(out.has("required")).isFalse();
    assertThat(out.at("/additionalProperties/type").asText()).isEqualTo("string");
    assertThat(out.path("x-archway-expected").asText()).isEqualTo("kept");
  }

  private static final Set<String> NOT_IN_30 =
      Set.of("const", "$schema", "$id", "patternProperties", "examples", "definitions");

  private static void checkDialect(JsonNode schema, String at) {
    if (!schema.isObject()) {
      return;
    }
    for (var e : schema.properties()) {
      var k = e.getKey();
      var v = e.getValue();
      assertThat(NOT_IN_30).as("%s: %s", at, k).doesNotContain(k);
      switch (k) {
        case "type" -> assertThat(v.isTextual()).as("%s: type %s", at, v).isTrue();
        case "exclusiveMinimum", "exclusiveMaximum" ->
            assertThat(v.isBoolean()).as("%s: %s", at, k).isTrue();
        case "properties" ->
            v.properties()
                .forEach(p -> checkDialect(p.getValue(), at + "/properties/" + p.getKey()));
        case "items", "additionalProperties", "not" -> checkDialect(v, at + "/" + k);
        case "allOf", "anyOf", "oneOf" -> {
          for (int i = 0; i < v.size(); i++) {
            checkDialect(v.get(i), at + "/" + k + "/" + i);
          }
        }
        default -> {}
      }
    }
  }

  private static List<String> parameterNames(JsonNode node) {
    var out = new ArrayList<String>();
    for (var p : node.path("parameters")) {
      var param = p.has("$ref") ? DOC.at(p.get("$ref").asText().substring(1)) : p;
      out.add(param.path("name").asText());
    }
    return out;
  }

  private static void collect(JsonNode node, String field, List<String> out) {
    if (node.isObject()) {
      node.properties()
          .forEach(
              e -> {
                if (e.getKey().equals(field) && e.getValue().isTextual()) {
                  out.add(e.getValue().asText());
                } else {
                  collect(e.getValue(), field, out);
                }
              });
    } else if (node.isArray()) {
      node.forEach(n -> collect(n, field, out));
    }
  }
}
