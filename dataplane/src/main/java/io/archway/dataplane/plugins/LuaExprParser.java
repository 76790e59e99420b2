package io.archway.dataplane.plugins;

import static io.archway.dataplane.plugins.LuaValues.concatText;
import static io.archway.dataplane.plugins.LuaValues.equal;
import static io.archway.dataplane.plugins.LuaValues.index;
import static io.archway.dataplane.plugins.LuaValues.less;
import static io.archway.dataplane.plugins.LuaValues.number;
import static io.archway.dataplane.plugins.LuaValues.truthy;
import static io.archway.dataplane.plugins.LuaValues.typeName;

import io.archway.dataplane.plugins.LuaLexer.Kind;
import io.archway.dataplane.plugins.LuaLexer.Token;
import io.archway.dataplane.plugins.LuaTemplate.Call;
import io.archway.dataplane.plugins.LuaTemplate.Expr;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@link LuaTemplate}'s expressions: tokens to {@link Expr} trees (closures over {@link LuaValues}'
 * rules), refusing what is not supported; {@link LuaParser} adds the statements.
 */
class LuaExprParser {

  private final List<Token> toks;
  int at;

  LuaExprParser(List<Token> toks) {
    this.toks = toks;
  }

  Token peek() {
    return toks.get(at);
  }

  Token next() {
    return toks.get(at++);
  }

  boolean is(String sym) {
    var t = peek();
    return t.kind() == Kind.SYM && t.text().equals(sym);
  }

  void expect(String sym) {
    if (!is(sym)) {
      throw error("expected \"" + sym + "\", found \"" + peek().text() + "\"");
    }
    at++;
  }

  String name() {
    var t = next();
    if (t.kind() != Kind.NAME) {
      at--;
      throw error("expected a name, found \"" + t.text() + "\"");
    }
    return t.text();
  }

  IllegalArgumentException error(String what) {
    return new IllegalArgumentException("line " + peek().line() + ": " + what);
  }

  // Lua's precedence: or < and < comparison < .. (right) < + - < * / % < unary < ^
  Expr expr() {
    return or();
  }

  private Expr or() {
    var l = and();
    while (is("or")) {
      at++;
      var a = l;
      var b = and();
      l = orOf(a, b);
    }
    return l;
  }

  private static Expr orOf(Expr a, Expr b) {
    return env -> {
      var v = a.eval(env);
      return truthy(v) ? v : b.eval(env);
    };
  }

  private Expr and() {
    var l = comparison();
    while (is("and")) {
      at++;
      var a = l;
      var b = comparison();
      l =
          env -> {
            var v = a.eval(env);
            return truthy(v) ? b.eval(env) : v;
          };
    }
    return l;
  }

  private Expr comparison() {
    var l = concat();
    while (true) {
      var t = peek();
      if (t.kind() != Kind.SYM || !Set.of("==", "~=", "<", ">", "<=", ">=").contains(t.text())) {
        return l;
      }
      at++;
      var a = l;
      var b = concat();
      var op = t.text();
      int line = t.line();
      l =
          env -> {
            var x = a.eval(env);
            var y = b.eval(env);
            return switch (op) {
              case "==" -> equal(x, y);
              case "~=" -> !equal(x, y);
              case "<" -> less(x, y, line, false);
              case "<=" -> less(x, y, line, true);
              case ">" -> less(y, x, line, false);
              default -> less(y, x, line, true);
            };
          };
    }
  }

  private Expr concat() {
    var l = additive();
    if (is("..")) {
      int line = peek().line();
      at++;
      var a = l;
      var b = concat();
      return env -> concatText(a.eval(env), line) + concatText(b.eval(env), line);
    }
    return l;
  }

  private Expr additive() {
    var l = multiplicative();
    while (is("+") || is("-")) {
      var op = next();
      var a = l;
      var b = multiplicative();
      l = arith(a, b, op.text(), op.line());
    }
    return l;
  }

  private Expr multiplicative() {
    var l = unary();
    while (is("*") || is("/") || is("%")) {
      var op = next();
      var a = l;
      var b = unary();
      l = arith(a, b, op.text(), op.line());
    }
    return l;
  }

  private static Expr arith(Expr a, Expr b, String op, int line) {
    return env -> {
      double x = number(a.eval(env), line);
      double y = number(b.eval(env), line);
      return switch (op) {
        case "+" -> x + y;
        case "-" -> x - y;
        case "*" -> x * y;
        case "/" -> x / y;
        default -> x - Math.floor(x / y) * y;
      };
    };
  }

