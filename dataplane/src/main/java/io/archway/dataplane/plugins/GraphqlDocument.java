package io.archway.dataplane.plugins;

import java.util.ArrayList;
import java.util.List;

/**
 * A small checker of GraphQL documents (the October 2021 spec's lexical grammar and the shape of
 * its executable definitions), for degraphql's {@code query}: it finds the operations and fragments
 * and the variables each operation declares, and refuses what is not a well-formed document. It
 * does not validate against a schema (no GraphQL server does that here either; the upstream does).
 * graphql-java would do the same with some 4 MB of jars, for one check when a route compiles.
 */
final class GraphqlDocument {

  /** One definition: {@code query}/{@code mutation}/{@code subscription}, or {@code fragment}. */
  record Definition(String kind, String name, List<String> variables) {}

  private final String src;
  private int pos;
  private final List<Definition> definitions = new ArrayList<>();

  private GraphqlDocument(String src) {
    this.src = src;
  }

  /**
   * The definitions of {@code text}, in order.
   *
   * @throws IllegalArgumentException saying what is wrong and where (line:column)
   */
  static List<Definition> parse(String text) {
    var d = new GraphqlDocument(text);
    d.document();
    return List.copyOf(d.definitions);
  }

  private void document() {
    skip();
    if (pos >= src.length()) {
      throw error("a document needs at least one definition");
    }
    while (pos < src.length()) {
      definition();
      skip();
    }
  }

  private void definition() {
    if (peek('{')) {
      selectionSet();
      definitions.add(new Definition("query", null, List.of()));
      return;
    }
    int at = pos;
    var word = name("a definition (query, mutation, subscription, fragment or {)");
    switch (word) {
      case "query", "mutation", "subscription" -> {
        skip();
        String name = null;
        if (isNameStart()) {
          name = name("an operation name");
        }
        var vars = new ArrayList<String>();
        skip();
        if (peek('(')) {
          pos++;
          skip();
          if (peek(')')) {
            throw error("empty variable definitions");
          }
          while (!peek(')')) {
            expect('$');
            var v = name("a variable name");
            if (vars.contains(v)) {
              throw error("variable $" + v + " is defined twice");
            }
            vars.add(v);
            skip();
            expect(':');
            type();
            skip();
            if (peek('=')) {
              pos++;
              value(true);
            }
            directives(true);
            skip();
            if (pos >= src.length()) {
              throw error("unclosed variable definitions");
            }
          }
          pos++;
        }
        directives(false);
        skip();
        selectionSet();
        definitions.add(new Definition(word, name, List.copyOf(vars)));
      }
      case "fragment" -> {
        skip();
        var name = name("a fragment name");
        if (name.equals("on")) {
          throw error("a fragment cannot be named \"on\"");
        }
        skip();
        if (!"on".equals(name("on"))) {
          throw error("expected \"on\" after the fragment name");
        }
        skip();
        name("a type condition");
        directives(false);
        skip();
        selectionSet();
        definitions.add(new Definition("fragment", name, List.of()));
      }
      default -> {
        pos = at;
        throw error(
            "unexpected \""
                + word
                + "\" (expected: query, mutation, subscription, fragment or a selection set)");
      }
    }
  }

  private void selectionSet() {
    skip();
    expect('{');
    skip();
    if (peek('}')) {
      throw error("a selection set cannot be empty");
    }
    while (!peek('}')) {
      if (pos >= src.length()) {
        throw error("unclosed selection set");
      }
      selection();
      skip();
    }
    pos++;
  }

  private void selection() {
    if (src.startsWith("...", pos)) {
      pos += 3;
      skip();
      if (isNameStart()) {
        int at = pos;
        var n = name("a fragment name");
        if (n.equals("on")) {
          skip();
          name("a type condition");
        } else {
          skip();
          if (peek('{')) {
            pos = at;
            throw error("a fragment spread is followed by a selection set");
          }
        }
      }
      directives(false);
      skip();
      if (peek('{')) {
        selectionSet();
      }
      return;
    }
    name("a field");
    skip();
    if (peek(':')) {
      pos++;
      skip();
      name("a field after its alias");
    }
    skip();
    if (peek('(')) {
      arguments(false);
    }
    directives(false);
    skip();
    if (peek('{')) {
      selectionSet();
    }
  }

  private void arguments(boolean isConst) {
    expect('(');
    skip();
    if (peek(')')) {
      throw error("empty arguments");
    }
    while (!peek(')')) {
      if (pos >= src.length()) {
        throw error("unclosed arguments");
      }
      name("an argument name");
      skip();
      expect(':');
      value(isConst);
      skip();
    }
    pos++;
  }

  private void directives(boolean isConst) {
    skip();
    while (peek('@')) {
      pos++;
      name("a directive name");
      skip();
      if (peek('(')) {
        arguments(isConst);
      }
      skip();
    }
  }

