package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.crds.Enums;
import io.archway.crds.apisix.ApisixRouteSpec.Expr;
import io.archway.model.BodyPath;
import io.archway.model.UserRegex;
import java.util.List;
import java.util.Locale;

/** {@code match.exprs} of an ApisixRoute as APISIX {@code vars}. */
final class Exprs {

  private Exprs() {}

  /** The vars for {@code exprs}, or {@code null} (errors recorded) when one is not valid. */
  static ArrayNode vars(List<Expr> exprs, String field, Translation t) {
    var out = JsonNodeFactory.instance.arrayNode();
    boolean ok = true;
    for (int i = 0; i < exprs.size(); i++) {
      var e = exprs.get(i);
      var at = field + "[" + i + "]";
      var term = term(e, at, t);
      if (term == null) {
        ok = false;
      } else {
        out.add(term);
      }
    }
    return ok ? out : null;
  }

  private static ArrayNode term(Expr e, String at, Translation t) {
    if (e == null || e.subject == null) {
      t.error(at + ".subject", "missing (expected: {scope, name})");
      return null;
    }
    var variable = variable(e.subject.scope, e.subject.name, at + ".subject", t);
    if (!Enums.isOneOf(Enums.ExprOp.class, e.op)) {
      t.error(at + ".op", show(e.op) + " (expected: " + Enums.oneOf(Enums.ExprOp.class) + ")");
      return null;
    }
    if (variable == null) {
      return null;
    }
    var term = JsonNodeFactory.instance.arrayNode().add(variable);
    boolean set = e.op.equals("In") || e.op.equals("NotIn");
    if (set) {
      if (e.set == null || e.set.isEmpty()) {
        t.error(at + ".set", "missing (expected: the values for " + e.op + ")");
        return null;
      }
      if (e.op.equals("NotIn")) {
        term.add("!");
      }
      var values = term.add("in").addArray();
      e.set.forEach(values::add);
      return term;
    }
    if (e.value == null) {
      t.error(at + ".value", "missing (expected: the value for " + e.op + ")");
      return null;
    }
    var op =
        switch (e.op) {
          case "Equal" -> "==";
          case "NotEqual" -> "~=";
          case "GreaterThan" -> ">";
          case "GreaterThanEqual" -> ">=";
          case "LessThan" -> "<";
          case "LessThanEqual" -> "<=";
          case "RegexMatch", "RegexNotMatch" -> "~~";
          default -> "~*";
        };
    if (op.startsWith("~") && !op.equals("~=")) {
      var expected = UserRegex.problem(e.value);
      if (expected != null) {
        t.error(at + ".value", show(e.value) + " (expected: " + expected + ")");
        return null;
      }
      if (e.op.startsWith("RegexNot")) {
        term.add("!");
      }
    }
    return term.add(op).add(e.value);
  }

  /** The APISIX variable a subject reads, e.g. {@code http_x_user} for header X-User. */
  private static String variable(String scope, String name, String at, Translation t) {
    if (!Enums.isOneOf(Enums.ExprScope.class, scope)) {
      t.error(
          at + ".scope", show(scope) + " (expected: " + Enums.oneOf(Enums.ExprScope.class) + ")");
      return null;
    }
    if (scope.equals("Path")) {
      return "uri";
    }
    if (name == null || name.isEmpty()) {
      t.error(at + ".name", "missing (expected: the " + scope.toLowerCase(Locale.ROOT) + " name)");
      return null;
    }
    if (scope.equals("Body") || scope.equals("PostArg")) {
      // The APISIX Ingress Controller's Body: a field of a JSON, urlencoded or multipart body,
      // by a dotted path (model.version, messages[*].role). PostArg (in this CRD since its first
      // version, not the controller's) reads the same variable.
      var variable = "post_arg." + name;
      try {
        BodyPath.of(variable);
      } catch (IllegalArgumentException e) {
        t.error(
            at + ".name", show(name) + " (expected: a body field path: " + e.getMessage() + ")");
        return null;
      }
      return variable;
    }
    return switch (scope) {
      case "Header" -> "http_" + name.toLowerCase(Locale.ROOT).replace('-', '_');
      case "Query" -> "arg_" + name;
      case "Cookie" -> "cookie_" + name;
      default -> name;
    };
  }

  static String show(String s) {
    return s == null ? "missing" : "\"" + s + "\"";
  }
}
