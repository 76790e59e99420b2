package io.archway.dataplane.admin;

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

  /** The resources with an id, in APISIX's order, and Archway's plugin_flows. */
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
          new Resource("plugin_flows", "plugin_flow", true, true, true));

  /** Schemas of resources the model has no kind for: the server checks them itself. */
  private static final Map<String, String> OWN_SCHEMAS =
      Map.of(
          "consumer_group",
          """
          {"type": "object", "description": "Plugins shared by the consumers naming it with group_id.",
           "properties": {"id": {"type": "string"}, "desc": {"type": "string", "maxLength": 256},
             "plugins": {"$ref": "#/components/schemas/plugins"},
             "labels": {"type": "object", "additionalProperties": {"type": "string"}}},
           "required": ["plugins"]}
          """,
          "credential",
          """
          {"type": "object", "description": "One credential of a consumer: one authentication plugin's configuration.",
           "properties": {"id": {"type": "string"}, "desc": {"type": "string", "maxLength": 256},
             "plugins": {"$ref": "#/components/schemas/plugins"},
             "labels": {"type": "object", "additionalProperties": {"type": "string"}}},
           "required": ["plugins"]}
          """,
          "proto",
          """
          {"type": "object", "description": "A protobuf definition grpc-transcode refers to by proto_id.",
           "properties": {"id": {"type": "string"}, "desc": {"type": "string", "maxLength": 256},
             "content": {"type": "string", "minLength": 1},
             "labels": {"type": "object", "additionalProperties": {"type": "string"}}},
           "required": ["content"]}
          """,
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
    return doc;
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

  // ---- paths ----

  private static void addResource(ObjectNode paths, Resource r) {
    var collection = paths.putObject(BASE + "/" + r.dir());
    var itemRef = "#/components/schemas/" + r.schema() + ".item";
    var listOp = op(collection, "get", "List " + r.dir() + ".", r.dir());
    params(listOp, "page", "page_size", "name", "label");
    if (r.dir().equals("routes")) {
      params(listOp, "uri");
    }
    ok(listOp, "#/components/schemas/" + r.schema() + ".list");
    if (r.post()) {
      var post = op(collection, "post", "Create with a generated id.", r.dir());
      body(post, r.schema());
      created(post, itemRef);
    }
    if (r.dir().equals("consumers")) {
      var put =
          op(collection, "put", "Create or replace; the id is username in the body.", r.dir());
      body(put, r.schema());
      ok(put, itemRef);
    }
    var item = paths.putObject(BASE + "/" + r.dir() + "/{id}");
    item.putArray("parameters").add(ref("#/components/parameters/id"));
    ok(op(item, "get", "One object.", r.dir()), itemRef);
    var put = op(item, "put", "Create or replace.", r.dir());
    params(put, "If-Match", "If-None-Match");
    body(put, r.schema());
    ok(put, itemRef);
    if (r.patch()) {
      var patch =
          op(item, "patch", "Merge the body into the object (RFC 7396 merge patch).", r.dir());
      params(patch, "If-Match");
      body(patch, r.schema());
      ok(patch, itemRef);
      var sub = paths.putObject(BASE + "/" + r.dir() + "/{id}/{field}");
      sub.putArray("parameters")
          .add(ref("#/components/parameters/id"))
          .add(pathParam("field", "A top-level field, e.g. plugins: the body replaces it."));
      var subPatch = op(sub, "patch", "Replace one field of the object.", r.dir());
      params(subPatch, "If-Match");
      subPatch
          .putObject("requestBody")
          .put("required", true)
          .putObject("content")
          .putObject("application/json")
          .putObject("schema");
      ok(subPatch, itemRef);
    }
    var delete = op(item, "delete", "Delete.", r.dir());
    params(delete, "If-Match");
    if (r.force()) {
      params(delete, "force");
    }
    ok(delete, "#/components/schemas/" + r.schema() + ".item");
  }

  private static void addConsumerCredentials(ObjectNode paths) {
    var id = ref("#/components/parameters/id");
    var coll = paths.putObject(BASE + "/consumers/{id}/credentials");
    coll.putArray("parameters").add(id.deepCopy());
    ok(
        op(coll, "get", "The consumer's credentials.", "consumers"),
        "#/components/schemas/credential.list");
    var item = paths.putObject(BASE + "/consumers/{id}/credentials/{credential}");
    item.putArray("parameters")
        .add(id.deepCopy())
        .add(pathParam("credential", "The credential's id."));
    var itemRef = "#/components/schemas/credential.item";
    ok(op(item, "get", "One credential; secrets masked.", "consumers"), itemRef);
    var put = op(item, "put", "Create or replace a credential.", "consumers");
    body(put, "credential");
    ok(put, itemRef);
    ok(op(item, "delete", "Delete a credential.", "consumers"), itemRef);
  }

  private static void addPluginMetadata(ObjectNode paths) {
    var coll = paths.putObject(BASE + "/plugin_metadata");
    ok(
        op(coll, "get", "Every plugin's metadata.", "plugin_metadata"),
        "#/components/schemas/plugin_metadata.list");
    var item = paths.putObject(BASE + "/plugin_metadata/{plugin}");
    item.putArray("parameters").add(pathParam("plugin", "The plugin's name."));
    var itemRef = "#/components/schemas/plugin_metadata.item";
    ok(op(item, "get", "One plugin's metadata.", "plugin_metadata"), itemRef);
    var put = op(item, "put", "Set one plugin's metadata.", "plugin_metadata");
    body(put, "plugin_metadata");
    ok(put, itemRef);
    ok(op(item, "delete", "Delete one plugin's metadata.", "plugin_metadata"), itemRef);
  }

  private static void addSecrets(ObjectNode paths) {
    var coll = paths.putObject(BASE + "/secrets");
    ok(
        op(coll, "get", "Every secret manager's settings.", "secrets"),
        "#/components/schemas/secret.list");
    var item = paths.putObject(BASE + "/secrets/{manager}/{id}");
    item.putArray("parameters")
        .add(pathParam("manager", "The secret manager, e.g. vault."))
        .add(ref("#/components/parameters/id"));
    var itemRef = "#/components/schemas/secret.item";
    ok(op(item, "get", "One secret manager's settings; secrets masked.", "secrets"), itemRef);
    for (var m : List.of("put", "patch")) {
      var write = op(item, m, m.equals("put") ? "Create or replace." : "Merge into.", "secrets");
      body(write, "secret");
      ok(write, itemRef);
    }
    ok(op(item, "delete", "Delete.", "secrets"), itemRef);
  }

  private static void addHelpers(ObjectNode paths) {
    var configs = paths.putObject(BASE + "/configs");
    var getConfigs = op(configs, "get", "Standalone mode: the whole config.", "configs");
    okAny(getConfigs, "The whole config, as the standalone file has it; X-Digest names it.");
    var putConfigs =
        op(configs, "put", "Standalone mode: replace the whole config at once.", "configs");
    putConfigs
        .withArray("parameters")
        .add(
            obj()
                .put("name", "X-Digest")
                .put("in", "header")
                .put("description", "The digest of the config sent; an equal one changes nothing.")
                .set("schema", obj().put("type", "string")));
    putConfigs
        .putObject("requestBody")
        .put("required", true)
        .putObject("content")
        .putObject("application/json")
        .putObject("schema")
        .put("type", "object");
    okAny(putConfigs, "Applied.");

    var list = paths.putObject(BASE + "/plugins/list");
    var listOp = op(list, "get", "The names of the plugins, highest priority first.", "plugins");
    params(listOp, "subsystem");
    listOp
        .withObject("/responses")
        .set(
            "200",
            response(
                "Plugin names.",
                parse("{\"type\": \"array\", \"items\": {\"type\": \"string\"}}")));

    var all = paths.putObject(BASE + "/plugins");
    var allOp = op(all, "get", "Every plugin with its priority and schema (all=true).", "plugins");
    params(allOp, "subsystem");
    allOp.withArray("parameters").add(queryParam("all", "boolean", "Must be true."));
    okAny(allOp, "Plugin name to {priority, schema, phases, results}.");

    var reload = paths.putObject(BASE + "/plugins/reload");
    okAny(op(reload, "put", "Reload the plugins' settings.", "plugins"), "done");

    var plugin = paths.putObject(BASE + "/plugins/{name}");
    plugin.putArray("parameters").add(pathParam("name", "The plugin's name."));
    var pluginOp = op(plugin, "get", "The plugin's JSON Schema.", "plugins");
    params(pluginOp, "subsystem");
    okAny(pluginOp, "A JSON Schema (components/schemas/plugin.<name>).");

    var pluginSchema = paths.putObject(BASE + "/schema/plugins/{name}");
    pluginSchema.putArray("parameters").add(pathParam("name", "The plugin's name."));
    var psOp = op(pluginSchema, "get", "The plugin's JSON Schema.", "schema");
    params(psOp, "subsystem");
    okAny(psOp, "A JSON Schema (components/schemas/plugin.<name>).");

    for (var k : Kind.values()) {
      var name = KindSchemas.name(k);
      var p = paths.putObject(BASE + "/schema/" + name);
      okAny(
          op(p, "get", "The JSON Schema of a " + name + ".", "schema"),
          "A JSON Schema (components/schemas/" + name + ").");
    }
    var meta = paths.putObject(BASE + "/schema/plugin_metadata/{plugin}");
    meta.putArray("parameters").add(pathParam("plugin", "The plugin's name."));
    okAny(op(meta, "get", "The JSON Schema of a plugin's metadata.", "schema"), "A JSON Schema.");

    var openapi = paths.putObject(BASE + "/openapi.json");
    okAny(op(openapi, "get", "This document.", "schema"), "An OpenAPI 3.0 document.");
  }

  // ---- building blocks ----

  private static ObjectNode op(ObjectNode path, String method, String summary, String tag) {
    var op = path.putObject(method);
    op.put("summary", summary);
    op.putArray("tags").add(tag);
    var responses = op.putObject("responses");
    for (var e :
        Map.of("400", "BadRequest", "401", "Unauthorized", "403", "Forbidden").entrySet()) {
      responses.set(e.getKey(), ref("#/components/responses/" + e.getValue()));
    }
    if (method.equals("get") || method.equals("delete") || method.equals("patch")) {
      responses.set("404", ref("#/components/responses/NotFound"));
    }
    if (!method.equals("get")) {
      responses.set("409", ref("#/components/responses/Conflict"));
    }
    return op;
  }

  private static void params(ObjectNode op, String... names) {
    var list = op.withArray("parameters");
    for (var n : names) {
      list.add(ref("#/components/parameters/" + n));
    }
  }

  private static void body(ObjectNode op, String schema) {
    op.putObject("requestBody")
        .put("required", true)
        .putObject("content")
        .putObject("application/json")
        .set("schema", ref("#/components/schemas/" + schema));
  }

  /** A 200 whose body has schema {@code ref}. */
  private static void ok(ObjectNode op, String ref) {
    op.withObject("/responses").set("200", response("OK", ref(ref)));
  }

  private static void created(ObjectNode op, String ref) {
    op.withObject("/responses").set("201", response("Created", ref(ref)));
  }

  private static void okAny(ObjectNode op, String description) {
    op.withObject("/responses").set("200", response(description, obj()));
  }

  private static ObjectNode response(String description, JsonNode schema) {
    var r = obj();
    r.put("description", description);
    r.putObject("content").putObject("application/json").set("schema", schema);
    return r;
  }

  private static ObjectNode pathParam(String name, String description) {
    return obj()
        .put("name", name)
        .put("in", "path")
        .put("required", true)
        .put("description", description)
        .set("schema", obj().put("type", "string"));
  }

  private static ObjectNode queryParam(String name, String type, String description) {
    return obj()
        .put("name", name)
        .put("in", "query")
        .put("description", description)
        .set("schema", obj().put("type", type));
  }

  private static ObjectNode ref(String to) {
    return obj().put("$ref", to);
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

  private static ObjectNode obj() {
    return ModelJson.mapper().createObjectNode();
  }

  private static ArrayNode arr() {
    return ModelJson.mapper().createArrayNode();
  }

  private static ObjectNode parse(String json) {
    try {
      return (ObjectNode) ModelJson.mapper().readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
