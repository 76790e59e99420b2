package io.archway.model;

import java.util.ArrayList;
import java.util.List;

/**
 * A variable that reads the request body, as APISIX 3.x's {@code ctx.var} does: {@code
 * post_arg.<path>} reads a field of a JSON, {@code application/x-www-form-urlencoded} or {@code
 * multipart/form-data} body ({@code post_arg.model}, {@code post_arg.user.name}, {@code
 * post_arg.items[0].id}, {@code post_arg.messages[*].role}, {@code post_arg..id}, {@code
 * post_arg["a.b"]}); {@code post_arg_<name>} is the older form: a field of a urlencoded form only.
 * Parsed once, when the expression naming it is read; the body is read only for the requests whose
 * route depends on it.
 *
 * @param name the variable as written
 * @param formOnly {@code post_arg_<name>}: the urlencoded form's field {@code name}, first value
 * @param steps the path from the body's root
 */
public record BodyPath(String name, boolean formOnly, List<Step> steps) {

  /** One step of a path. */
  public sealed interface Step {}

  /** An object's field. */
  public record Field(String name) implements Step {}

  /** An array's element (from 0). */
  public record Index(int index) implements Step {}

  /** Every element of an array or value of an object ({@code [*]}, {@code .*}). */
  public record Every() implements Step {}

  /** Every field of that name at any depth below ({@code ..name}). */
  public record Descend(String name) implements Step {}

  static final String PREFIX = "post_arg.";
  static final String FORM_PREFIX = "post_arg_";

  /**
   * Whether the path may give several values ({@code [*]}, {@code ..}): its value is then the list
   * of what it found.
   */
  public boolean many() {
    for (var s : steps) {
      if (s instanceof Every || s instanceof Descend) {
        return true;
      }
    }
    return false;
  }

  /** The path after {@code post_arg.} as written: a form field may be named so literally. */
  public String rawPath() {
    return name.substring(name.startsWith(PREFIX) ? PREFIX.length() : PREFIX.length() - 1);
  }

  /**
   * The body path {@code var} names, or {@code null} when it names none.
   *
   * @throws IllegalArgumentException what a path should look like, for a malformed one
   */
  public static BodyPath of(String var) {
    if (var.startsWith(FORM_PREFIX)) {
      var field = var.substring(FORM_PREFIX.length());
      if (field.isEmpty()) {
        throw new IllegalArgumentException("post_arg_<form field>");
      }
      return new BodyPath(var, true, List.of(new Field(field)));
    }
    if (var.startsWith("post_arg[")) {
      return new BodyPath(var, false, parse(var.substring(PREFIX.length() - 1)));
    }
    if (!var.startsWith(PREFIX)) {
      return null;
    }
    return new BodyPath(var, false, parse(var.substring(PREFIX.length())));
  }

  private static final String EXPECTED =
      "post_arg.<field>, then .<field>, [<index>], [*], ..<field> or [\"<field>\"]";

  private static List<Step> parse(String p) {
    var steps = new ArrayList<Step>();
    int i = 0;
    int n = p.length();
    if (n == 0) {
      throw new IllegalArgumentException(EXPECTED);
    }
    boolean first = true;
    while (i < n) {
      char c = p.charAt(i);
      if (c == '[') {
        int close = p.indexOf(']', i);
        if (close < 0) {
          throw new IllegalArgumentException(EXPECTED + "; '[' is not closed");
        }
        var inside = p.substring(i + 1, close);
        if (inside.length() >= 2
            && (inside.charAt(0) == '"' || inside.charAt(0) == '\'')
            && inside.charAt(inside.length() - 1) == inside.charAt(0)) {
          steps.add(new Field(inside.substring(1, inside.length() - 1)));
        } else if (inside.equals("*")) {
          steps.add(new Every());
        } else if (!inside.isEmpty()
            && inside.length() <= 9
            && inside.chars().allMatch(Character::isDigit)) {
          steps.add(new Index(Integer.parseInt(inside)));
        } else {
          throw new IllegalArgumentException(EXPECTED + "; [" + inside + "] is not an index");
        }
        i = close + 1;
      } else if (c == '.' && !first) {
        boolean descend = i + 1 < n && p.charAt(i + 1) == '.';
        i += descend ? 2 : 1;
        int end = nameEnd(p, i);
        var field = p.substring(i, end);
        if (field.isEmpty()) {
          throw new IllegalArgumentException(EXPECTED + "; a field name is missing");
        }
        if (descend) {
          steps.add(new Descend(field));
        } else {
          steps.add(field.equals("*") ? new Every() : new Field(field));
        }
        i = end;
      } else if (first) {
        if (c == '.') {
          // post_arg..name: every field of that name (the prefix's dot is the first of the two).
          int end = nameEnd(p, i + 1);
          if (end == i + 1) {
            throw new IllegalArgumentException(EXPECTED + "; a field name is missing");
          }
          steps.add(new Descend(p.substring(i + 1, end)));
          i = end;
        } else {
          int end = nameEnd(p, i);
          var field = p.substring(i, end);
          steps.add(field.equals("*") ? new Every() : new Field(field));
          i = end;
        }
      } else {
        throw new IllegalArgumentException(EXPECTED);
      }
      first = false;
    }
    return List.copyOf(steps);
  }

  private static int nameEnd(String p, int from) {
    int i = from;
    while (i < p.length() && p.charAt(i) != '.' && p.charAt(i) != '[') {
      i++;
    }
    return i;
  }
}
