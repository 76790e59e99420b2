package io.archway.dataplane.plugins;

import io.archway.dataplane.plugins.LuaLexer.Kind;
import io.archway.dataplane.plugins.LuaLexer.Token;
import io.archway.dataplane.plugins.LuaTemplate.Emit;
import io.archway.dataplane.plugins.LuaTemplate.Expr;
import io.archway.dataplane.plugins.LuaTemplate.ForIn;
import io.archway.dataplane.plugins.LuaTemplate.ForNum;
import io.archway.dataplane.plugins.LuaTemplate.If;
import io.archway.dataplane.plugins.LuaTemplate.Local;
import io.archway.dataplane.plugins.LuaTemplate.Stmt;
import io.archway.dataplane.plugins.LuaTemplate.Text;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** {@link LuaTemplate}'s statements: tokens to the {@link Stmt} tree a template runs. */
final class LuaParser extends LuaExprParser {

  LuaParser(List<Token> toks) {
    super(toks);
  }

  List<Stmt> block(Set<String> terminators) {
    var out = new ArrayList<Stmt>();
    while (true) {
      var t = peek();
      if (t.kind() == Kind.EOF || (t.kind() == Kind.SYM && terminators.contains(t.text()))) {
        return out;
      }
      if (t.kind() == Kind.TEXT) {
        at++;
        out.add(new Text((String) t.value()));
      } else if (t.kind() == Kind.EMIT) {
        at++;
        out.add((Emit) t.value());
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
            t.kind() == Kind.SYM && LuaLexer.KEYWORDS.contains(t.text())
                ? "\"" + t.text() + "\" is not supported"
                : "\"" + t.text() + "\": assignments and calls as statements are not supported";
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
    int line = peek().line();
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
    if (fn.kind() != Kind.NAME || !(fn.text().equals("ipairs") || fn.text().equals("pairs"))) {
      throw error(
          "for ... in "
              + fn.text()
              + " is not supported (expected: for k, v in pairs(x) or for i, v in ipairs(x))");
    }
    at++;
    expect("(");
    var over = expr();
    expect(")");
    expect("do");
    var body = block(Set.of("end"));
    expect("end");
    return new ForIn(first, second, fn.text().equals("ipairs"), over, body, line);
  }
}
