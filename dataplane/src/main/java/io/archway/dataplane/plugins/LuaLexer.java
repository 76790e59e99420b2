package io.archway.dataplane.plugins;

import io.archway.dataplane.plugins.LuaTemplate.Emit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@link LuaTemplate}'s text split as lua-resty-template's {@code parse} does: text, {@code
 * {{expr}}} and {@code {*expr*}} (each parsed as it is met, by {@link LuaExprParser}), comments,
 * and the Lua tokens of {@code {% %}}; and the names Lua reserves or the templates may call.
 */
final class LuaLexer {

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

  static final Set<String> KEYWORDS =
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

  /** The helpers a template may call. */
  static final Set<String> FUNCTIONS =
      Set.of("_escape_json", "_escape_xml", "tostring", "tonumber");

  /** Lua's globals that are not data: naming one means Lua is expected, which is not run. */
  static final Set<String> LUA_GLOBALS =
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

  private final String view;
  private final List<Token> out = new ArrayList<>();

  LuaLexer(String view) {
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
            var parser = new LuaExprParser(toks);
            var expr = parser.expr();
            if (parser.peek().kind() != Kind.EOF) {
              throw parser.error(
                  "unexpected \"" + parser.peek().text() + "\" after the expression in {" + t);
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
}
