package io.archway.model;

import com.google.re2j.Pattern;
import java.util.ArrayList;
import java.util.List;

/**
 * The condition on a PluginFlow edge: a small, safe expression language, parsed once when the flow
 * is read and never evaluated as code. Grammar:
 *
 * <pre>
 *   expr    := and ("or" and)*
 *   and     := unary ("and" unary)*
 *   unary   := "not" unary | "(" expr ")" | compare
 *   compare := NAME [op literal]        (a NAME alone: it is set and not "", "false" or "0")
 *   op      := "==" | "~=" | "!=" | "<" | "<=" | ">" | ">=" | "~~"
 *   literal := NUMBER | 'text' | "text" | true | false | nil
 * </pre>
 *
 * Names are {@code code} (the previous plugin's answer status, 200 when it let the request pass),
 * {@code body}, the results earlier plugins published ({@code consumer}, {@code remaining}, ...)
 * and request variables ({@code arg_*}, {@code http_*}, {@code cookie_*}, {@code remote_addr},
 * {@code uri}, ...). {@code ~~} takes a regular expression, compiled here.
 */
public final class FlowCondition {

  private FlowCondition() {}

  /** A parsed condition. */
  public sealed interface Expr {}

  public record Or(List<Expr> terms) implements Expr {}

  public record And(List<Expr> terms) implements Expr {}

  public record Not(Expr term) implements Expr {}

  /** {@code name} alone: it has a value that is not empty, {@code false} or {@code 0}. */
  public record Present(String name) implements Expr {}

  /**
   * {@code name op value}: {@code number} is set when the literal is a number (compared as numbers
   * when the variable's value reads as one), {@code regex} for {@code ~~}, {@code value} is {@code
   * null} for {@code nil}.
   */
  public record Compare(String name, Op op, String value, Double number, Pattern regex)
      implements Expr {}

  /** The comparison operators. */
  public enum Op {
    EQ,
    NE,
    LT,
    LE,
    GT,
    GE,
    REGEX
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException saying where and what was expected, e.g. {@code at 8: "200"
   *     (expected: and, or, or the end)}
   */
  public static Expr parse(String text) {
    var p = new Parser(text);
    var e = p.or();
    if (p.peek() != null) {
      throw p.error("and, or, ) or the end");
    }
    return e;
  }

  private record Token(Kind kind, String text, int at) {}

  private enum Kind {
    NAME,
    NUMBER,
    STRING,
    OP,
    OPEN,
    CLOSE
  }

  static final int MAX_DEPTH = 64;

  private static final class Parser {
    private final String text;
    private final List<Token> tokens = new ArrayList<>();
    private int next;
    private int depth; // of "not" and "(": the parser recurses, and a config can nest at will

    private void nest() {
      if (++depth > MAX_DEPTH) {
        throw error("at most " + MAX_DEPTH + " nested \"not\" and \"(\"");
      }
    }

    Parser(String text) {
      this.text = text;
      tokenize();
    }

