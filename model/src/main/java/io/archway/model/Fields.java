package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * Reads one JSON object field by field, the way APISIX's JSON schemas describe it, and collects
 * every problem with its path instead of stopping at the first. Each record's {@code read} method
 * uses one of these; {@link #finish()} then reports the fields nobody asked for as unknown.
 *
 * <p>The tree read must be owned by the reader: JSON values are kept in the records as they are,
 * not copied ({@link ModelJson} copies a caller's tree once).
 *
 * <p>A getter returns {@code null} when the field is absent or wrong (the problem is recorded), so
 * a reader can go on and find the next problem.
 */
final class Fields {

  static final Pattern ID = Pattern.compile("^[a-zA-Z0-9-_.]{1,64}$");
  private static final Pattern NON_BLANK = Pattern.compile("^\\S+$");
  private static final int MAX_VALUE_IN_MESSAGE = 64;

  private final JsonNode node;
  private final String path;
  private final List<Problem> problems;
  private final Set<String> read = new HashSet<>();

  private Fields(JsonNode node, String path, List<Problem> problems) {
    this.node = node;
    this.path = path;
    this.problems = problems;
  }

  /** Starts reading {@code node}, which must be an object; otherwise one problem is recorded. */
  static Fields of(JsonNode node, String path, List<Problem> problems) {
    if (node == null || !node.isObject()) {
      problems.add(new Problem(path, show(node) + " (expected: object)"));
      return new Fields(MissingObject.INSTANCE, path, problems);
    }
    return new Fields(node, path, problems);
  }

  String path() {
    return path;
  }

  String pathOf(String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  boolean has(String name) {
    var v = node.get(name);
    return v != null && !v.isNull();
  }

  void problem(String name, String message) {
    problems.add(new Problem(name == null ? path : pathOf(name), message));
  }

  void problems(List<Problem> more) {
    problems.addAll(more);
  }

  /** Records a problem on the object itself, e.g. a rule between two fields. */
  void problem(String message) {
    problems.add(new Problem(path, message));
  }

  private JsonNode get(String name) {
    read.add(name);
    var v = node.get(name);
    return v == null || v.isNull() ? null : v;
  }

  /** A field APISIX knows but Archway refuses to run, with the reason. */
  void unsupported(String name, String why) {
    if (get(name) != null) {
      problem(name, "not supported (" + why + ")");
    }
  }

  String string(String name, Check... checks) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      problem(name, show(v) + " (expected: string)");
      return null;
    }
    return checked(pathOf(name), v.textValue(), v, checks);
  }

  /**
   * A string that must never appear in a message or a log (private keys): problems name its length
   * only.
   */
  String secret(String name, Check check) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      problem(name, "not a string (expected: string)");
      return null;
    }
    var expected = check.test(v.textValue());
    if (expected != null) {
      problem(
          name, "value of " + v.textValue().length() + " characters (expected: " + expected + ")");
      return null;
    }
    return v.textValue();
  }

  String requiredString(String name, Check... checks) {
    if (!has(name)) {
      read.add(name);
      problem(name, "missing (expected: string)");
      return null;
    }
    return string(name, checks);
  }

  /** An id: a string matching {@link #ID}, or a positive integer as APISIX also accepts. */
  String id(String name) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (v.canConvertToLong() && v.isIntegralNumber() && v.longValue() > 0) {
      return Long.toString(v.longValue());
    }
    if (!v.isTextual()) {
      problem(name, show(v) + " (expected: string matching " + ID.pattern() + ")");
      return null;
    }
    return checked(pathOf(name), v.textValue(), v, Check.pattern(ID));
  }

  Integer integer(String name, long min, long max) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() && !(v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue()))) {
      problem(name, show(v) + " (expected: integer)");
      return null;
    }
    long l = v.longValue();
    if (l < min || l > max) {
      problem(name, show(v) + " (expected: " + range(min, max) + ")");
      return null;
    }
    return (int) l;
  }

  Long longValue(String name, long min) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min) {
      problem(name, show(v) + " (expected: integer >= " + min + ")");
      return null;
    }
    return v.longValue();
  }

  /** A number; {@code exclusiveMin} says whether {@code min} itself is allowed. */
  Double number(String name, double min, boolean exclusiveMin) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isNumber()) {
      problem(name, show(v) + " (expected: number)");
      return null;
    }
    double d = v.doubleValue();
    if (exclusiveMin ? d <= min : d < min) {
      problem(name, show(v) + " (expected: " + (exclusiveMin ? "> " : ">= ") + fmt(min) + ")");
      return null;
    }
    return d;
  }

  Boolean bool(String name) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isBoolean()) {
      problem(name, show(v) + " (expected: boolean)");
      return null;
    }
    return v.booleanValue();
  }

  /** An array of strings, each checked; {@code unique} rejects duplicates. */
  List<String> strings(String name, int minItems, boolean unique, Check... checks) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isArray()) {
      problem(name, show(v) + " (expected: array of strings)");
      return null;
    }
    if (v.size() < minItems) {
      problem(name, show(v) + " (expected: at least " + minItems + " item(s))");
      return null;
    }
    var out = new ArrayList<String>(v.size());
    var seen = new HashSet<String>();
    boolean ok = true;
    for (int i = 0; i < v.size(); i++) {
      var item = v.get(i);
      var itemPath = pathOf(name) + "[" + i + "]";
      if (!item.isTextual()) {
        problems.add(new Problem(itemPath, show(item) + " (expected: string)"));
        ok = false;
        continue;
      }
      var s = checked(itemPath, item.textValue(), item, checks);
      if (s == null) {
        ok = false;
      } else if (unique && !seen.add(s)) {
        problems.add(new Problem(itemPath, show(item) + " (expected: no duplicates)"));
        ok = false;
      } else {
        out.add(s);
      }
    }
    return ok ? List.copyOf(out) : null;
  }

  List<Integer> integers(String name, int min, int max) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isArray() || v.isEmpty()) {
      problem(name, show(v) + " (expected: non-empty array of integers)");
      return null;
    }
    var out = new ArrayList<Integer>(v.size());
    var seen = new HashSet<Integer>();
    for (int i = 0; i < v.size(); i++) {
      var item = v.get(i);
      var itemPath = pathOf(name) + "[" + i + "]";
      if (!item.isIntegralNumber() || item.longValue() < min || item.longValue() > max) {
        problems.add(
            new Problem(itemPath, show(item) + " (expected: integer " + range(min, max) + ")"));
        return null;
      }
      if (!seen.add(item.intValue())) {
        problems.add(new Problem(itemPath, show(item) + " (expected: no duplicates)"));
        return null;
      }
      out.add(item.intValue());
    }
    return List.copyOf(out);
  }

  /** A JSON object kept as it is (plugin configs, discovery arguments). */
  ObjectNode object(String name) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isObject()) {
      problem(name, show(v) + " (expected: object)");
      return null;
    }
    return (ObjectNode) v;
  }

  ArrayNode array(String name) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isArray()) {
      problem(name, show(v) + " (expected: array)");
      return null;
    }
    return (ArrayNode) v;
  }

  /** {@code plugins}: plugin name → its configuration object. */
  Map<String, ObjectNode> plugins(String name) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isObject()) {
      problem(name, show(v) + " (expected: object of plugin name to configuration)");
      return null;
    }
    var out = new LinkedHashMap<String, ObjectNode>();
    boolean ok = true;
    for (var e : v.properties()) {
      if (e.getValue().isNull()) {
        // `key-auth:` with nothing after it (APISIX's standalone files have it): the defaults.
        out.put(e.getKey(), JsonNodeFactory.instance.objectNode());
      } else if (!e.getValue().isObject()) {
        problems.add(
            new Problem(
                pathOf(name) + "." + e.getKey(), show(e.getValue()) + " (expected: object)"));
        ok = false;
      } else {
        out.put(e.getKey(), (ObjectNode) e.getValue());
      }
    }
    return ok ? Collections.unmodifiableMap(out) : null;
  }

  /** {@code labels}: string → non-blank string of at most 256 characters, as APISIX has them. */
  Map<String, String> labels(String name) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isObject()) {
      problem(name, show(v) + " (expected: object of string to string)");
      return null;
    }
    var out = new LinkedHashMap<String, String>();
    boolean ok = true;
    for (var e : v.properties()) {
      var itemPath = pathOf(name) + "." + e.getKey();
      var value = e.getValue();
      if (!value.isTextual()
          || value.textValue().isEmpty()
          || value.textValue().length() > 256
          || !NON_BLANK.matcher(value.textValue()).matches()) {
        problems.add(
            new Problem(
                itemPath, show(value) + " (expected: string of 1 to 256 non-blank characters)"));
        ok = false;
      } else {
        out.put(e.getKey(), value.textValue());
      }
    }
    return ok ? Collections.unmodifiableMap(out) : null;
  }

  /** A nested object read by {@code reader} with the nested path. */
  <T> T child(String name, BiFunction<Fields, String, T> reader) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    var nested = Fields.of(v, pathOf(name), problems);
    if (nested.node == MissingObject.INSTANCE) {
      return null;
    }
    var out = reader.apply(nested, nested.path);
    nested.finish();
    return out;
  }

  /** Each element of an array of objects, read by {@code reader}. */
  <T> List<T> children(String name, BiFunction<Fields, String, T> reader) {
    var v = get(name);
    if (v == null) {
      return null;
    }
    if (!v.isArray()) {
      problem(name, show(v) + " (expected: array of objects)");
      return null;
    }
    var out = new ArrayList<T>();
    for (int i = 0; i < v.size(); i++) {
      var nested = Fields.of(v.get(i), pathOf(name) + "[" + i + "]", problems);
      if (nested.node == MissingObject.INSTANCE) {
        continue;
      }
      var item = reader.apply(nested, nested.path);
      nested.finish();
      if (item != null) {
        out.add(item);
      }
    }
    return List.copyOf(out);
  }

  /** A copy of the whole object, every field marked as read: for objects a plugin validates. */
  ObjectNode wholeObject() {
    node.fieldNames().forEachRemaining(read::add);
    return (ObjectNode) node;
  }

  /** The raw value of a field, marked as read; the caller validates it. */
  JsonNode raw(String name) {
    return get(name);
  }

  /** Reports every field that no getter asked for. */
  void finish() {
    for (var it = node.fieldNames(); it.hasNext(); ) {
      var name = it.next();
      if (!read.contains(name)) {
        problems.add(new Problem(pathOf(name), "unknown field"));
      }
    }
  }

  /** Reports {@code name} as missing when it is absent; {@code expected} says what it holds. */
  void required(String name, String expected) {
    if (!has(name)) {
      problem(name, "missing (expected: " + expected + ")");
    }
  }

  /** At most one of these fields may be present. */
  void atMostOne(String a, String b) {
    if (has(a) && has(b)) {
      problem(a + " and " + b + " both set (expected: one of them)");
    }
  }

  /** Exactly one of these fields must be present. */
  void exactlyOne(String a, String b) {
    if (has(a) == has(b)) {
      problem(
          (has(a) ? a + " and " + b + " both set" : a + " and " + b + " both missing")
              + " (expected: exactly one of them)");
    }
  }

  private String checked(String at, String value, JsonNode raw, Check... checks) {
    for (var c : checks) {
      var expected = c.test(value);
      if (expected != null) {
        problems.add(new Problem(at, show(raw) + " (expected: " + expected + ")"));
        return null;
      }
    }
    return value;
  }

  static String show(JsonNode v) {
    if (v == null || v.isMissingNode()) {
      return "missing";
    }
    // A huge string (a poison value of a megabyte) is cut before it is quoted, not after: quoting
    // all of it for a message that shows its start cost a copy of the whole value per problem.
    if (v.isTextual() && v.textValue().length() > MAX_VALUE_IN_MESSAGE) {
      v =
          com.fasterxml.jackson.databind.node.TextNode.valueOf(
              v.textValue().substring(0, MAX_VALUE_IN_MESSAGE));
    }
    var s = v.toString();
    return s.length() > MAX_VALUE_IN_MESSAGE ? s.substring(0, MAX_VALUE_IN_MESSAGE) + "…" : s;
  }

  private static String range(long min, long max) {
    if (max == Long.MAX_VALUE || max == Integer.MAX_VALUE) {
      return ">= " + min;
    }
    return min + ".." + max;
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  /** A check on a string value: {@code null} when it passes, else what was expected. */
  @FunctionalInterface
  interface Check {
    String test(String value);

    static Check startsWith(String prefix) {
      return s -> s.startsWith(prefix) ? null : "starts with \"" + prefix + "\"";
    }

    static Check pattern(Pattern p) {
      return s -> p.matcher(s).matches() ? null : "matches " + p.pattern();
    }

    static Check length(int min, int max) {
      return s ->
          s.length() >= min && s.length() <= max ? null : min + " to " + max + " characters";
    }

    static Check oneOf(String... values) {
      var set = Set.of(values);
      return s -> set.contains(s) ? null : "one of " + String.join(", ", values);
    }
  }

  /** Stand-in for a value that was not an object, so reading can go on without null checks. */
  private static final class MissingObject {
    static final ObjectNode INSTANCE =
        new ObjectNode(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance);
  }
}
