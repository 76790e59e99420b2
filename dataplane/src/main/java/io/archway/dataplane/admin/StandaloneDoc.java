package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.ValidationException;
import io.archway.model.source.StandaloneFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The whole config in APISIX's standalone shape ({@code routes:}, {@code upstreams:}, ... each a
 * list of objects), read into store keys and written back. Credentials (id {@code
 * <username>/credentials/<id>}) are read from {@code consumers:} (APISIX's form, how they are
 * written back) or a {@code credentials:} section. Besides the model's sections it keeps the
 * resources the dataplane stores but does not act on: {@code secrets} (id {@code <manager>/<id>}).
 * APISIX 3.x's {@code <section>_conf_version} fields are accepted and ignored.
 */
final class StandaloneDoc {

  static final ObjectMapper YAML =
      new ObjectMapper(
          // Files up to StandaloneFile.MAX_CODE_POINTS, as the standalone source reads them.
          StandaloneFile.yamlFactoryBuilder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .build());

  private static final List<String> EXTRA_SECTIONS = List.of("secrets");

  private StandaloneDoc() {}

  /**
   * The objects of {@code root} by store key, each with its id in its value (an object without one
   * gets its 1-based position, as APISIX gives it); every problem is added to {@code problems},
   * named {@code <name>: <section>/<id>: ...}.
   */
  static Map<String, ObjectNode> items(JsonNode root, String name, List<String> problems) {
    return items(root, name, problems, (key, item) -> null);
  }

  /**
   * {@link #items(JsonNode, String, List)}, each object first given to {@code prepare} with its
   * store key, before it is checked: what it answers, if not {@code null}, is the object's problem.
   */
  static Map<String, ObjectNode> items(
      JsonNode root,
      String name,
      List<String> problems,
      BiFunction<String, ObjectNode, String> prepare) {
    var out = new LinkedHashMap<String, ObjectNode>();
    if (root == null || root.isNull() || root.isMissingNode()) {
      return out;
    }
    if (!root.isObject()) {
      problems.add(name + ": top level is not a mapping (expected: sections such as routes:)");
      return out;
    }
    for (var section : root.properties()) {
      var dir = section.getKey();
      if (dir.endsWith("_conf_version")) {
        continue;
      }
      var kind = Kind.ofDir(dir).orElse(null);
      if (kind == null && !EXTRA_SECTIONS.contains(dir)) {
        problems.add(name + ": " + dir + ": unknown section (expected one of: " + sections() + ")");
        continue;
      }
      var list = section.getValue();
      if (list.isNull()) {
        continue;
      }
      if (!list.isArray()) {
        problems.add(name + ": " + dir + ": not a list (expected: a list of objects)");
        continue;
      }
      for (int i = 0; i < list.size(); i++) {
        if (!list.get(i).isObject()) {
          problems.add(name + ": " + dir + "[" + i + "]: not an object");
          continue;
        }
        var item = ((ObjectNode) list.get(i)).deepCopy();
        // APISIX lists credentials among the consumers, with their whole id.
        var credential = StandaloneFile.credentialInConsumers(kind, item);
        var itemKind = credential ? Kind.CREDENTIALS : kind;
        var itemDir = credential ? AdminPaths.CREDENTIALS : dir;
        var idField = itemKind == null ? "id" : itemKind.idField();
        var idNode = item.get(idField);
        boolean given = idNode != null && idNode.isValueNode() && !idNode.isNull();
        var where = name + ": " + dir + (given ? "/" + idNode.asText() : "[" + i + "]");
        if (!given && itemKind != Kind.CONSUMERS) {
          item.put(idField, Integer.toString(i + 1));
        }
        var id = item.path(idField).asText("");
        var key = key(itemDir, id);
        if (key == null) {
          problems.add(
              where + ": " + idField + ": \"" + id + "\" (expected: " + idShape(itemDir) + ")");
          continue;
        }
        var problem = prepare.apply(key, item);
        if (problem != null) {
          problems.add(where + ": " + problem);
          continue;
        }
        if (itemKind != null) {
          try {
            ModelJson.read(itemKind, item, null, where);
          } catch (ValidationException e) {
            problems.addAll(e.lines());
            continue;
          }
        }
        if (dir.equals("secrets") || itemDir.equals(AdminPaths.CREDENTIALS)) {
          // The Admin API's value has the last part; the section needs the whole path.
          item.put("id", id.substring(id.lastIndexOf('/') + 1));
        }
        if (out.putIfAbsent(key, item) != null) {
          problems.add(where + ": duplicate id \"" + id + "\" in " + itemDir);
        }
      }
    }
    return out;
  }

  /** The store key of the object {@code id} in section {@code dir}, or {@code null}. */
  private static String key(String dir, String id) {
    var parts = id.split("/", -1);
    return switch (dir) {
      case "secrets" ->
          parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty() ? "secrets/" + id : null;
      case AdminPaths.CREDENTIALS ->
          parts.length == 3 && parts[1].equals("credentials") && !parts[0].isEmpty()
              ? "consumers/" + id
              : null;
      default -> id.isEmpty() || parts.length != 1 ? null : dir + "/" + id;
    };
  }

  private static String idShape(String dir) {
    return switch (dir) {
      case "secrets" -> "<manager>/<id>";
      case AdminPaths.CREDENTIALS -> "<username>/credentials/<id>";
      default -> "an id without /";
    };
  }

  /** The section a store key belongs in, and the id it has there. */
  static String[] sectionOf(String key) {
    if (key.startsWith("consumers/") && key.indexOf('/', "consumers/".length()) > 0) {
      return new String[] {AdminPaths.CREDENTIALS, key.substring("consumers/".length())};
    }
    int slash = key.indexOf('/');
    return new String[] {key.substring(0, slash), key.substring(slash + 1)};
  }

  /** The config as one document: the model's sections first, each sorted by key. */
  static ObjectNode document(Map<String, ObjectNode> values) {
    var root = JsonNodeFactory.instance.objectNode();
    for (var kind : Kind.values()) {
      root.putArray(kind.dir());
    }
    EXTRA_SECTIONS.forEach(root::putArray);
    new java.util.TreeMap<>(values)
        .forEach(
            (key, value) -> {
              var section = sectionOf(key);
              var v = value;
              if (section[0].equals("secrets") || section[0].equals(AdminPaths.CREDENTIALS)) {
                v = value.deepCopy().put("id", section[1]);
              }
              // Credentials in consumers:, after their consumer (key order), as APISIX lists
              // them: the file stays APISIX's, and ADC diffs GET configs in that shape.
              var into =
                  section[0].equals(AdminPaths.CREDENTIALS) ? Kind.CONSUMERS.dir() : section[0];
              root.withArray(into).add(v);
            });
    var empty = new ArrayList<String>();
    root.properties()
        .forEach(
            e -> {
              if (e.getValue().isEmpty()) empty.add(e.getKey());
            });
    root.remove(empty);
    return root;
  }

  /** The standalone file's text for {@code values}, ending with the {@code #END} line. */
  static byte[] yaml(Map<String, ObjectNode> values) throws IOException {
    var text = YAML.writeValueAsString(document(values));
    return (text + "#END\n").getBytes(StandardCharsets.UTF_8);
  }

  private static String sections() {
    var all = new ArrayList<String>();
    for (var k : Kind.values()) {
      all.add(k.dir());
    }
    all.addAll(EXTRA_SECTIONS);
    // (credentials may also be in consumers:, with ids <username>/credentials/<id>)
    return String.join(", ", all);
  }
}
