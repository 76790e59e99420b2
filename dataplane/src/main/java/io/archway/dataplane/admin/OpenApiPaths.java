package io.archway.dataplane.admin;

import static io.archway.dataplane.admin.OpenApi.BASE;
import static io.archway.dataplane.admin.OpenApi.obj;
import static io.archway.dataplane.admin.OpenApi.parse;
import static io.archway.dataplane.admin.OpenApi.pluginSchema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.archway.model.KindSchemas;
import java.util.List;
import java.util.Map;

/**
 * The {@code paths} of {@link OpenApi}'s document: each resource's operations, the helpers', and
 * the building blocks they are made of. Apart from the components so that each part reads whole.
 */
final class OpenApiPaths {

  private OpenApiPaths() {}

  // ---- paths ----

  static void addResource(ObjectNode paths, OpenApi.Resource r) {
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

  static void addConsumerCredentials(ObjectNode paths) {
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

  static void addPluginMetadata(ObjectNode paths) {
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

  static void addSecrets(ObjectNode paths) {
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

  static void addHelpers(ObjectNode paths) {
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
    pluginOp
        .withArray("parameters")
        .add(
            queryParam(
                "schema_type",
                "string",
                "consumer: the consumer-side schema of an authentication plugin (what a consumer's"
                    + " or a credential's configuration holds); 400 for other plugins."));
    okAny(pluginOp, "A JSON Schema (components/schemas/plugin.<name>).");

    var pluginSchema = paths.putObject(BASE + "/schema/plugins/{name}");
    pluginSchema.putArray("parameters").add(pathParam("name", "The plugin's name."));
    var psOp = op(pluginSchema, "get", "The plugin's JSON Schema.", "schema");
    params(psOp, "subsystem");
    psOp.withArray("parameters")
        .add(
            queryParam(
                "schema_type",
                "string",
                "consumer: the consumer-side schema of an authentication plugin (what a consumer's"
                    + " or a credential's configuration holds); 400 for other plugins."));
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

  /**
   * The PluginFlow Studio's calls: a flow's dry-run (saved or in the body), its live counts, and
   * APISIX's {@code schema/validate/{resource}}.
   */
  static void addStudio(ObjectNode paths) {
    var trace =
        parse(
            """
            {"type": "object", "properties": {
              "steps": {"type": "array", "items": {"type": "object", "properties": {
                "node": {"type": "string"}, "plugin": {"type": "string"},
                "phase": {"type": "string", "enum": ["rewrite", "access"]},
                "outcome": {"type": "string", "enum": ["continue", "respond", "error"]},
                "status": {"type": "integer"},
                "published": {"type": "object", "additionalProperties": {"type": "string"}},
                "simulated": {"type": "string",
                              "description": "What a side effect would have done."},
                "error_msg": {"type": "string"}, "duration_us": {"type": "integer"}}}},
              "edges": {"type": "array", "items": {"type": "object", "properties": {
                "from": {"type": "string"}, "to": {"type": "string"},
                "condition": {"type": "string"}}}},
              "response": {"type": "object", "properties": {
                "status": {"type": "integer"},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "body": {"type": "string"}}},
              "logs": {"type": "array", "items": {"type": "object", "properties": {
                "plugin": {"type": "string"}, "node": {"type": "string"},
                "entry": {"type": "object"}}}}}}
            """);
    var request =
        """
        "request": {"type": "object", "required": ["uri"], "properties": {
          "method": {"type": "string", "default": "GET"},
          "uri": {"type": "string", "description": "Path and query, e.g. /get?a=1."},
          "host": {"type": "string"},
          "headers": {"type": "object"},
          "body": {"type": "string", "default": ""},
          "remote_addr": {"type": "string", "default": "127.0.0.1"}}},
        "upstream_response": {"type": "object",
          "description": "Stands in for the upstream (none is called); 200 and empty by default.",
          "properties": {"status": {"type": "integer", "default": 200},
                         "headers": {"type": "object"}, "body": {"type": "string"}}}
        """;
    var saved = paths.putObject(BASE + "/plugin_flows/{id}/dry-run");
    saved.putArray("parameters").add(pathParam("id", "The plugin flow's id."));
    var savedOp =
        op(
            saved,
            "post",
            "Dry-run of the saved flow: no upstream called, no side effect (loggers report their"
                + " entry, limiters count in a throwaway state, plugins that cannot be simulated"
                + " are error steps, never run).",
            "plugin_flows");
    savedOp.withObject("/responses").set("404", ref("#/components/responses/NotFound"));
    jsonBody(savedOp, parse("{\"type\": \"object\", \"properties\": {" + request + "}}"));
    savedOp.withObject("/responses").set("200", response("The trace.", trace));
    var unsaved = paths.putObject(BASE + "/plugin_flows/dry-run");
    var unsavedOp =
        op(unsaved, "post", "Dry-run of an unsaved flow, given as flow.", "plugin_flows");
    jsonBody(
        unsavedOp,
        parse(
            "{\"type\": \"object\", \"required\": [\"flow\", \"request\"], \"properties\": {"
                + "\"flow\": {\"$ref\": \"#/components/schemas/plugin_flow\"}, "
                + request
                + "}}"));
    unsavedOp.withObject("/responses").set("200", response("The trace.", trace));

    var stats = paths.putObject(BASE + "/plugin_flows/{id}/stats");
    stats.putArray("parameters").add(pathParam("id", "The plugin flow's id."));
    var statsOp =
        op(
            stats,
            "get",
            "Live counts of the flow's nodes and edges over the last window seconds.",
            "plugin_flows");
    statsOp
        .withArray("parameters")
        .add(queryParam("window", "integer", "Seconds, 10..3600; 60 by default."));
    statsOp
        .withObject("/responses")
        .set(
            "200",
            response(
                "Counts by node (errors: 5xx or failed, rejected: 4xx) and by edge.",
                parse(
                    """
                    {"type": "object", "properties": {
                      "window": {"type": "integer"},
                      "nodes": {"type": "object", "additionalProperties": {"type": "object",
                        "properties": {"plugin": {"type": "string"}, "runs": {"type": "integer"},
                          "errors": {"type": "integer"}, "rejected": {"type": "integer"}}}},
                      "edges": {"type": "array", "items": {"type": "object", "properties": {
                        "from": {"type": "string"}, "to": {"type": "string"},
                        "condition": {"type": "string"}, "count": {"type": "integer"}}}}}}
                    """)));

    var validate = paths.putObject(BASE + "/schema/validate/{resource}");
    validate
        .putArray("parameters")
        .add(pathParam("resource", "The directory: routes, plugin_configs, plugin_flows, ..."));
    var validateOp =
        op(
            validate,
            "post",
            "Checks a body as a write into the resource would (the same message), writes"
                + " nothing. 200 with an empty body when valid (APISIX's answer).",
            "schema");
    jsonBody(validateOp, obj().put("type", "object"));
    validateOp
        .withObject("/responses")
        .set("200", obj().put("description", "Valid (an empty body)."));
    validateOp.withObject("/responses").set("404", ref("#/components/responses/NotFound"));
  }

  private static void jsonBody(ObjectNode op, JsonNode schema) {
    op.putObject("requestBody")
        .put("required", true)
        .putObject("content")
        .putObject("application/json")
        .set("schema", schema);
  }

  // ---- building blocks ----

  static ObjectNode op(ObjectNode path, String method, String summary, String tag) {
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

  static void params(ObjectNode op, String... names) {
    var list = op.withArray("parameters");
    for (var n : names) {
      list.add(ref("#/components/parameters/" + n));
    }
  }

  static void body(ObjectNode op, String schema) {
    op.putObject("requestBody")
        .put("required", true)
        .putObject("content")
        .putObject("application/json")
        .set("schema", ref("#/components/schemas/" + schema));
  }

  /** A 200 whose body has schema {@code ref}. */
  static void ok(ObjectNode op, String ref) {
    op.withObject("/responses").set("200", response("OK", ref(ref)));
  }

  static void created(ObjectNode op, String ref) {
    op.withObject("/responses").set("201", response("Created", ref(ref)));
  }

  static void okAny(ObjectNode op, String description) {
    op.withObject("/responses").set("200", response(description, obj()));
  }

  static ObjectNode response(String description, JsonNode schema) {
    var r = obj();
    r.put("description", description);
    r.putObject("content").putObject("application/json").set("schema", schema);
    return r;
  }

  static ObjectNode pathParam(String name, String description) {
    return obj()
        .put("name", name)
        .put("in", "path")
        .put("required", true)
        .put("description", description)
        .set("schema", obj().put("type", "string"));
  }

  static ObjectNode queryParam(String name, String type, String description) {
    return obj()
        .put("name", name)
        .put("in", "query")
        .put("description", description)
        .set("schema", obj().put("type", type));
  }

  static ObjectNode ref(String to) {
    return obj().put("$ref", to);
  }
}
