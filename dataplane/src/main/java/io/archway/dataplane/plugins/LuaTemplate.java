package io.archway.dataplane.plugins;

import static io.archway.dataplane.plugins.LuaValues.escapeHtml;
import static io.archway.dataplane.plugins.LuaValues.escapeJson;
import static io.archway.dataplane.plugins.LuaValues.number;
import static io.archway.dataplane.plugins.LuaValues.output;
import static io.archway.dataplane.plugins.LuaValues.tonumber;
import static io.archway.dataplane.plugins.LuaValues.tostring;
import static io.archway.dataplane.plugins.LuaValues.truthy;
import static io.archway.dataplane.plugins.LuaValues.typeName;

import io.archway.dataplane.plugins.LuaLexer.Kind;
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
 *
 * <p>Text to tokens is {@link LuaLexer}, tokens to a tree {@link LuaParser} (statements) and {@link
 * LuaExprParser} (expressions), Lua's value rules {@link LuaValues}; this class holds the tree's
 * types and runs it.
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
    var tokens = new LuaLexer(text).items();
    var p = new LuaParser(tokens);
    var body = p.block(Set.of());
    if (p.peek().kind() != Kind.EOF) {
      throw p.error("unexpected \"" + p.peek().text() + "\" (expected: a statement)");
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

  record Call(String fn, Expr arg, int line) implements Expr {
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
    final Scope scope;
    final ArrayDeque<Map<String, Object>> frames = new ArrayDeque<>();
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