  private void type() {
    skip();
    if (peek('[')) {
      pos++;
      type();
      skip();
      expect(']');
    } else {
      name("a type");
    }
    skip();
    if (peek('!')) {
      pos++;
    }
  }

  private void value(boolean isConst) {
    skip();
    if (pos >= src.length()) {
      throw error("expected a value");
    }
    char c = src.charAt(pos);
    if (c == '$') {
      if (isConst) {
        throw error("a variable cannot be used in a constant value");
      }
      pos++;
      name("a variable name");
    } else if (c == '"') {
      string();
    } else if (c == '-' || Character.isDigit(c)) {
      number();
    } else if (c == '[') {
      pos++;
      skip();
      while (!peek(']')) {
        if (pos >= src.length()) {
          throw error("unclosed list");
        }
        value(isConst);
        skip();
      }
      pos++;
    } else if (c == '{') {
      pos++;
      skip();
      while (!peek('}')) {
        if (pos >= src.length()) {
          throw error("unclosed object");
        }
        name("a field name");
        skip();
        expect(':');
        value(isConst);
        skip();
      }
      pos++;
    } else if (isNameStart()) {
      name("a value"); // true, false, null or an enum value
    } else {
      throw error("unexpected \"" + c + "\" (expected: a value)");
    }
  }

  private void string() {
    if (src.startsWith("\"\"\"", pos)) {
      int end = pos + 3;
      while (true) {
        end = src.indexOf("\"\"\"", end);
        if (end < 0) {
          throw error("unterminated block string");
        }
        if (src.charAt(end - 1) == '\\') {
          end += 3;
          continue;
        }
        break;
      }
      pos = end + 3;
      return;
    }
    pos++;
    while (true) {
      if (pos >= src.length() || src.charAt(pos) == '\n' || src.charAt(pos) == '\r') {
        throw error("unterminated string");
      }
      char c = src.charAt(pos++);
      if (c == '"') {
        return;
      }
      if (c == '\\') {
        if (pos >= src.length()) {
          throw error("unterminated string");
        }
        char e = src.charAt(pos++);
        if (e == 'u') {
          if (pos + 4 > src.length() || !src.substring(pos, pos + 4).matches("[0-9a-fA-F]{4}")) {
            throw error("bad unicode escape");
          }
          pos += 4;
        } else if ("\"\\/bfnrt".indexOf(e) < 0) {
          throw error("bad escape \\" + e);
        }
      }
    }
  }

  private void number() {
    int start = pos;
    if (peek('-')) {
      pos++;
    }
    int digits = pos;
    while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
      pos++;
    }
    if (pos == digits || (src.charAt(digits) == '0' && pos - digits > 1)) {
      pos = start;
      throw error("bad number");
    }
    if (peek('.')) {
      pos++;
      int f = pos;
      while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
        pos++;
      }
      if (pos == f) {
        throw error("bad number");
      }
    }
    if (peek('e') || peek('E')) {
      pos++;
      if (peek('+') || peek('-')) {
        pos++;
      }
      int f = pos;
      while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
        pos++;
      }
      if (pos == f) {
        throw error("bad number");
      }
    }
    if (isNameStart() || peek('.')) {
      throw error("bad number");
    }
  }

  private String name(String what) {
    skip();
    if (!isNameStart()) {
      throw error(
          pos >= src.length()
              ? "unexpected end (expected: " + what + ")"
              : "unexpected \"" + src.charAt(pos) + "\" (expected: " + what + ")");
    }
    int start = pos;
    while (pos < src.length()) {
      char c = src.charAt(pos);
      if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        pos++;
      } else {
        break;
      }
    }
    return src.substring(start, pos);
  }

  private boolean isNameStart() {
    if (pos >= src.length()) {
      return false;
    }
    char c = src.charAt(pos);
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  private boolean peek(char c) {
    return pos < src.length() && src.charAt(pos) == c;
  }

  private void expect(char c) {
    skip();
    if (!peek(c)) {
      throw error(
          pos >= src.length()
              ? "unexpected end (expected: \"" + c + "\")"
              : "unexpected \"" + src.charAt(pos) + "\" (expected: \"" + c + "\")");
    }
    pos++;
  }

  /** Skips white space, commas (insignificant in GraphQL), line terminators and comments. */
  private void skip() {
    while (pos < src.length()) {
      char c = src.charAt(pos);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\uFEFF') {
        pos++;
      } else if (c == '#') {
        while (pos < src.length() && src.charAt(pos) != '\n' && src.charAt(pos) != '\r') {
          pos++;
        }
      } else {
        return;
      }
    }
  }

  private IllegalArgumentException error(String what) {
    int line = 1;
    int col = 1;
    for (int i = 0; i < Math.min(pos, src.length()); i++) {
      if (src.charAt(i) == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    return new IllegalArgumentException(what + " at " + line + ":" + col);
  }
}
