package io.archway.dataplane.admin;

import static io.archway.dataplane.admin.OpenApiPaths.addConsumerCredentials;
import static io.archway.dataplane.admin.OpenApiPaths.addHelpers;
import static io.archway.dataplane.admin.OpenApiPaths.addPluginMetadata;
import static io.archway.dataplane.admin.OpenApiPaths.addResource;
import static io.archway.dataplane.admin.OpenApiPaths.addSecrets;
import static io.archway.dataplane.admin.OpenApiPaths.pathParam;
import static io.archway.dataplane.admin.OpenApiPaths.queryParam;
import static io.archway.dataplane.admin.OpenApiPaths.ref;
import static io.archway.dataplane.admin.OpenApiPaths.response;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.Kind;
import io.archway.model.KindSchemas;
import io.archway.model.ModelJson;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The OpenAPI 3.0 document of the whole Admin API, served at {@code /apisix/admin/openapi.json}:
 * every resource with its methods and parameters, the {@code X-API-KEY} scheme, and request and
 * response bodies whose schemas are the kind schemas ({@link KindSchemas}) and the plugin schemas
 * (each kind's {@code plugins} names every plugin's schema), so the document cannot say something
 * the schema endpoints do not. Built once per registry; a pure function of it.
 *
 * <p>The kind and plugin schemas are JSON Schema draft-07; OpenAPI 3.0 has its own dialect, so they
 * are translated: a list of types becomes {@code anyOf} (with {@code nullable} for {@code null}),
 * {@code const} a one-value {@code enum}, the numeric {@code exclusiveMinimum} the boolean form
 * beside {@code minimum}, {@code patternProperties} an {@code additionalProperties}, {@code
 * examples} an {@code example}. Archway's {@code x-archway-*} keywords stay, as extensions.
 */
final class OpenApi {

  private OpenApi() {}

  static final String BASE = "/apisix/admin";

  /** A resource of the Admin API: its path, the schema of its objects and what it supports. */
  record Resource(String dir, String schema, boolean post, boolean patch, boolean force) {}

  /** The resources with an id, in APISIX's order, and Archway's plugin_flows and listeners. */
  static final List<Resource> RESOURCES =
      List.of(
          new Resource("routes", "route", true, true, false),
          new Resource("services", "service", true, true, true),
          new Resource("upstreams", "upstream", true, true, true),
          new Resource("consumers", "consumer", false, false, true),
          new Resource("consumer_groups", "consumer_group", false, true, true),
          new Resource("ssls", "ssl", true, true, false),
          new Resource("global_rules", "global_rule", false, true, false),
          new Resource("plugin_configs", "plugin_config", false, true, true),
          new Resource("stream_routes", "stream_route", true, false, false),
          new Resource("protos", "proto", true, true, true),
          new Resource("plugin_flows", "plugin_flow", true, true, true),
          new Resource("listeners", "listener", true, true, false));

  /** Schemas of resources the model has no kind for: the server checks them itself. */
  private static final Map<String, String> OWN_SCHEMAS =
      Map.of(
          "secret",
          """
          {"type": "object", "description": "Where a secret manager is reached ($secret://<manager>/<id>/...); its fields are the manager's.",
           "additionalProperties": true}
          """,
          "error",
          """
          {"type": "object", "properties": {"error_msg": {"type": "string"}}, "required": ["error_msg"]}
          """);

  /** The document for the plugins {@code registry} runs. */
  static ObjectNode document(PluginRegistry registry) {
    var doc = obj();
    doc.put("openapi", "3.0.3");
    var info = doc.putObject("info");
    info.put("title", "Archway Admin API");
    info.put(
        "description",
        "APISIX 3.x's Admin API as Archway serves it: objects stored in etcd (compare-and-swap on"
            + " modifiedIndex) or in the standalone config. Errors are {\"error_msg\": \"...\"}.");
    info.put("version", "3");
    doc.putArray("security").add(obj().set("X-API-KEY", arr())).add(obj().set("api_key", arr()));
    var components = doc.putObject("components");
    var schemes = components.putObject("securitySchemes");
    schemes
        .putObject("X-API-KEY")
        .put("type", "apiKey")
        .put("in", "header")
        .put("name", "X-API-KEY")
        .put("description", "An admin key (read and write) or a viewer key (read only).");
    schemes
        .putObject("api_key")
        .put("type", "apiKey")
        .put("in", "query")
        .put("name", "api_key")
        .put("description", "The key as a query argument, when a header cannot be set.");
    var schemas = components.putObject("schemas");
    addSchemas(schemas, registry);
    addParameters(components.putObject("parameters"));
    addResponses(components.putObject("responses"));
    var paths = doc.putObject("paths");
    for (var r : RESOURCES) {
      addResource(paths, r);
    }
    addConsumerCredentials(paths);
    addPluginMetadata(paths);
    addSecrets(paths);
    addHelpers(paths);
    OpenApiPaths.addStudio(paths);
    putStatuses(paths);
    return doc;
  }

