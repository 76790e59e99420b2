package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A JSON Schema (the draft-07 subset plugin schemas use) that reports problems in Archway's words:
 * each with its full path and {@code <value> (expected: <what>)}, the way {@link Fields} reports
 * the rest of the model, so a plugin's field reads the same as a route's.
 *
 * <p>Our own rather than a library's because the messages are part of the product (tests, the
 * operator's status, the Admin API) and a library's are not ours to word. Supported keywords:
 * {@code type} (a name or a list), {@code enum}, {@code const}, {@code minimum}, {@code maximum},
 * {@code exclusiveMinimum}, {@code exclusiveMaximum} (numbers, as draft-07), {@code minLength},
 * {@code maxLength}, {@code pattern} (searched, as the spec says), {@code format} (the names in
 * {@link #FORMATS}), {@code items} (a schema), {@code minItems}, {@code maxItems}, {@code
 * uniqueItems}, {@code properties}, {@code required}, {@code additionalProperties} (a boolean or a
 * schema), {@code patternProperties}, {@code default}, {@code oneOf}, {@code anyOf}, {@code allOf},
 * {@code not}, and the annotations {@code $schema}, {@code $id}, {@code title}, {@code
 * description}, {@code examples}. A schema naming any other keyword is refused when it is loaded,
 * so a keyword that would be silently ignored cannot slip in.
 *
 * <p>Archway's extensions, for the texts the keywords cannot give:
 *
 * <ul>
 *   <li>{@code x-archway-expected}: what the node expects, replacing the derived text after {@code
 *       (expected: } for any failure of that node;
 *   <li>{@code x-archway-missing}: what a required property expects when it is missing ({@code
 *       missing (expected: <this>)}); by default the property's type;
 *   <li>{@code x-archway-message}: the whole message of a failure of that node (rules between
 *       fields, such as "exactly one of").
 * </ul>
 *
 * <p>As everywhere in the model, a property whose value is JSON {@code null} counts as absent.
 */
public final class JsonSchema {

  private static final Set<String> KEYWORDS =
      Set.of(
          "$schema",
          "$id",
          "title",
          "description",
          "examples",
          "type",
          "enum",
          "const",
          "default",
          "minimum",
          "maximum",
          "exclusiveMinimum",
          "exclusiveMaximum",
          "minLength",
          "maxLength",
          "pattern",
          "format",
          "items",
          "minItems",
          "maxItems",
          "uniqueItems",
          "properties",
          "required",
          "additionalProperties",
          "patternProperties",
          "oneOf",
          "anyOf",
          "allOf",
          "not",
          "x-archway-expected",
          "x-archway-missing",
          "x-archway-message");

  private static final Set<String> TYPES =
      Set.of("object", "array", "string", "integer", "number", "boolean", "null");

  /**
   * A check {@code format} names: adds its problems (with their paths) and says whether the value
   * passed. Values of another type than the one it is for pass, as the spec says.
   */
  @FunctionalInterface
  interface Format {
    boolean check(JsonNode value, String path, List<Problem> problems);
  }

  /**
   * The formats plugin schemas use; a format not here is refused when the schema is loaded.
   *
   * <ul>
   *   <li>{@code regex}: a regular expression that compiles;
   *   <li>{@code ip-or-cidr}: an IPv4 or IPv6 address, optionally with a prefix length;
   *   <li>{@code id}: an object id, a string of {@code [a-zA-Z0-9-_.]} or a positive integer;
   *   <li>{@code vars}: an APISIX {@code vars} expression ({@link Vars});
   *   <li>{@code regex-pairs}: {@code [regex, replacement, ...]}, an even number of items whose
   *       even ones are regular expressions.
   * </ul>
   */
  static final Map<String, Format> FORMATS =
      Map.of(
          "regex", JsonSchema::regex,
          "ip-or-cidr", stringCheck(Addresses.IP_OR_CIDR),
          "id", JsonSchema::id,
          "vars",
              (v, path, problems) -> {
                var before = problems.size();
                Vars.parse(v, path, problems);
                return problems.size() == before;
              },
          "regex-pairs", JsonSchema::regexPairs);

  private final JsonNode json;
  private final Node root;

  private JsonSchema(JsonNode json, Node root) {
    this.json = json;
    this.root = root;
  }

  /**
   * Reads a schema.
   *
   * @param where names the schema in errors, e.g. the file it came from
   * @throws IllegalArgumentException when it uses a keyword or format this class does not support,
   *     or a keyword's value has the wrong shape
   */
  public static JsonSchema parse(JsonNode json, String where) {
    return new JsonSchema(json, new Node(json, where + ": #"));
  }

  /** The schema as written (for the Admin API and the Studio). */
  public JsonNode json() {
    return json;
  }

  /**
   * Validates {@code value}; each problem found is added to {@code problems} with a path under
   * {@code path}. Returns whether it was valid.
   */
  public boolean validate(JsonNode value, String path, List<Problem> problems) {
    return root.validate(value, path, problems);
  }

  /** A copy of {@code value} with every absent property that has a {@code default} set to it. */
  public JsonNode withDefaults(JsonNode value) {
    var copy = value.deepCopy();
    root.fill(copy);
    return copy;
  }

  private static final class Node {
    private final JsonNode json;
    private final String at;
    private final List<String> types;
    private final List<JsonNode> enumValues;
    private final JsonNode constValue;
    private final BigDecimal minimum;
    private final BigDecimal maximum;
    private final BigDecimal exclusiveMinimum;
    private final BigDecimal exclusiveMaximum;
    private final Integer minLength;
    private final Integer maxLength;
    private final Pattern pattern;
    private final Format format;
    private final Node items;
    private final Integer minItems;
    private final Integer maxItems;
    private final boolean uniqueItems;
    private final Map<String, Node> properties = new LinkedHashMap<>();
    private final List<String> required = new ArrayList<>();
    private final boolean additionalAllowed;
    private final Node additional;
    private final Map<Pattern, Node> patternProperties = new LinkedHashMap<>();
    private final JsonNode defaultValue;
    private final List<Node> oneOf;
    private final List<Node> anyOf;
    private final List<Node> allOf;
    private final Node not;
    private final String expected;
    private final String missing;
    private final String message;

    Node(JsonNode json, String at) {
      this.json = json;
      this.at = at;
      if (json == null || !json.isObject()) {
        throw bad("a schema must be an object");
      }
      for (var it = json.fieldNames(); it.hasNext(); ) {
        var k = it.next();
        if (!KEYWORDS.contains(k)) {
          throw bad("unsupported keyword \"" + k + "\"");
        }
      }
      types = types(json.get("type"));
      enumValues = list(json.get("enum"), "enum");
      constValue = json.get("const");
      minimum = decimal("minimum");
      maximum = decimal("maximum");
      exclusiveMinimum = decimal("exclusiveMinimum");
      exclusiveMaximum = decimal("exclusiveMaximum");
      minLength = count("minLength");
      maxLength = count("maxLength");
      pattern = json.has("pattern") ? regex(text("pattern")) : null;
      if (json.has("format")) {
        format = FORMATS.get(text("format"));
        if (format == null) {
          throw bad("unsupported format \"" + text("format") + "\"");
        }
      } else {
        format = null;
      }
      var itemsJson = json.get("items");
      if (itemsJson != null && !itemsJson.isObject()) {
        throw bad("items: only a single schema is supported");
      }
      items = itemsJson == null ? null : new Node(itemsJson, at + "/items");
      minItems = count("minItems");
      maxItems = count("maxItems");
      uniqueItems = bool("uniqueItems");
      var props = json.get("properties");
      if (props != null) {
        if (!props.isObject()) {
          throw bad("properties must be an object");
        }
        props
            .properties()
            .forEach(
                e ->
                    properties.put(
                        e.getKey(), new Node(e.getValue(), at + "/properties/" + e.getKey())));
      }
      for (var r : list(json.get("required"), "required")) {
        if (!r.isTextual()) {
          throw bad("required must list names");
        }
        required.add(r.textValue());
      }
      var add = json.get("additionalProperties");
      if (add == null || add.isBoolean()) {
        additionalAllowed = add == null || add.booleanValue();
        additional = null;
      } else {
        additionalAllowed = true;
        additional = new Node(add, at + "/additionalProperties");
      }
      var pp = json.get("patternProperties");
      if (pp != null) {
        pp.properties()
            .forEach(
                e ->
                    patternProperties.put(
                        regex(e.getKey()),
                        new Node(e.getValue(), at + "/patternProperties/" + e.getKey())));
      }
      defaultValue = json.get("default");
      oneOf = nodes("oneOf");
      anyOf = nodes("anyOf");
      allOf = nodes("allOf");
      not = json.has("not") ? new Node(json.get("not"), at + "/not") : null;
      expected = json.has("x-archway-expected") ? text("x-archway-expected") : null;
      missing = json.has("x-archway-missing") ? text("x-archway-missing") : null;
      message = json.has("x-archway-message") ? text("x-archway-message") : null;
    }

    private IllegalArgumentException bad(String why) {
      return new IllegalArgumentException(at + ": " + why);
    }

    private String text(String k) {
      var v = json.get(k);
      if (!v.isTextual()) {
        throw bad(k + " must be a string");
      }
      return v.textValue();
    }

    private boolean bool(String k) {
      var v = json.get(k);
      if (v != null && !v.isBoolean()) {
        throw bad(k + " must be a boolean");
      }
      return v != null && v.booleanValue();
    }

    private BigDecimal decimal(String k) {
      var v = json.get(k);
      if (v == null) {
        return null;
      }
      if (!v.isNumber()) {
        throw bad(k + " must be a number (draft-07)");
      }
      return v.decimalValue();
    }

    private Integer count(String k) {
      var v = json.get(k);
      if (v == null) {
        return null;
      }
      if (!v.isIntegralNumber() || v.intValue() < 0) {
        throw bad(k + " must be an integer >= 0");
      }
      return v.intValue();
    }

    private List<JsonNode> list(JsonNode v, String k) {
      if (v == null) {
        return List.of();
      }
      if (!v.isArray()) {
        throw bad(k + " must be an array");
      }
      var out = new ArrayList<JsonNode>();
      v.forEach(out::add);
      return out;
    }

    private List<String> types(JsonNode v) {
      if (v == null) {
        return List.of();
      }
      var out = new ArrayList<String>();
      for (var t : v.isArray() ? list(v, "type") : List.of(v)) {
        if (!t.isTextual() || !TYPES.contains(t.textValue())) {
          throw bad("unsupported type " + t);
        }
        out.add(t.textValue());
      }
      return out;
    }

    private List<Node> nodes(String k) {
      var out = new ArrayList<Node>();
      var l = list(json.get(k), k);
      for (int i = 0; i < l.size(); i++) {
        out.add(new Node(l.get(i), at + "/" + k + "/" + i));
      }
      return out;
    }

    private Pattern regex(String p) {
      try {
        return Pattern.compile(p);
      } catch (PatternSyntaxException e) {
        throw bad("pattern " + p + ": " + e.getDescription());
      }
    }

    // ---- validation ----

    boolean validate(JsonNode v, String path, List<Problem> problems) {
      if (!types.isEmpty() && types.stream().noneMatch(t -> is(v, t))) {
        return fail(problems, path, v, typeText());
      }
      if (!enumValues.isEmpty() && !enumValues.contains(v)) {
        return fail(problems, path, v, "one of " + join(enumValues));
      }
      if (constValue != null && !constValue.equals(v)) {
        return fail(problems, path, v, shown(constValue));
      }
      if (v.isNumber() && !inRange(v.decimalValue())) {
        return fail(problems, path, v, rangeText(isIntegerType()));
      }
      if (v.isTextual()) {
        int n = v.textValue().codePointCount(0, v.textValue().length());
        if ((minLength != null && n < minLength) || (maxLength != null && n > maxLength)) {
          return fail(problems, path, v, lengthText());
        }
        if (pattern != null && !pattern.matcher(v.textValue()).find()) {
          return fail(problems, path, v, "matches " + pattern.pattern());
        }
      }
      boolean ok = true;
      if (v.isArray()) {
        if ((minItems != null && v.size() < minItems)
            || (maxItems != null && v.size() > maxItems)) {
          return fail(problems, path, v, itemsText());
        }
        var seen = new HashSet<JsonNode>();
        for (int i = 0; i < v.size(); i++) {
          var item = v.get(i);
          var itemPath = path + "[" + i + "]";
          if (items != null && !items.validate(item, itemPath, problems)) {
            ok = false;
          } else if (uniqueItems && !seen.add(item)) {
            problems.add(new Problem(itemPath, Fields.show(item) + " (expected: no duplicates)"));
            ok = false;
          }
        }
      }
      if (v.isObject()) {
        ok &= validateObject((ObjectNode) v, path, problems);
      } else {
        ok &= validateCombinators(v, path, problems);
      }
      if (ok && format != null) {
        // Last, on a value whose shape is right: a format reads the value's parts.
        var scratch = new ArrayList<Problem>();
        if (!format.check(v, path, scratch)) {
          if (expected != null || message != null) {
            return fail(problems, path, v, null);
          }
          problems.addAll(scratch);
          return false;
        }
      }
      return ok;
    }

    private boolean validateObject(ObjectNode v, String path, List<Problem> problems) {
      boolean ok = true;
      for (var e : properties.entrySet()) {
        var name = e.getKey();
        var value = v.get(name);
        if (present(value)) {
          ok &= e.getValue().validate(value, join(path, name), problems);
        } else if (required.contains(name)) {
          problems.add(
              new Problem(
                  join(path, name), "missing (expected: " + e.getValue().missingText() + ")"));
          ok = false;
        }
      }
      for (var name : required) {
        if (!properties.containsKey(name) && !present(v.get(name))) {
          problems.add(new Problem(join(path, name), "missing (expected: a value)"));
          ok = false;
        }
      }
      ok &= validateCombinators(v, path, problems);
      for (var e : v.properties()) {
        var name = e.getKey();
        if (properties.containsKey(name)) {
          continue;
        }
        boolean matched = false;
        for (var p : patternProperties.entrySet()) {
          if (p.getKey().matcher(name).find()) {
            matched = true;
            ok &= p.getValue().validate(e.getValue(), join(path, name), problems);
          }
        }
        if (matched) {
          continue;
        }
        if (additional != null) {
          ok &= additional.validate(e.getValue(), join(path, name), problems);
        } else if (!additionalAllowed) {
          problems.add(new Problem(join(path, name), "unknown field"));
          ok = false;
        }
      }
      return ok;
    }

    private boolean validateCombinators(JsonNode v, String path, List<Problem> problems) {
      boolean ok = true;
      for (var n : allOf) {
        ok &= n.validate(v, path, problems);
      }
      if (!anyOf.isEmpty()) {
        var matching = matching(anyOf, v, path);
        if (matching.isEmpty()) {
          ok = false;
          var names = requiredNames(anyOf);
          if (message != null || expected != null || names == null) {
            alternativesFailed(anyOf, v, path, problems);
          } else {
            problems.add(
                new Problem(
                    path,
                    names(names)
                        + (names.size() == 2
                            ? " both missing (expected: at least one of them)"
                            : " all missing (expected: at least one)")));
          }
        }
      }
      if (!oneOf.isEmpty()) {
        var matching = matching(oneOf, v, path);
        if (matching.size() != 1) {
          ok = false;
          var names = requiredNames(oneOf);
          if (message != null || expected != null) {
            fail(problems, path, v, null);
          } else if (names != null) {
            problems.add(
                new Problem(
                    path,
                    names(names)
                        + (matching.isEmpty()
                            ? (names.size() == 2 ? " both missing" : " all missing")
                            : (names.size() == 2 ? " both set" : " set together"))
                        + " (expected: exactly one of them)"));
          } else if (matching.isEmpty()) {
            alternativesFailed(oneOf, v, path, problems);
          } else {
            fail(problems, path, v, "exactly one of " + oneOf.size() + " alternatives");
          }
        }
      }
      if (not != null && not.validate(v, path, new ArrayList<>())) {
        ok = false;
        fail(problems, path, v, "not " + not.json);
      }
      return ok;
    }

    /** None of the alternatives held: the problems of the first that has the value's type. */
    private void alternativesFailed(
        List<Node> alternatives, JsonNode v, String path, List<Problem> problems) {
      if (message != null || expected != null) {
        fail(problems, path, v, null);
        return;
      }
      for (var n : alternatives) {
        if (n.types.isEmpty() || n.types.stream().anyMatch(t -> is(v, t))) {
          n.validate(v, path, problems);
          return;
        }
      }
      var texts = new ArrayList<String>();
      alternatives.forEach(n -> texts.add(n.typeText()));
      fail(problems, path, v, String.join(" or ", texts));
    }

    private static List<Node> matching(List<Node> nodes, JsonNode v, String path) {
      var out = new ArrayList<Node>();
      for (var n : nodes) {
        if (n.validate(v, path, new ArrayList<>())) {
          out.add(n);
        }
      }
      return out;
    }

    /** When every alternative only requires one property: their names, else {@code null}. */
    private static List<String> requiredNames(List<Node> nodes) {
      var out = new ArrayList<String>();
      for (var n : nodes) {
        if (n.required.size() != 1 || n.json.size() != 1) {
          return null;
        }
        out.add(n.required.get(0));
      }
      return out;
    }

    private static String names(List<String> names) {
      if (names.size() == 1) {
        return names.get(0);
      }
      return String.join(", ", names.subList(0, names.size() - 1))
          + " and "
          + names.get(names.size() - 1);
    }

    private boolean fail(List<Problem> problems, String path, JsonNode v, String derived) {
      if (message != null) {
        problems.add(new Problem(path, message));
      } else {
        problems.add(
            new Problem(
                path,
                Fields.show(v) + " (expected: " + (expected != null ? expected : derived) + ")"));
      }
      return false;
    }

    private static boolean present(JsonNode v) {
      return v != null && !v.isNull();
    }

    private static boolean is(JsonNode v, String type) {
      return switch (type) {
        case "object" -> v.isObject();
        case "array" -> v.isArray();
        case "string" -> v.isTextual();
        case "boolean" -> v.isBoolean();
        case "null" -> v.isNull();
        case "number" -> v.isNumber();
        case "integer" ->
            v.isIntegralNumber()
                || (v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0);
        default -> false;
      };
    }

    private boolean isIntegerType() {
      return types.size() == 1 && types.get(0).equals("integer");
    }

    private boolean inRange(BigDecimal d) {
      return (minimum == null || d.compareTo(minimum) >= 0)
          && (maximum == null || d.compareTo(maximum) <= 0)
          && (exclusiveMinimum == null || d.compareTo(exclusiveMinimum) > 0)
          && (exclusiveMaximum == null || d.compareTo(exclusiveMaximum) < 0);
    }

    // ---- texts ----

    String missingText() {
      if (missing != null) {
        return missing;
      }
      if (expected != null) {
        return expected;
      }
      return types.isEmpty() ? "a value" : typeText();
    }

    String typeText() {
      if (types.isEmpty()) {
        return "a value";
      }
      var out = new ArrayList<String>();
      for (var t : types) {
        if (t.equals("array") && items != null && items.types.size() == 1) {
          var it = items.types.get(0);
          out.add(
              switch (it) {
                case "string" -> "array of strings";
                case "object" -> "array of objects";
                case "integer" -> "array of integers";
                case "number" -> "array of numbers";
                default -> "array";
              });
        } else {
          out.add(t);
        }
      }
      return String.join(" or ", out);
    }

    private String rangeText(boolean integer) {
      var parts = new ArrayList<String>();
      // A maximum at the int or long limit is there for the binding, not for the reader: the text
      // says ">= min", as the rest of the model does.
      var maximum = atLimit(this.maximum) ? null : this.maximum;
      if (minimum != null
          && maximum != null
          && exclusiveMinimum == null
          && exclusiveMaximum == null) {
        return plain(minimum) + ".." + plain(maximum);
      }
      if (minimum != null) {
        parts.add(">= " + plain(minimum));
      }
      if (exclusiveMinimum != null) {
        parts.add("> " + plain(exclusiveMinimum));
      }
      if (maximum != null) {
        parts.add("<= " + plain(maximum));
      }
      if (exclusiveMaximum != null) {
        parts.add("< " + plain(exclusiveMaximum));
      }
      return String.join(" and ", parts);
    }

    private static boolean atLimit(BigDecimal max) {
      return max != null
          && (max.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) == 0
              || max.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) == 0);
    }

    private String lengthText() {
      if (minLength != null && maxLength != null) {
        return minLength + " to " + maxLength + " characters";
      }
      return minLength != null
          ? "at least " + minLength + " characters"
          : "at most " + maxLength + " characters";
    }

    private String itemsText() {
      if (minItems != null && minItems.equals(maxItems)) {
        return "exactly " + minItems + " item(s)";
      }
      if (minItems != null && maxItems != null) {
        return minItems + " to " + maxItems + " item(s)";
      }
      return minItems != null
          ? "at least " + minItems + " item(s)"
          : "at most " + maxItems + " item(s)";
    }

    // ---- defaults ----

    void fill(JsonNode v) {
      if (v instanceof ObjectNode o) {
        for (var e : properties.entrySet()) {
          var value = o.get(e.getKey());
          if (!present(value)) {
            if (e.getValue().defaultValue != null) {
              var d = e.getValue().defaultValue.deepCopy();
              o.set(e.getKey(), d);
              e.getValue().fill(d);
            }
          } else {
            e.getValue().fill(value);
          }
        }
      } else if (v instanceof ArrayNode a && items != null) {
        a.forEach(items::fill);
      }
      allOf.forEach(n -> n.fill(v));
    }
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private static String join(List<JsonNode> values) {
    var out = new ArrayList<String>();
    values.forEach(x -> out.add(x.isTextual() ? x.textValue() : x.toString()));
    return String.join(", ", out);
  }

  private static String shown(JsonNode v) {
    return v.isTextual() ? v.textValue() : v.toString();
  }

  private static String plain(BigDecimal d) {
    return d.stripTrailingZeros().toPlainString();
  }

  private static Format stringCheck(Fields.Check check) {
    return (v, path, problems) -> {
      if (!v.isTextual()) {
        return true;
      }
      var expected = check.test(v.textValue());
      if (expected != null) {
        problems.add(new Problem(path, Fields.show(v) + " (expected: " + expected + ")"));
        return false;
      }
      return true;
    };
  }

  private static boolean regex(JsonNode v, String path, List<Problem> problems) {
    if (!v.isTextual()) {
      return true;
    }
    var expected = Regexes.VALID.test(v.textValue());
    if (expected != null) {
      problems.add(new Problem(path, "\"" + v.textValue() + "\" (expected: " + expected + ")"));
      return false;
    }
    return true;
  }

  private static boolean id(JsonNode v, String path, List<Problem> problems) {
    if (v.isIntegralNumber() && v.canConvertToLong() && v.longValue() > 0) {
      return true;
    }
    if (!v.isTextual()) {
      problems.add(
          new Problem(
              path, Fields.show(v) + " (expected: string matching " + Fields.ID.pattern() + ")"));
      return false;
    }
    return stringCheck(Fields.Check.pattern(Fields.ID)).check(v, path, problems);
  }

  private static boolean regexPairs(JsonNode v, String path, List<Problem> problems) {
    if (!v.isArray()) {
      return true;
    }
    if (v.size() % 2 != 0) {
      problems.add(
          new Problem(path, "odd number of items (expected: pairs of [regex, replacement])"));
      return false;
    }
    boolean ok = true;
    for (int i = 0; i < v.size(); i += 2) {
      ok &= regex(v.get(i), path + "[" + i + "]", problems);
    }
    return ok;
  }
}
