package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** PATCH: a JSON merge patch (RFC 7386) of a whole object, or a new value for one part of it. */
final class JsonMerge {

  private JsonMerge() {}

  /**
   * Merges {@code patch} into {@code target}: objects merge, {@code null} removes, the rest
   * replaces.
   */
  static void merge(ObjectNode target, ObjectNode patch) {
    for (var e : patch.properties()) {
      var v = e.getValue();
      var old = target.get(e.getKey());
      if (v.isNull()) {
        target.remove(e.getKey());
      } else if (v.isObject() && old != null && old.isObject()) {
        merge((ObjectNode) old, (ObjectNode) v);
      } else {
        target.set(e.getKey(), v);
      }
    }
  }

  /**
   * Sets the part of {@code target} at {@code path} ({@code upstream/nodes}) to {@code value},
   * making the objects on the way; an array element is named by its index.
   *
   * @throws ResourceApi.BadRequest when the path crosses a value that is neither object nor array
   */
  static void replace(ObjectNode target, List<String> path, JsonNode value)
      throws ResourceApi.BadRequest {
    JsonNode at = target;
    for (int i = 0; i < path.size() - 1; i++) {
      var name = path.get(i);
      at = child(at, name, path, true);
    }
    var last = path.get(path.size() - 1);
    if (at instanceof ObjectNode o) {
      o.set(last, value);
    } else if (at instanceof ArrayNode a && index(last, a.size() + 1) >= 0) {
      int i = index(last, a.size() + 1);
      if (i == a.size()) {
        a.add(value);
      } else {
        a.set(i, value);
      }
    } else {
      throw bad(path);
    }
  }

  private static JsonNode child(JsonNode at, String name, List<String> path, boolean make)
      throws ResourceApi.BadRequest {
    if (at instanceof ObjectNode o) {
      var c = o.get(name);
      if (c == null || c.isNull()) {
        return o.putObject(name);
      }
      if (c.isContainerNode()) {
        return c;
      }
    } else if (at instanceof ArrayNode a) {
      int i = index(name, a.size());
      if (i >= 0 && a.get(i).isContainerNode()) {
        return a.get(i);
      }
    }
    throw bad(path);
  }

  private static int index(String s, int size) {
    try {
      int i = Integer.parseInt(s);
      return i >= 0 && i < size ? i : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static ResourceApi.BadRequest bad(List<String> path) {
    return new ResourceApi.BadRequest(
        400, "cannot set " + String.join("/", path) + " (expected: a path through objects)");
  }
}
