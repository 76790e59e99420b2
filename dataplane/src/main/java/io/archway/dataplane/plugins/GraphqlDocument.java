package io.archway.dataplane.plugins;

import java.util.ArrayList;
import java.util.List;

/**
 * A small checker of GraphQL documents (the October 2021 spec's lexical grammar and the shape of
 * its executable definitions), for degraphql's {@code query}: it finds the operations and fragments
 * and the variables each operation declares, and refuses what is not a well-formed document. It
 * does not validate against a schema (no GraphQL server does that here either; the upstream does).
 * graphql-java would do the same with some 4 MB of jars, for one check when a route compiles. The
 * tokens are {@link GraphqlLexer}'s.
 */
final class GraphqlDocument extends GraphqlLexer {

  /** One definition: {@code query}/{@code mutation}/{@code subscription}, or {@code fragment}. */
  record Definition(String kind, String name, List<String> variables) {}

  private final List<Definition> definitions = new ArrayList<>();

  private GraphqlDocument(String src) {
    super(src);
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
}
