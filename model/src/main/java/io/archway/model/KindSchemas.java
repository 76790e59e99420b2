package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JSON Schema of each kind of object ({@code io/archway/model/kinds/<name>.json}, e.g. {@code
 * route}): APISIX's fields with their types, enums, defaults and descriptions, for the Admin API's
 * {@code GET /apisix/admin/schema/{name}}, its OpenAPI document and the Studio's forms.
 *
 * <p>They describe; they do not decide. The Java readers ({@link Route#read} and the others,
 * through {@link ModelJson#read}) are what validates an object, with the messages the product
 * gives; a model test checks that every schema accepts every valid shared fixture and rejects the
 * invalid ones, so the two cannot drift apart. What only the readers can check (a plugin flow's
 * conditions and loops, each plugin's configuration against its own schema) is said in the schemas'
 * descriptions.
 *
 * <p>The files share parts through {@code {"$ref": "file.json"}} or {@code {"$ref":
 * "file.json#/json/pointer"}} (the kinds' common fields are in {@code _common.json}); a ref is
 * inlined when a schema is loaded, the ref's sibling keywords added over what it names, so what is
 * served is one self-contained schema, as APISIX serves them.
 */
public final class KindSchemas {

  private KindSchemas() {}

  private static final String DIR = "io/archway/model/kinds/";
  private static final int MAX_DEPTH = 16;
  private static final Map<String, Optional<Loaded>> SCHEMAS = new ConcurrentHashMap<>();

  private record Loaded(JsonNode json, JsonSchema schema) {}

  /** The schema's name of a kind, as the Admin API's {@code /schema/} path names it. */
  public static String name(Kind kind) {
    return switch (kind) {
      case ROUTES -> "route";
      case UPSTREAMS -> "upstream";
      case SERVICES -> "service";
      case CONSUMERS -> "consumer";
      case PLUGIN_CONFIGS -> "plugin_config";
      case GLOBAL_RULES -> "global_rule";
      case SSLS -> "ssl";
      case STREAM_ROUTES -> "stream_route";
      case PLUGIN_METADATA -> "plugin_metadata";
      case PLUGIN_FLOWS -> "plugin_flow";
      case CREDENTIALS -> "credential";
      case CONSUMER_GROUPS -> "consumer_group";
      case PROTOS -> "proto";
      case SECRETS -> "secret";
      case LISTENERS -> "listener";
    };
  }

  /** The kind a schema name names, or empty. */
  public static Optional<Kind> kind(String name) {
    for (var k : Kind.values()) {
      if (name(k).equals(name)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  /** The schema of {@code kind}, with its refs inlined (a copy the caller may change). */
  public static JsonNode json(Kind kind) {
    return loaded(kind).json().deepCopy();
  }

  /** The schema of {@code kind}, ready to validate with. */
  public static JsonSchema schema(Kind kind) {
    return loaded(kind).schema();
  }

  private static Loaded loaded(Kind kind) {
    return SCHEMAS
        .computeIfAbsent(name(kind), KindSchemas::load)
        .orElseThrow(() -> new IllegalStateException("no schema file for " + name(kind)));
  }

  private static Optional<Loaded> load(String name) {
    var file = name + ".json";
    var raw = read(file);
    if (raw == null) {
      return Optional.empty();
    }
    try {
      var json = resolve(raw, file, 0);
      return Optional.of(new Loaded(json, JsonSchema.parse(json, DIR + file)));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("kind schema " + DIR + file + ": " + e.getMessage(), e);
    }
  }

  private static JsonNode read(String file) {
    try (var in = KindSchemas.class.getClassLoader().getResourceAsStream(DIR + file)) {
      return in == null ? null : ModelJson.mapper().readTree(in);
    } catch (IOException e) {
      throw new IllegalStateException("kind schema " + DIR + file + ": " + e.getMessage(), e);
    }
  }

  /** {@code node} with every {@code $ref} replaced by what it names. */
  private static JsonNode resolve(JsonNode node, String file, int depth) {
    if (depth > MAX_DEPTH) {
      throw new IllegalArgumentException("$ref nested deeper than " + MAX_DEPTH + " (a cycle?)");
    }
    if (node instanceof ObjectNode o) {
      var ref = o.get("$ref");
      if (ref != null) {
        if (!ref.isTextual()) {
          throw new IllegalArgumentException(file + ": $ref must be a string");
        }
        var target = target(ref.textValue(), file);
        var out = (ObjectNode) resolve(target, file, depth + 1);
        o.properties()
            .forEach(
                e -> {
                  if (!e.getKey().equals("$ref")) {
                    out.set(e.getKey(), resolve(e.getValue(), file, depth + 1));
                  }
                });
        return out;
      }
      var out = o.objectNode();
      o.properties().forEach(e -> out.set(e.getKey(), resolve(e.getValue(), file, depth)));
      return out;
    }
    if (node instanceof ArrayNode a) {
      var out = a.arrayNode();
      a.forEach(item -> out.add(resolve(item, file, depth)));
      return out;
    }
    return node;
  }

  /** What a ref names: a whole file, or a pointer into one; a copy. */
  private static JsonNode target(String ref, String from) {
    int hash = ref.indexOf('#');
    var file = hash < 0 ? ref : ref.substring(0, hash);
    var pointer = hash < 0 ? "" : ref.substring(hash + 1);
    var doc = read(file);
    if (doc == null) {
      throw new IllegalArgumentException(from + ": $ref " + ref + ": no such file");
    }
    var target = pointer.isEmpty() ? doc : doc.at(pointer);
    if (!target.isObject()) {
      throw new IllegalArgumentException(from + ": $ref " + ref + ": not a schema");
    }
    var copy = (ObjectNode) target.deepCopy();
    // A whole kind used inside another: its annotations of a document are not the field's.
    copy.remove("$schema");
    copy.remove("title");
    return copy;
  }
}