  private Expr unary() {
    if (is("not")) {
      at++;
      var e = unary();
      return env -> !truthy(e.eval(env));
    }
    if (is("-")) {
      int line = next().line();
      var e = unary();
      return env -> -number(e.eval(env), line);
    }
    if (is("#")) {
      int line = next().line();
      var e = unary();
      return env -> {
        var v = e.eval(env);
        if (v instanceof String s) {
          return (double) s.getBytes(StandardCharsets.UTF_8).length;
        }
        if (v instanceof LuaTable t) {
          return (double) t.length();
        }
        throw new IllegalStateException(
            "line " + line + ": attempt to get length of a " + typeName(v) + " value");
      };
    }
    if (is("^")) {
      throw error("\"^\" is not supported");
    }
    return primary();
  }

  private Expr primary() {
    var t = next();
    switch (t.kind()) {
      case NUM:
        {
          var v = t.value();
          return env -> v;
        }
      case STR:
        {
          var v = t.value();
          return env -> v;
        }
      case SYM:
        switch (t.text()) {
          case "nil":
            return env -> null;
          case "true":
            return env -> true;
          case "false":
            return env -> false;
          case "(":
            {
              var e = expr();
              expect(")");
              return suffixes(e, "(...)");
            }
          case "function":
            throw new IllegalArgumentException(
                "line " + t.line() + ": functions are not supported in body-transformer templates");
          case "{":
            throw new IllegalArgumentException(
                "line "
                    + t.line()
                    + ": table constructors are not supported in body-transformer templates");
          default:
            at--;
            throw error("unexpected \"" + t.text() + "\" (expected: a value)");
        }
      case NAME:
        return name(t);
      default:
        at--;
        throw error("unexpected \"" + t.text() + "\" (expected: a value)");
    }
  }

  private Expr name(Token t) {
    var n = t.text();
    if (is("(")) {
      if (!LuaLexer.FUNCTIONS.contains(n)) {
        throw new IllegalArgumentException(
            "line "
                + t.line()
                + ": calling \""
                + n
                + "\" is not supported (expected: one of _escape_json, _escape_xml, tostring,"
                + " tonumber)");
      }
      at++;
      var args = new ArrayList<Expr>();
      if (!is(")")) {
        args.add(expr());
        while (is(",")) {
          at++;
          args.add(expr());
        }
      }
      expect(")");
      if (args.size() != 1) {
        throw new IllegalArgumentException(
            "line " + t.line() + ": " + n + " takes one argument, not " + args.size());
      }
      var arg = args.get(0);
      Expr call = new Call(n, arg, t.line());
      return suffixes(call, n + "(...)");
    }
    if (LuaLexer.FUNCTIONS.contains(n)) {
      throw new IllegalArgumentException(
          "line " + t.line() + ": \"" + n + "\" can only be called (as " + n + "(x))");
    }
    if (LuaLexer.LUA_GLOBALS.contains(n)) {
      throw new IllegalArgumentException(
          "line "
              + t.line()
              + ": \""
              + n
              + "\" (Lua's libraries and lua-resty-template's internals) is not supported in"
              + " body-transformer templates");
    }
    if (n.equals("_ctx")) {
      // APISIX's ctx: only its variables are part of what templates may read here.
      expect(".");
      var v = peek();
      if (v.kind() != Kind.NAME || !v.text().equals("var")) {
        throw error(
            "_ctx." + v.text() + " is not supported (expected: _ctx.var.<name>, a variable)");
      }
      at++;
      Expr key;
      if (is(".")) {
        at++;
        var name = name();
        key = env -> name;
      } else if (is("[")) {
        at++;
        key = expr();
        expect("]");
      } else {
        throw error("_ctx.var alone is not supported (expected: _ctx.var.<name>)");
      }
      var k = key;
      Expr var =
          env -> {
            var name = k.eval(env);
            return name instanceof String s ? env.scope.var(s) : null;
          };
      return suffixes(var, "_ctx.var");
    }
    Expr base = env -> env.lookup(n);
    return suffixes(base, n);
  }

  private Expr suffixes(Expr base, String path) {
    var e = base;
    var p = path;
    while (true) {
      if (is(".")) {
        int line = next().line();
        var key = name();
        var from = e;
        var where = p;
        e = env -> index(from.eval(env), key, where, line);
        p = p + "." + key;
      } else if (is("[")) {
        int line = next().line();
        var key = expr();
        expect("]");
        var from = e;
        var where = p;
        e = env -> index(from.eval(env), key.eval(env), where, line);
        p = p + "[...]";
      } else if (is(":")) {
        throw error("method calls (" + p + ":...) are not supported");
      } else if (is("(") || peek().kind() == Kind.STR) {
        throw error("calling \"" + p + "\" is not supported");
      } else {
        return e;
      }
    }
  }
}