  /**
   * A PUT that creates answers 201 (200 when it replaces), as APISIX does; the whole-config PUT
   * answers 202 (applied asynchronously, as APISIX's standalone mode says).
   */
  private static void putStatuses(ObjectNode paths) {
    paths
        .properties()
        .forEach(
            e -> {
              var put = e.getValue().get("put");
              if (put == null) {
                return;
              }
              var responses = (ObjectNode) put.get("responses");
              var ok = responses.get("200");
              if (e.getKey().endsWith("/configs")) {
                responses.set("202", responses.remove("200"));
              } else if (ok != null && !e.getKey().endsWith("/plugins/reload")) {
                var created = ok.deepCopy();
                ((ObjectNode) created).put("description", "Created.");
                responses.set("201", created);
              }
            });
  }

  // ---- components ----

  private static void addSchemas(ObjectNode schemas, PluginRegistry registry) {
    var plugins = schemas.putObject("plugins");
    plugins.put("type", "object");
    plugins.put(
        "description",
        "Plugin name to its configuration, checked against the plugin's schema; _meta (disable,"
            + " priority, filter) is allowed on every plugin.");
    var props = plugins.putObject("properties");
    for (var name : registry.names()) {
      var schema = registry.schema(name);
      if (schema.isPresent()) {
        schemas.set(pluginSchema(name), convert(schema.get()));
        props.putObject(name).put("$ref", "#/components/schemas/" + pluginSchema(name));
      }
    }
    plugins.putObject("additionalProperties").put("type", "object");
    for (var k : Kind.values()) {
      schemas.set(KindSchemas.name(k), withPluginRefs(convert(KindSchemas.json(k))));
    }
    OWN_SCHEMAS.forEach((name, json) -> schemas.set(name, parse(json)));
    var names = new java.util.ArrayList<String>();
    schemas.fieldNames().forEachRemaining(names::add);
    for (var name : names) {
      if (name.equals("plugins") || name.equals("error") || name.startsWith("plugin.")) {
        continue;
      }
      schemas.set(name + ".item", item(name));
      schemas.set(name + ".list", list(name));
    }
  }

  static String pluginSchema(String plugin) {
    return "plugin." + plugin;
  }

  private static ObjectNode item(String schema) {
    return parse(
        """
        {"type": "object", "properties": {
          "key": {"type": "string", "description": "The etcd key, e.g. /apisix/routes/1."},
          "value": {"$ref": "#/components/schemas/%s"},
          "createdIndex": {"type": "integer", "description": "The revision that created it."},
          "modifiedIndex": {"type": "integer", "description": "The revision of its last change: what If-Match and the next write's guard name."}}}
        """
            .formatted(schema));
  }

  private static ObjectNode list(String schema) {
    return parse(
        """
        {"type": "object", "properties": {
          "total": {"type": "integer"},
          "list": {"type": "array", "items": {"$ref": "#/components/schemas/%s.item"}}}}
        """
            .formatted(schema));
  }

  private static void addParameters(ObjectNode params) {
    params.set("id", pathParam("id", "The object's id."));
    params.set(
        "page",
        queryParam("page", "integer", "The page of a list, from 1.").put("required", false));
    params.set("page_size", queryParam("page_size", "integer", "Objects per page, 10 to 500."));
    params.set("name", queryParam("name", "string", "Only objects whose name contains this."));
    params.set(
        "label", queryParam("label", "string", "Only objects with this label (key or key:value)."));
    params.set("uri", queryParam("uri", "string", "Only routes whose uri or uris contain this."));
    params.set(
        "force",
        queryParam(
            "force", "boolean", "Delete even when other objects still use it (they break)."));
    params.set(
        "subsystem",
        queryParam("subsystem", "string", "http (the default) or stream.")
            .<ObjectNode>set(
                "schema", parse("{\"type\": \"string\", \"enum\": [\"http\", \"stream\"]}")));
    params.set(
        "If-Match",
        obj()
            .put("name", "If-Match")
            .put("in", "header")
            .put(
                "description",
                "Write only if the object is still at this modifiedIndex (else 409).")
            .set("schema", obj().put("type", "string")));
    params.set(
        "If-None-Match",
        obj()
            .put("name", "If-None-Match")
            .put("in", "header")
            .put("description", "*: create only, 409 if the object exists.")
            .set("schema", obj().put("type", "string")));
  }

