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
