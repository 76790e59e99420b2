package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.charset.StandardCharsets;

/**
 * Lua's values as {@link LuaTemplate} sees them ({@code nil} is {@code null}, numbers are {@link
 * Double}, tables {@link LuaTable}, {@code cjson.null} {@link LuaTable#NULL}): truth, equality,
 * ordering, arithmetic and concatenation operands, indexing, writing and the helpers' conversions,
 * with the errors Lua raises.
 */
final class LuaValues {

  private LuaValues() {}

  static boolean truthy(Object v) {
    return v != null && !Boolean.FALSE.equals(v);
  }

  static boolean equal(Object x, Object y) {
    if (x == null || y == null) {
      return x == y;
    }
    if (x instanceof LuaTable || y instanceof LuaTable || x == LuaTable.NULL) {
      return x == y;
    }
    return x.equals(y);
  }

  static boolean less(Object x, Object y, int line, boolean orEqual) {
    if (x instanceof Double a && y instanceof Double b) {
      return orEqual ? a <= b : a < b;
    }
    if (x instanceof String a && y instanceof String b) {
      int c = compareBytes(a, b);
      return orEqual ? c <= 0 : c < 0;
    }
    throw new IllegalStateException(
        "line " + line + ": attempt to compare " + typeName(x) + " with " + typeName(y));
  }

  private static int compareBytes(String a, String b) {
    return java.util.Arrays.compareUnsigned(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  static String typeName(Object v) {
    if (v == null) {
      return "nil";
    }
    if (v == LuaTable.NULL) {
      return "userdata";
    }
    return switch (v) {
      case Boolean b -> "boolean";
      case Double d -> "number";
      case String s -> "string";
      case LuaTable t -> "table";
      default -> "userdata";
    };
  }

  static double number(Object v, int line) {
    if (v instanceof Double d) {
      return d;
    }
    if (v instanceof String s && tonumber(s) instanceof Double d) {
      return d;
    }
    throw new IllegalStateException(
        "line " + line + ": attempt to perform arithmetic on a " + typeName(v) + " value");
  }

  static String concatText(Object v, int line) {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Double d) {
      return CsrfPlugin.luaNumber(d);
    }
    throw new IllegalStateException(
        "line " + line + ": attempt to concatenate a " + typeName(v) + " value");
  }

  static Object index(Object from, Object key, String path, int line) {
    if (from instanceof LuaTable t) {
      return t.get(key);
    }
    if (from instanceof String) {
      return null; // the string library's methods are not data; any other key is nil
    }
    throw new IllegalStateException(
        "line " + line + ": attempt to index " + path + " (a " + typeName(from) + " value)");
  }

  /** lua-resty-template's {@code template.output}. */
  static String output(Object v) {
    if (v == null || v == LuaTable.NULL) {
      return "";
    }
    if (v instanceof LuaTable) {
      throw new IllegalStateException(
          "a table cannot be written (APISIX would write \"table: 0x...\"); write one of its"
              + " fields, or _escape_json(x) for JSON");
    }
    if (v instanceof Double d) {
      return CsrfPlugin.luaNumber(d);
    }
    return v.toString();
  }

  static String escapeHtml(String s, boolean code) {
    var b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        case '/' -> b.append("&#47;");
        case '{' -> b.append(code ? "&#123;" : "{");
        case '}' -> b.append(code ? "&#125;" : "}");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  static String tostring(Object v, int line) {
    if (v == null) {
      return "nil";
    }
    if (v == LuaTable.NULL) {
      return "userdata: NULL";
    }
    if (v instanceof LuaTable) {
      throw new IllegalStateException("line " + line + ": tostring of a table is not supported");
    }
    return output(v);
  }

  static Object tonumber(Object v) {
    if (v instanceof Double) {
      return v;
    }
    if (!(v instanceof String s)) {
      return null;
    }
    var t = s.strip();
    try {
      if (t.startsWith("0x") || t.startsWith("0X")) {
        return (double) Long.parseLong(t.substring(2), 16);
      }
      if (t.isEmpty() || !t.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")) {
        return null;
      }
      return Double.parseDouble(t);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** APISIX's {@code core.json.encode} of a value (forward slashes not escaped). */
  static String escapeJson(Object v) {
    return toJson(v).toString();
  }

  private static JsonNode toJson(Object v) {
    var f = JsonNodeFactory.instance;
    if (v == null || v == LuaTable.NULL) {
      return f.nullNode();
    }
    if (v instanceof Boolean b) {
      return f.booleanNode(b);
    }
    if (v instanceof Double d) {
      return f.rawValueNode(
          new com.fasterxml.jackson.databind.util.RawValue(CsrfPlugin.luaNumber(d)));
    }
    if (v instanceof String s) {
      return f.textNode(s);
    }
    var t = (LuaTable) v;
    if (t.hash.isEmpty() && !t.array.isEmpty()) {
      var a = f.arrayNode();
      t.array.forEach(e -> a.add(toJson(e)));
      return a;
    }
    var o = f.objectNode();
    for (int i = 0; i < t.array.size(); i++) {
      o.set(Integer.toString(i + 1), toJson(t.array.get(i)));
    }
    t.hash.forEach(
        (k, e) -> o.set(k instanceof Double d ? CsrfPlugin.luaNumber(d) : k.toString(), toJson(e)));
    return o;
  }
}