  private static void addResponses(ObjectNode responses) {
    for (var r :
        Map.of(
                "BadRequest", "Invalid: error_msg names the field and what was expected.",
                "Unauthorized", "No key, or a wrong one.",
                "Forbidden", "A viewer key writing, or a client outside allow_admin.",
                "NotFound", "No such object.",
                "Conflict",
                    "The object changed since the revision named, or is owned by the Archway operator.")
            .entrySet()) {
      responses.set(r.getKey(), response(r.getValue(), ref("#/components/schemas/error")));
    }
  }

  // ---- JSON Schema draft-07 → OpenAPI 3.0 ----

  private static final Set<String> DROPPED = Set.of("$schema", "$id");

  /** {@code schema} in OpenAPI 3.0's dialect (see the class comment); a new tree. */
  static JsonNode convert(JsonNode schema) {
    if (!schema.isObject()) {
      return schema.deepCopy();
    }
    var in = (ObjectNode) schema;
    var out = obj();
    for (var e : in.properties()) {
      var k = e.getKey();
      var v = e.getValue();
      if (DROPPED.contains(k)) {
        continue;
      }
      switch (k) {
        case "properties", "patternProperties" -> {
          if (k.equals("patternProperties")) {
            // No patternProperties in 3.0: the first pattern's schema stands for other fields.
            if (!in.has("additionalProperties") && v.size() > 0) {
              out.set("additionalProperties", convert(v.elements().next()));
            }
            continue;
          }
          var props = out.putObject(k);
          v.properties().forEach(p -> props.set(p.getKey(), convert(p.getValue())));
        }
        case "items", "additionalProperties", "not" ->
            out.set(k, v.isObject() ? convert(v) : v.deepCopy());
        case "allOf", "anyOf", "oneOf" -> {
          var list = out.putArray(k);
          v.forEach(s -> list.add(convert(s)));
        }
        case "type" -> {
          if (v.isArray()) {
            var types = arr();
            for (var t : v) {
              if (t.asText().equals("null")) {
                out.put("nullable", true);
              } else {
                types.add(t);
              }
            }
            if (types.size() == 1) {
              out.set("type", types.get(0));
            } else {
              var any = out.withArray("anyOf");
              types.forEach(t -> any.add(obj().set("type", t)));
            }
          } else {
            out.set("type", v.deepCopy());
          }
        }
        case "const" -> out.putArray("enum").add(v.deepCopy());
        case "exclusiveMinimum", "exclusiveMaximum" -> {
          if (v.isNumber()) {
            out.set(k.equals("exclusiveMinimum") ? "minimum" : "maximum", v.deepCopy());
            out.put(k, true);
          }
        }
        case "examples" -> {
          if (v.isArray() && v.size() > 0) {
            out.set("example", v.get(0).deepCopy());
          }
        }
        case "required" -> {
          if (v.size() > 0) {
            out.set(k, v.deepCopy());
          }
        }
        default -> out.set(k, v.deepCopy());
      }
    }
    return out;
  }

  /** A kind's {@code plugins} names every plugin's schema (keeping its description). */
  private static JsonNode withPluginRefs(JsonNode kind) {
    var props = kind.path("properties");
    if (props.has("plugins")) {
      var plugins = props.get("plugins");
      var replaced = obj();
      if (plugins.has("description")) {
        replaced.set("description", plugins.get("description"));
      }
      replaced.putArray("allOf").add(ref("#/components/schemas/plugins"));
      ((ObjectNode) props).set("plugins", replaced);
    }
    return kind;
  }

  static ObjectNode obj() {
    return ModelJson.mapper().createObjectNode();
  }

  static ArrayNode arr() {
    return ModelJson.mapper().createArrayNode();
  }

  static ObjectNode parse(String json) {
    try {
      return (ObjectNode) ModelJson.mapper().readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
