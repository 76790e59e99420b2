package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The part of lua-resty-template that body-transformer's templates use, without Lua: text, {@code
 * {{expr}}} (HTML-escaped as lua-resty-template's {@code template.escape}), {@code {*expr*}} (raw),
 * {@code {# comment #}}, a backslash before a tag to write it literally, and in {@code {% %}}:
 * {@code if/elseif/else/end}, {@code for k, v in pairs(x) do ... end}, {@code for i, v in ipairs(x)
 * do ... end}, {@code for i = a, b[, step] do ... end}, {@code local name = expr}. Expressions:
 * paths ({@code a.b[1].c}), strings, numbers, {@code nil}/{@code true}/{@code false}, {@code ..},
 * {@code + - * / %}, comparisons, {@code and/or/not}, {@code #x}, and the helpers APISIX gives
 * templates: {@code _escape_json(x)}, {@code _escape_xml(x)}, {@code _ctx.var.name}, {@code _body},
 * plus {@code tostring}/{@code tonumber}. Values follow Lua: nil and false are false, a JSON null
 * ({@code cjson.null}) is true and written as nothing, numbers are written as Lua's {@code %.14g}.
 *
 * <p>Whatever else (functions, methods such as {@code x:upper()}, Lua libraries, {@code while},
 * includes {@code {(file)}}, blocks {@code {-name-}}) is refused when compiled, naming it, so a
 * template never renders differently from APISIX without saying so. Errors APISIX would raise when
 * rendering (indexing nil, concatenating nil, comparing a number with a string) are raised here
 * too, as {@link IllegalStateException}.
 */
final class LuaTemplate {

  /** What a template reads besides the decoded body. */
  interface Scope {
    /** {@code _ctx.var.<name>}, or {@code null}. */
    String var(String name);

    /** {@code _body}: the raw body, or {@code null}. */
    String body();
  }

  private final List<Stmt> block;

  private LuaTemplate(List<Stmt> block) {
    this.block = block;
  }

  /**
   * Compiles a template.
   *
   * @throws IllegalArgumentException naming the construct that is not supported and its line
   */
  static LuaTemplate compile(String text) {
    var tokens = new Lexer(text).items();
    var p = new Parser(tokens);
    var body = p.block(Set.of());
    if (p.peek().kind != Kind.EOF) {
      throw p.error("unexpected \"" + p.peek().text + "\" (expected: a statement)");
    }
    return new LuaTemplate(body);
  }

  /** Renders with {@code root} (the decoded body, a {@link LuaTable}) as the environment. */
  String render(LuaTable root, Scope scope) {
    var out = new StringBuilder();
    var env = new Env(root, scope);
    run(block, env, out);
    return out.toString();
  }

  // ---- template text to tokens -------------------------------------------------------------

  enum Kind {
    NAME,
    NUM,
    STR,
    SYM,
    TEXT,
    EMIT,
    EOF
  }

  record Token(Kind kind, String text, Object value, int line) {}

  private static final Set<String> KEYWORDS =
      Set.of(
          "and",
          "break",
          "do",
          "else",
          "elseif",
          "end",
          "false",
          "for",
          "function",
          "goto",
          "if",
          "in",
          "local",
          "nil",
          "not",
          "or",
          "repeat",
          "return",
          "then",
          "true",
          "until",
          "while");

  /** The template's text split as lua-resty-template's {@code parse} does. */
  private static final class Lexer {
    private final String view;
    private final List<Token> out = new ArrayList<>();

    Lexer(String view) {
      this.view = view;
    }

    private int line(int pos) {
      int l = 1;
      for (int i = 0; i < pos && i < view.length(); i++) {
        if (view.charAt(i) == '\n') {
          l++;
        }
      }
      return l;
    }

    private void text(String s) {
      if (!s.isEmpty()) {
        out.add(new Token(Kind.TEXT, s, s, 0));
      }
    }

    List<Token> items() {
      int i = 0; // start of text not yet written
      int s = view.indexOf('{');
      while (s >= 0) {
        if (s + 1 >= view.length()) {
          break;
        }
        char t = view.charAt(s + 1);
        int p = s + 2;
        boolean esc = s > 0 && view.charAt(s - 1) == '\\';
        boolean escEsc = esc && s > 1 && view.charAt(s - 2) == '\\';
        int w = esc ? 1 : 0;
        boolean z = esc && !escEsc;
        String close =
            switch (t) {
              case '{' -> "}}";
              case '*' -> "*}";
              case '%' -> "%}";
              case '#' -> "#}";
              case '(' -> ")}";
              case '[' -> "]}";
              case '-' -> "-}";
              default -> null;
            };
        int e = close == null ? -1 : view.indexOf(close, p);
        if (e >= 0) {
          if (t == '(' || t == '[' || t == '-') {
            if (!z) {
              throw new IllegalArgumentException(
                  "line "
                      + line(s)
                      + ": \"{"
                      + t
                      + "\" (lua-resty-template's "
                      + (t == '-' ? "blocks and raw sections" : "includes")
                      + ") is not supported (expected: {{ }}, {* *}, {% %} or {# #})");
            }
          }
          if (t == '%') {
            if (z) {
              text(view.substring(i, s - w));
              i = s;
            } else {
              int n = e + 2;
              if (n < view.length() && view.charAt(n) == '\n') {
                n++;
              }
              int r = s - 1; // rpos: spaces and tabs before the tag are dropped
              while (r >= 0 && " \t\0\u000B".indexOf(view.charAt(r)) >= 0) {
                r--;
              }
              if (i <= r) {
                text(view.substring(i, r + 1));
              }
              new CodeLexer(view.substring(p, e), line(p), out).run();
              s = n - 1;
              i = n;
            }
          } else {
            if (i < s - w) {
              text(view.substring(i, s - w));
            }
            if (z) {
              i = s;
            } else if (t == '#') {
              int n = e + 2;
              if (n < view.length() && view.charAt(n) == '\n') {
                n++;
              }
              s = n - 1;
              i = n;
            } else {
              var code = view.substring(p, e).strip();
              var toks = new ArrayList<Token>();
              new CodeLexer(code, line(p), toks).run();
              toks.add(new Token(Kind.EOF, "<end of expression>", null, line(p)));
              var parser = new Parser(toks);
              var expr = parser.expr();
              if (parser.peek().kind != Kind.EOF) {
                throw parser.error(
                    "unexpected \"" + parser.peek().text + "\" after the expression in {" + t);
              }
              out.add(new Token(Kind.EMIT, code, new Emit(expr, t == '{'), line(p)));
              s = e + 1;
              i = e + 2;
            }
          }
        }
        s = view.indexOf('{', s + 1);
      }
      if (i < view.length()) {
        text(view.substring(i));
      }
      out.add(new Token(Kind.EOF, "<end of template>", null, line(view.length())));
      return out;
    }
  }

  /** Lua's tokens, as far as the supported subset needs. */
  private static final class CodeLexer {
    private final String src;
    private final List<Token> out;
    private int pos;
    private int line;

    CodeLexer(String src, int line, List<Token> out) {
      this.src = src;
      this.line = line;
      this.out = out;
    }

    void run() {
      while (true) {
        while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
          if (src.charAt(pos) == '\n') {
            line++;
          }
          pos++;
        }
        if (pos >= src.length()) {
          return;
        }
        char c = src.charAt(pos);
        if (src.startsWith("--", pos)) {
          if (src.startsWith("--[[", pos) || src.startsWith("--[=", pos)) {
            throw err("long comments");
          }
          while (pos < src.length() && src.charAt(pos) != '\n') {
            pos++;
          }
        } else if (Character.isLetter(c) || c == '_') {
          int st = pos;
          while (pos < src.length()
              && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
            pos++;
          }
          var w = src.substring(st, pos);
          out.add(new Token(KEYWORDS.contains(w) ? Kind.SYM : Kind.NAME, w, w, line));
        } else if (Character.isDigit(c)
            || (c == '.' && pos + 1 < src.length() && Character.isDigit(src.charAt(pos + 1)))) {
          int st = pos;
          if (src.startsWith("0x", pos) || src.startsWith("0X", pos)) {
            pos += 2;
            while (pos < src.length() && Character.digit(src.charAt(pos), 16) >= 0) {
              pos++;
            }
            out.add(
                new Token(
                    Kind.NUM,
                    src.substring(st, pos),
                    (double) Long.parseLong(src.substring(st + 2, pos), 16),
                    line));
          } else {
            while (pos < src.length()
                && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '.')) {
              pos++;
            }
            if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
              pos++;
              if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
                pos++;
              }
              while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                pos++;
              }
            }
            var n = src.substring(st, pos);
            try {
              out.add(new Token(Kind.NUM, n, Double.parseDouble(n), line));
            } catch (NumberFormatException e) {
              throw new IllegalArgumentException("line " + line + ": malformed number " + n);
            }
          }
        } else if (c == '"' || c == '\'') {
          out.add(new Token(Kind.STR, "string", string(c), line));
        } else if (c == '[' && (src.startsWith("[[", pos) || src.startsWith("[=", pos))) {
          throw err("long strings [[...]]");
        } else {
          String sym = null;
          for (var s : new String[] {"...", "..", "==", "~=", "<=", ">=", "::"}) {
            if (src.startsWith(s, pos)) {
              sym = s;
              break;
            }
          }
          if (sym == null) {
            if ("+-*/%^#<>=(){}[];:,.".indexOf(c) < 0) {
              throw new IllegalArgumentException(
                  "line " + line + ": unexpected character \"" + c + "\" in Lua code");
            }
            sym = String.valueOf(c);
          }
          pos += sym.length();
          out.add(new Token(Kind.SYM, sym, sym, line));
        }
      }
    }

    private String string(char q) {
      pos++;
      var b = new StringBuilder();
      while (true) {
        if (pos >= src.length() || src.charAt(pos) == '\n') {
          throw new IllegalArgumentException("line " + line + ": unfinished string");
        }
        char c = src.charAt(pos++);
        if (c == q) {
          return b.toString();
        }
        if (c != '\\') {
          b.append(c);
          continue;
        }
        if (pos >= src.length()) {
          throw new IllegalArgumentException("line " + line + ": unfinished string");
        }
        char e = src.charAt(pos++);
        switch (e) {
          case 'n' -> b.append('\n');
          case 't' -> b.append('\t');
          case 'r' -> b.append('\r');
          case 'a' -> b.append('\u0007');
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'v' -> b.append('\u000B');
          case '\\', '"', '\'' -> b.append(e);
          case '\n' -> b.append('\n');
          default -> {
            if (Character.isDigit(e)) {
              int st = pos - 1;
              while (pos < src.length() && pos - st < 3 && Character.isDigit(src.charAt(pos))) {
                pos++;
              }
              b.append((char) Integer.parseInt(src.substring(st, pos)));
            } else {
              throw new IllegalArgumentException(
                  "line " + line + ": escape \\" + e + " is not supported in a Lua string");
            }
          }
        }
      }
    }

    private IllegalArgumentException err(String what) {
      return new IllegalArgumentException("line " + line + ": " + what + " are not supported");
    }
  }

  // ---- syntax ------------------------------------------------------------------------------

  interface Expr {
    Object eval(Env env);
  }

  interface Stmt {}

  record Text(String text) implements Stmt {}

  record Emit(Expr expr, boolean escape) implements Stmt {}

  record If(List<Expr> conds, List<List<Stmt>> blocks, List<Stmt> otherwise) implements Stmt {}

  record ForIn(String k, String v, boolean ipairs, Expr over, List<Stmt> body, int line)
      implements Stmt {}

  record ForNum(String var, Expr from, Expr to, Expr step, List<Stmt> body, int line)
      implements Stmt {}

  record Local(String name, Expr value) implements Stmt {}

  /** The helpers a template may call. */
  private static final Set<String> FUNCTIONS =
      Set.of("_escape_json", "_escape_xml", "tostring", "tonumber");

  /** Lua's globals that are not data: naming one means Lua is expected, which is not run. */
  private static final Set<String> LUA_GLOBALS =
      Set.of(
          "string",
          "table",
          "math",
          "os",
          "io",
          "ngx",
          "require",
          "type",
          "pcall",
          "error",
          "select",
          "next",
          "setmetatable",
          "getmetatable",
          "rawget",
          "rawset",
          "unpack",
          "load",
          "loadstring",
          "dofile",
          "print",
          "coroutine",
          "debug",
          "package",
          "_G",
          "_multipart",
          "ipairs",
          "pairs",
          "template",
          "include",
          "blocks",
          "layout",
          "context",
          "_ENV",
          "jit",
          "bit",
          "utf8",
          "assert",
          "collectgarbage",
          "xpcall");

  private static final class Parser {
    private final List<Token> toks;
    private int at;

    Parser(List<Token> toks) {
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
      return t.kind == Kind.SYM && t.text.equals(sym);
    }

    void expect(String sym) {
      if (!is(sym)) {
        throw error("expected \"" + sym + "\", found \"" + peek().text + "\"");
      }
      at++;
    }

    String name() {
      var t = next();
      if (t.kind != Kind.NAME) {
        at--;
        throw error("expected a name, found \"" + t.text + "\"");
      }
      return t.text;
    }

    IllegalArgumentException error(String what) {
      return new IllegalArgumentException("line " + peek().line + ": " + what);
    }

    List<Stmt> block(Set<String> terminators) {
      var out = new ArrayList<Stmt>();
      while (true) {
        var t = peek();
        if (t.kind == Kind.EOF || (t.kind == Kind.SYM && terminators.contains(t.text))) {
          return out;
        }
        if (t.kind == Kind.TEXT) {
          at++;
          out.add(new Text((String) t.value));
        } else if (t.kind == Kind.EMIT) {
          at++;
          out.add((Emit) t.value);
        } else if (is(";")) {
          at++;
        } else if (is("if")) {
          at++;
          out.add(ifStmt());
        } else if (is("for")) {
          at++;
          out.add(forStmt());
        } else if (is("local")) {
          at++;
          if (is("function")) {
            throw error("local functions are not supported in body-transformer templates");
          }
          var name = name();
          if (is(",")) {
            throw error("several locals at once are not supported (write one local a line)");
          }
          Expr value = env -> null;
          if (is("=")) {
            at++;
            value = expr();
          }
          out.add(new Local(name, value));
        } else {
          var what =
              t.kind == Kind.SYM && KEYWORDS.contains(t.text)
                  ? "\"" + t.text + "\" is not supported"
                  : "\"" + t.text + "\": assignments and calls as statements are not supported";
          throw error(
              what
                  + " in body-transformer templates (expected: if/elseif/else/end, for ... in"
                  + " ipairs/pairs ... do/end, for i = a, b do/end, local name = expr)");
        }
      }
    }

    private Stmt ifStmt() {
      var conds = new ArrayList<Expr>();
      var blocks = new ArrayList<List<Stmt>>();
      conds.add(expr());
      expect("then");
      blocks.add(block(Set.of("elseif", "else", "end")));
      List<Stmt> otherwise = List.of();
      while (true) {
        if (is("elseif")) {
          at++;
          conds.add(expr());
          expect("then");
          blocks.add(block(Set.of("elseif", "else", "end")));
        } else if (is("else")) {
          at++;
          otherwise = block(Set.of("end"));
          expect("end");
          break;
        } else {
          expect("end");
          break;
        }
      }
      return new If(conds, blocks, otherwise);
    }

    private Stmt forStmt() {
      int line = peek().line;
      var first = name();
      if (is("=")) {
        at++;
        var from = expr();
        expect(",");
        var to = expr();
        Expr step = env -> 1.0;
        if (is(",")) {
          at++;
          step = expr();
        }
        expect("do");
        var body = block(Set.of("end"));
        expect("end");
        return new ForNum(first, from, to, step, body, line);
      }
      String second = null;
      if (is(",")) {
        at++;
        second = name();
      }
      expect("in");
      var fn = peek();
      if (fn.kind != Kind.NAME || !(fn.text.equals("ipairs") || fn.text.equals("pairs"))) {
        throw error(
            "for ... in "
                + fn.text
                + " is not supported (expected: for k, v in pairs(x) or for i, v in ipairs(x))");
      }
      at++;
      expect("(");
      var over = expr();
      expect(")");
      expect("do");
      var body = block(Set.of("end"));
      expect("end");
      return new ForIn(first, second, fn.text.equals("ipairs"), over, body, line);
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
        if (t.kind != Kind.SYM || !Set.of("==", "~=", "<", ">", "<=", ">=").contains(t.text)) {
          return l;
        }
        at++;
        var a = l;
        var b = concat();
        var op = t.text;
        int line = t.line;
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
        int line = peek().line;
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
        l = arith(a, b, op.text, op.line);
      }
      return l;
    }

    private Expr multiplicative() {
      var l = unary();
      while (is("*") || is("/") || is("%")) {
        var op = next();
        var a = l;
        var b = unary();
        l = arith(a, b, op.text, op.line);
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
        int line = next().line;
        var e = unary();
        return env -> -number(e.eval(env), line);
      }
      if (is("#")) {
        int line = next().line;
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
      switch (t.kind) {
        case NUM:
          {
            var v = t.value;
            return env -> v;
          }
        case STR:
          {
            var v = t.value;
            return env -> v;
          }
        case SYM:
          switch (t.text) {
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
                  "line " + t.line + ": functions are not supported in body-transformer templates");
            case "{":
              throw new IllegalArgumentException(
                  "line "
                      + t.line
                      + ": table constructors are not supported in body-transformer templates");
            default:
              at--;
              throw error("unexpected \"" + t.text + "\" (expected: a value)");
          }
        case NAME:
          return name(t);
        default:
          at--;
          throw error("unexpected \"" + t.text + "\" (expected: a value)");
      }
    }

    private Expr name(Token t) {
      var n = t.text;
      if (is("(")) {
        if (!FUNCTIONS.contains(n)) {
          throw new IllegalArgumentException(
              "line "
                  + t.line
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
              "line " + t.line + ": " + n + " takes one argument, not " + args.size());
        }
        var arg = args.get(0);
        Expr call = new Call(n, arg, t.line);
        return suffixes(call, n + "(...)");
      }
      if (FUNCTIONS.contains(n)) {
        throw new IllegalArgumentException(
            "line " + t.line + ": \"" + n + "\" can only be called (as " + n + "(x))");
      }
      if (LUA_GLOBALS.contains(n)) {
        throw new IllegalArgumentException(
            "line "
                + t.line
                + ": \""
                + n
                + "\" (Lua's libraries and lua-resty-template's internals) is not supported in"
                + " body-transformer templates");
      }
      if (n.equals("_ctx")) {
        // APISIX's ctx: only its variables are part of what templates may read here.
        expect(".");
        var v = peek();
        if (v.kind != Kind.NAME || !v.text.equals("var")) {
          throw error(
              "_ctx." + v.text + " is not supported (expected: _ctx.var.<name>, a variable)");
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
          int line = next().line;
          var key = name();
          var from = e;
          var where = p;
          e = env -> index(from.eval(env), key, where, line);
          p = p + "." + key;
        } else if (is("[")) {
          int line = next().line;
          var key = expr();
          expect("]");
          var from = e;
          var where = p;
          e = env -> index(from.eval(env), key.eval(env), where, line);
          p = p + "[...]";
        } else if (is(":")) {
          throw error("method calls (" + p + ":...) are not supported");
        } else if (is("(") || peek().kind == Kind.STR) {
          throw error("calling \"" + p + "\" is not supported");
        } else {
          return e;
        }
      }
    }
  }

  private record Call(String fn, Expr arg, int line) implements Expr {
    @Override
    public Object eval(Env env) {
      var v = arg.eval(env);
      return switch (fn) {
        case "_escape_json" -> escapeJson(v);
        case "_escape_xml" -> {
          if (!(v instanceof String) && !(v instanceof Double)) {
            throw new IllegalStateException(
                "line " + line + ": attempt to index a " + typeName(v) + " value");
          }
          var s = v instanceof Double d ? CsrfPlugin.luaNumber(d) : (String) v;
          yield s.replace("&", "&amp;")
              .replace("<", "&lt;")
              .replace(">", "&gt;")
              .replace("'", "&apos;")
              .replace("\"", "&quot;");
        }
        case "tostring" -> tostring(v, line);
        default -> tonumber(v);
      };
    }
  }

  // ---- running -----------------------------------------------------------------------------

  static final class Env {
    private final LuaTable root;
    private final Scope scope;
    private final ArrayDeque<Map<String, Object>> frames = new ArrayDeque<>();
    private static final Object NIL = new Object();

    Env(LuaTable root, Scope scope) {
      this.root = root;
      this.scope = scope;
      frames.push(new HashMap<>());
    }

    Object lookup(String name) {
      for (var f : frames) {
        if (f.containsKey(name)) {
          var v = f.get(name);
          return v == NIL ? null : v;
        }
      }
      if (name.equals("_body")) {
        return scope.body();
      }
      return root.get(name);
    }

    void local(String name, Object value) {
      frames.peek().put(name, value == null ? NIL : value);
    }
  }

  private static void run(List<Stmt> block, Env env, StringBuilder out) {
    env.frames.push(new HashMap<>());
    try {
      for (var s : block) {
        exec(s, env, out);
      }
    } finally {
      env.frames.pop();
    }
  }

  private static void exec(Stmt s, Env env, StringBuilder out) {
    switch (s) {
      case Text t -> out.append(t.text());
      case Emit e -> {
        var v = e.expr().eval(env);
        var text = output(v);
        if (e.escape() && v instanceof String) {
          // lua-resty-template's escape(s, c) gets _escape_xml's second result (gsub's count)
          // as c, and then escapes braces too and the '&' of the entities _escape_xml wrote:
          // {{_escape_xml(x)}} escapes twice in APISIX, and so here.
          text = escapeHtml(text, e.expr() instanceof Call c && c.fn().equals("_escape_xml"));
        }
        out.append(text);
      }
      case If i -> {
        for (int k = 0; k < i.conds().size(); k++) {
          if (truthy(i.conds().get(k).eval(env))) {
            run(i.blocks().get(k), env, out);
            return;
          }
        }
        run(i.otherwise(), env, out);
      }
      case Local l -> env.local(l.name(), l.value().eval(env));
      case ForNum f -> {
        double from = number(f.from().eval(env), f.line());
        double to = number(f.to().eval(env), f.line());
        double step = number(f.step().eval(env), f.line());
        if (step == 0) {
          throw new IllegalStateException("line " + f.line() + ": 'for' step is zero");
        }
        for (double x = from; step > 0 ? x <= to : x >= to; x += step) {
          loop(f.body(), env, out, f.var(), x, null, null);
        }
      }
      case ForIn f -> {
        var over = f.over().eval(env);
        if (!(over instanceof LuaTable t)) {
          throw new IllegalStateException(
              "line "
                  + f.line()
                  + ": bad argument #1 to '"
                  + (f.ipairs() ? "ipairs" : "pairs")
                  + "' (table expected, got "
                  + typeName(over)
                  + ")");
        }
        for (int k = 0; k < t.array.size(); k++) {
          loop(f.body(), env, out, f.k(), (double) (k + 1), f.v(), t.array.get(k));
        }
        if (!f.ipairs()) {
          for (var e : new ArrayList<>(t.hash.entrySet())) {
            loop(f.body(), env, out, f.k(), e.getKey(), f.v(), e.getValue());
          }
        }
      }
      default -> throw new IllegalStateException("unknown statement " + s);
    }
  }

  private static void loop(
      List<Stmt> body, Env env, StringBuilder out, String k, Object kv, String v, Object vv) {
    env.frames.push(new HashMap<>());
    try {
      env.local(k, kv);
      if (v != null) {
        env.local(v, vv);
      }
      run(body, env, out);
    } finally {
      env.frames.pop();
    }
  }

  // ---- Lua's values ------------------------------------------------------------------------

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

  private static boolean less(Object x, Object y, int line, boolean orEqual) {
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

  private static double number(Object v, int line) {
    if (v instanceof Double d) {
      return d;
    }
    if (v instanceof String s && tonumber(s) instanceof Double d) {
      return d;
    }
    throw new IllegalStateException(
        "line " + line + ": attempt to perform arithmetic on a " + typeName(v) + " value");
  }

  private static String concatText(Object v, int line) {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Double d) {
      return CsrfPlugin.luaNumber(d);
    }
    throw new IllegalStateException(
        "line " + line + ": attempt to concatenate a " + typeName(v) + " value");
  }

  private static Object index(Object from, Object key, String path, int line) {
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
  private static String output(Object v) {
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

  private static String escapeHtml(String s, boolean code) {
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

  private static String tostring(Object v, int line) {
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

  /** For tests: a function from a variable name to its value. */
  static Scope scope(Function<String, String> vars, String body) {
    return new Scope() {
      @Override
      public String var(String name) {
        return vars.apply(name);
      }

      @Override
      public String body() {
        return body;
      }
    };
  }
}
