package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Lua table as body-transformer's templates see the decoded body: an array part (keys 1..n) and a
 * hash part (string keys, and numbers outside the sequence). {@code pairs} order is the array part,
 * then the hash part in insertion order (Lua's is unspecified).
 */
final class LuaTable {

  /** cjson's {@code null} (a JSON null): truthy, not {@code nil}, written as nothing. */
  static final Object NULL =
      new Object() {
        @Override
        public String toString() {
          return "null";
        }
      };

  final List<Object> array = new ArrayList<>();
  final Map<Object, Object> hash = new LinkedHashMap<>();

  /** A raw read; {@code null} is nil. */
  Object get(Object key) {
    if (key instanceof Double d) {
      double v = d;
      if (v == Math.rint(v) && v >= 1 && v <= array.size()) {
        return array.get((int) v - 1);
      }
    }
    return key == null ? null : hash.get(key);
  }

  /** A raw write ({@code value == null} removes the key). */
  void put(Object key, Object value) {
    if (key instanceof Double d && d == Math.rint(d) && d >= 1 && d <= array.size() + 1) {
      int i = (int) (double) d;
      if (i <= array.size()) {
        if (value == null && i == array.size()) {
          array.remove(i - 1);
        } else if (value == null) {
          // A hole: keep the rest in the hash part so # stays the border before it.
          for (int j = array.size(); j > i; j--) {
            hash.put((double) j, array.remove(j - 1));
          }
          array.remove(i - 1);
        } else {
          array.set(i - 1, value);
        }
        return;
      }
      if (value != null) {
        array.add(value);
        // Numbers that were in the hash part now follow the sequence.
        Object next;
        while ((next = hash.remove((double) (array.size() + 1))) != null) {
          array.add(next);
        }
      }
      return;
    }
    if (value == null) {
      hash.remove(key);
    } else {
      hash.put(key, value);
    }
  }

  /** Appends, as {@code table.insert(t, v)}. */
  void add(Object value) {
    put((double) (array.size() + 1), value);
  }

  int length() {
    return array.size();
  }

  boolean isEmpty() {
    return array.isEmpty() && hash.isEmpty();
  }

  /** A JSON value as cjson decodes it: objects and arrays are tables, numbers doubles. */
  static Object fromJson(JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return null;
    }
    if (n.isNull()) {
      return NULL;
    }
    if (n.isObject()) {
      var t = new LuaTable();
      n.fields().forEachRemaining(e -> t.hash.put(e.getKey(), fromJson(e.getValue())));
      return t;
    }
    if (n.isArray()) {
      var t = new LuaTable();
      for (var e : n) {
        // cjson keeps JSON nulls in arrays as cjson.null, so the sequence has no holes.
        t.array.add(fromJson(e));
      }
      return t;
    }
    if (n.isNumber()) {
      return n.asDouble();
    }
    if (n.isBoolean()) {
      return n.asBoolean();
    }
    return n.asText();
  }
}