    private void tokenize() {
      int i = 0;
      int n = text.length();
      while (i < n) {
        char c = text.charAt(i);
        if (Character.isWhitespace(c)) {
          i++;
        } else if (c == '(') {
          tokens.add(new Token(Kind.OPEN, "(", i++));
        } else if (c == ')') {
          tokens.add(new Token(Kind.CLOSE, ")", i++));
        } else if (c == '\'' || c == '"') {
          int start = i++;
          var out = new StringBuilder();
          while (i < n && text.charAt(i) != c) {
            if (text.charAt(i) == '\\' && i + 1 < n) {
              i++;
            }
            out.append(text.charAt(i++));
          }
          if (i >= n) {
            throw new IllegalArgumentException(
                "at " + (start + 1) + ": string not closed (expected: " + c + ")");
          }
          i++;
          tokens.add(new Token(Kind.STRING, out.toString(), start));
        } else if (Character.isDigit(c)
            || (c == '-' && i + 1 < n && Character.isDigit(text.charAt(i + 1)))) {
          int start = i++;
          while (i < n && (Character.isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
            i++;
          }
          tokens.add(new Token(Kind.NUMBER, text.substring(start, i), start));
        } else if (Character.isLetter(c) || c == '_') {
          int start = i++;
          while (i < n
              && (Character.isLetterOrDigit(text.charAt(i))
                  || text.charAt(i) == '_'
                  || text.charAt(i) == '-'
                  || text.charAt(i) == '.')) {
            i++;
          }
          tokens.add(new Token(Kind.NAME, text.substring(start, i), start));
        } else if ("=~!<>".indexOf(c) >= 0) {
          int start = i++;
          if (i < n && (text.charAt(i) == '=' || (c == '~' && text.charAt(i) == '~'))) {
            i++;
          }
          var op = text.substring(start, i);
          if (op.equals("=") || op.equals("!") || op.equals("~")) {
            throw new IllegalArgumentException(
                "at " + (start + 1) + ": \"" + op + "\" (expected: ==, ~=, !=, <, <=, >, >=, ~~)");
          }
          tokens.add(new Token(Kind.OP, op, start));
        } else {
          throw new IllegalArgumentException(
              "at " + (i + 1) + ": \"" + c + "\" (expected: a name, a value, an operator or ( )");
        }
      }
    }

    Token peek() {
      return next < tokens.size() ? tokens.get(next) : null;
    }

    private boolean keyword(String word) {
      var t = peek();
      if (t != null && t.kind == Kind.NAME && t.text.equals(word)) {
        next++;
        return true;
      }
      return false;
    }

    IllegalArgumentException error(String expected) {
      var t = peek();
      return t == null
          ? new IllegalArgumentException("at the end (expected: " + expected + ")")
          : new IllegalArgumentException(
              "at " + (t.at + 1) + ": \"" + t.text + "\" (expected: " + expected + ")");
    }

    Expr or() {
      var terms = new ArrayList<Expr>();
      terms.add(and());
      while (keyword("or")) {
        terms.add(and());
      }
      return terms.size() == 1 ? terms.get(0) : new Or(List.copyOf(terms));
    }

    Expr and() {
      var terms = new ArrayList<Expr>();
      terms.add(unary());
      while (keyword("and")) {
        terms.add(unary());
      }
      return terms.size() == 1 ? terms.get(0) : new And(List.copyOf(terms));
    }

    Expr unary() {
      if (keyword("not")) {
        nest();
        var e = new Not(unary());
        depth--;
        return e;
      }
      var t = peek();
      if (t == null) {
        throw error("a name, not or (");
      }
      if (t.kind == Kind.OPEN) {
        next++;
        nest();
        var e = or();
        depth--;
        var close = peek();
        if (close == null || close.kind != Kind.CLOSE) {
          throw error(")");
        }
        next++;
        return e;
      }
      if (t.kind != Kind.NAME || isKeyword(t.text)) {
        throw error("a name such as code, body, consumer, arg_x or http_x");
      }
      next++;
      var opToken = peek();
      if (opToken == null || opToken.kind != Kind.OP) {
        return new Present(t.text);
      }
      next++;
      var op =
          switch (opToken.text) {
            case "==" -> Op.EQ;
            case "~=", "!=" -> Op.NE;
            case "<" -> Op.LT;
            case "<=" -> Op.LE;
            case ">" -> Op.GT;
            case ">=" -> Op.GE;
            case "~~" -> Op.REGEX;
            default -> {
              next--;
              throw error("==, ~=, !=, <, <=, >, >=, ~~");
            }
          };
      var v = peek();
      if (v == null || !(v.kind == Kind.NUMBER || v.kind == Kind.STRING || isLiteralWord(v))) {
        throw error("a number, a 'string', true, false or nil");
      }
      next++;
      String value = v.kind == Kind.NAME && v.text.equals("nil") ? null : v.text;
      Double number = null;
      if (v.kind == Kind.NUMBER) {
        try {
          number = Double.parseDouble(v.text);
        } catch (NumberFormatException e) {
          next--;
          throw error("a number");
        }
      }
      if (op == Op.LT || op == Op.LE || op == Op.GT || op == Op.GE) {
        if (number == null) {
          next--;
          throw error("a number after " + opToken.text);
        }
      }
      Pattern regex = null;
      if (op == Op.REGEX) {
        if (value == null || v.kind != Kind.STRING) {
          next--;
          throw error("a 'regular expression' after ~~");
        }
        regex = UserRegex.compile("at " + (v.at + 1), value);
      }
      return new Compare(t.text, op, value, number, regex);
    }

    private static boolean isKeyword(String word) {
      return word.equals("and") || word.equals("or") || word.equals("not");
    }

    private static boolean isLiteralWord(Token t) {
      return t.kind == Kind.NAME
          && (t.text.equals("true") || t.text.equals("false") || t.text.equals("nil"));
    }
  }
}
