package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ConfigObject;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.ValidationException;
import java.util.Map;

/**
 * Turns the JSON a translator built into a model object, validated exactly as the dataplane will
 * read it; the model's problems are reported on the resource's fields where they map to one.
 */
final class ModelObjects {

  private ModelObjects() {}

  /**
   * @param fields model field → resource field, e.g. {@code uris} → {@code
   *     spec.http[0].match.paths}
   * @param at the resource field for problems that map to none
   */
  static ConfigObject read(
      Kind kind, ObjectNode json, Map<String, String> fields, String at, Translation t) {
    var id = json.get(kind.idField()).asText();
    try {
      return ModelJson.read(kind, json, id, Keys.item(kind, id));
    } catch (ValidationException e) {
      for (var p : e.problems()) {
        var mapped = map(p.path(), fields);
        if (mapped != null) {
          t.error(mapped, p.message());
        } else {
          t.error(at, (p.path().isEmpty() ? "" : p.path() + ": ") + p.message());
        }
      }
      return null;
    }
  }

  private static String map(String path, Map<String, String> fields) {
    for (var e : fields.entrySet()) {
      var model = e.getKey();
      if (path.equals(model)) {
        return e.getValue();
      }
      if (path.startsWith(model + "[") || path.startsWith(model + ".")) {
        return e.getValue() + path.substring(model.length());
      }
    }
    return null;
  }
}
