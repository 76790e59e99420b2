package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.google.re2j.Pattern;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A route's {@code vars}: APISIX's expression form (lua-resty-expr). A list of terms that must all
 * hold, each {@code [var, op, value]} or {@code [var, "!", op, value]}; a list may start with
 * {@code "AND"}, {@code "OR"}, {@code "!AND"} or {@code "!OR"} and hold nested lists. Parsed and
 * checked once, when the config is read; regular expressions are compiled here.
 */
public final class Vars {

  private Vars() {}

  /** A parsed expression: a {@link Group} or a {@link Term}. */
  public sealed interface Expr {}

  /** {@code all} (AND) or any (OR) of {@code terms}, negated when {@code not}. */
  public record Group(boolean all, boolean not, List<Expr> terms) implements Expr {}

  /**
   * One comparison. {@code value} is the value as written; {@code regex} is set for {@code ~~} and
   * {@code ~*}, {@code cidrs} for {@code ipmatch}; {@code body} when {@code var} names a field of
   * the request body ({@code post_arg.*}, {@code post_arg_*}), parsed here once.
   */
  public record Term(
      String var,
      boolean not,
      Op op,
      JsonNode value,
      Pattern regex,
      List<String> cidrs,
      BodyPath body)
      implements Expr {}

  /** Whether {@code expr} has a term on the request body: the route waits for it to decide. */
  public static boolean readsBody(Expr expr) {
    return switch (expr) {
      case Term t -> t.body() != null;
      case Group g -> g.terms().stream().anyMatch(Vars::readsBody);
    };
  }

  /** The operators of lua-resty-expr. */
  public enum Op {
    EQ("=="),
    NE("~="),
    GT(">"),
    GE(">="),
    LT("<"),
    LE("<="),
    REGEX("~~"),
    REGEX_CI("~*"),
    IN("in"),
    HAS("has"),
    IPMATCH("ipmatch");

    final String symbol;

    Op(String symbol) {
      this.symbol = symbol;
    }

    static Op of(String s) {
      for (var op : values()) {
        if (op.symbol.equals(s.toLowerCase(Locale.ROOT))) {
          return op;
        }
      }
      return null;
    }

    public String symbol() {
      return symbol;
    }
  }

  /**
   * Parses {@code vars} that were read by {@link ModelJson} (so already checked).
   *
   * @throws IllegalArgumentException naming the element at fault, e.g. {@code vars[1][1]}
   */
  public static Expr parse(ArrayNode vars) {
    var problems = new ArrayList<Problem>();
    var out = parse(vars, "vars", problems);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(problems.get(0).toString());
    }
    return out;
  }

  static Expr parse(JsonNode node, String path, List<Problem> problems) {
    if (!node.isArray()) {
      problems.add(new Problem(path, Fields.show(node) + " (expected: array)"));
      return null;
    }
    int from = 0;
    boolean all = true;
    boolean not = false;
    if (!node.isEmpty() && node.get(0).isTextual()) {
      var head = node.get(0).textValue().toUpperCase(Locale.ROOT);
      switch (head) {
        case "AND", "OR", "!AND", "!OR" -> {
          from = 1;
          all = head.endsWith("AND");
          not = head.startsWith("!");
        }
        default -> {
          // A single term written without the outer list: ["arg_a", "==", "1"].
          return term(node, path, problems);
        }
      }
    }
    var terms = new ArrayList<Expr>();
    for (int i = from; i < node.size(); i++) {
      var item = node.get(i);
      var at = path + "[" + i + "]";
      if (!item.isArray() || item.isEmpty()) {
        problems.add(
            new Problem(at, Fields.show(item) + " (expected: [var, operator, value] or a list)"));
        continue;
      }
      var t = parse(item, at, problems);
      if (t != null) {
        terms.add(t);
      }
    }
    return new Group(all, not, List.copyOf(terms));
  }

  private static Expr term(JsonNode node, String path, List<Problem> problems) {
    var var = node.get(0).textValue();
    int i = 1;
    boolean not = false;
    if (node.size() > 1 && "!".equals(node.get(1).asText())) {
      not = true;
      i = 2;
    }
    if (var.isEmpty()) {
      problems.add(new Problem(path + "[0]", "\"\" (expected: a variable name)"));
      return null;
    }
    if (node.size() != i + 2 || !node.get(i).isTextual()) {
      problems.add(
          new Problem(
              path,
              Fields.show(node) + " (expected: [var, operator, value] or [var, \"!\", op, v])"));
      return null;
    }
    var opAt = path + "[" + i + "]";
    var op = Op.of(node.get(i).textValue());
    if (op == null) {
      problems.add(
          new Problem(
              opAt,
              Fields.show(node.get(i))
                  + " (expected: one of ==, ~=, >, >=, <, <=, ~~, ~*, in, has, ipmatch)"));
      return null;
    }
    BodyPath body;
    try {
      body = BodyPath.of(var);
    } catch (IllegalArgumentException e) {
      problems.add(new Problem(path + "[0]", "\"" + var + "\" (expected: " + e.getMessage() + ")"));
      return null;
    }
    var value = node.get(i + 1);
    var valueAt = path + "[" + (i + 1) + "]";
    Pattern regex = null;
    List<String> cidrs = null;
    switch (op) {
      case GT, GE, LT, LE -> {
        if (!value.isNumber() && !isNumeric(value.asText())) {
          problems.add(new Problem(valueAt, Fields.show(value) + " (expected: a number)"));
          return null;
        }
      }
      case REGEX, REGEX_CI -> {
        if (!value.isTextual()) {
          problems.add(new Problem(valueAt, Fields.show(value) + " (expected: a regex string)"));
          return null;
        }
        regex =
            UserRegex.compile(
                value.textValue(),
                op == Op.REGEX_CI ? UserRegex.CASE_INSENSITIVE : 0,
                expected ->
                    problems.add(
                        new Problem(
                            valueAt, Fields.show(value) + " (expected: " + expected + ")")));
        if (regex == null) {
          return null;
        }
      }
      case IN -> {
        if (!value.isArray()) {
          problems.add(new Problem(valueAt, Fields.show(value) + " (expected: an array)"));
          return null;
        }
      }
      case IPMATCH -> {
        var list = new ArrayList<String>();
        if (value.isTextual()) {
          list.add(value.textValue());
        } else if (value.isArray()) {
          value.forEach(v -> list.add(v.asText()));
        }
        for (var c : list) {
          var why = Addresses.IP_OR_CIDR.test(c);
          if (why != null) {
            problems.add(new Problem(valueAt, "\"" + c + "\" (expected: " + why + ")"));
            return null;
          }
        }
        if (list.isEmpty()) {
          problems.add(
              new Problem(valueAt, Fields.show(value) + " (expected: CIDR or list of CIDRs)"));
          return null;
        }
        cidrs = List.copyOf(list);
      }
      default -> {
        if (value.isContainerNode()) {
          problems.add(new Problem(valueAt, Fields.show(value) + " (expected: a scalar)"));
          return null;
        }
      }
    }
    return new Term(var, not, op, value, regex, cidrs, body);
  }

  private static boolean isNumeric(String s) {
    try {
      Double.parseDouble(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
