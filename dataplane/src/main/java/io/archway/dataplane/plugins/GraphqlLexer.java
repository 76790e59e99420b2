package io.archway.dataplane.plugins;

/**
 * GraphQL's lexical grammar (October 2021 spec) as a cursor over a document's text, for {@link
 * GraphqlDocument}: names, strings, numbers, punctuators, ignored tokens, and errors saying where
 * (line:column).
 */
class GraphqlLexer {

  final String src;
  int pos;

  GraphqlLexer(String src) {
    this.src = src;
  }

  void string() {
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

  void number() {
    int start = pos;
    if (peek('-')) {
      pos++;
    }
    int first = pos;
    int digits = digits();
    if (digits == 0 || (src.charAt(first) == '0' && digits > 1)) {
      pos = start;
      throw error("bad number");
    }
    if (peek('.')) {
      pos++;
      if (digits() == 0) {
        throw error("bad number");
      }
    }
    if (peek('e') || peek('E')) {
      pos++;
      if (peek('+') || peek('-')) {
        pos++;
      }
      if (digits() == 0) {
        throw error("bad number");
      }
    }
    if (isNameStart() || peek('.')) {
      throw error("bad number");
    }
  }

  /** Skips a run of digits; how many there were. */
  private int digits() {
    int start = pos;
    while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
      pos++;
    }
    return pos - start;
  }

  String name(String what) {
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

  boolean isNameStart() {
    if (pos >= src.length()) {
      return false;
    }
    char c = src.charAt(pos);
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  boolean peek(char c) {
    return pos < src.length() && src.charAt(pos) == c;
  }

  void expect(char c) {
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
  void skip() {
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

  IllegalArgumentException error(String what) {
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
