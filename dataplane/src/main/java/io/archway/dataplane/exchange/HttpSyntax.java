package io.archway.dataplane.exchange;

/**
 * HTTP's syntax rules below the protocol adapters, defined once: the character classes (RFC 9110
 * §5.6.2, §5.5), the request target's characters, a method, an authority and a {@code
 * Content-Length}. What the HTTP/1.1 decoder and the HTTP/2 stream adapter accept from a client,
 * and what the pipeline lets out after plugins changed a request.
 */
public final class HttpSyntax {

  private HttpSyntax() {}

  private static final boolean[] TCHAR = new boolean[256];
  private static final boolean[] FIELD_VALUE = new boolean[256];

  static {
    for (int c = 0; c < 256; c++) {
      TCHAR[c] =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || (c < 128 && "!#$%&'*+-.^_`|~".indexOf(c) >= 0);
      FIELD_VALUE[c] = (c >= 0x20 && c != 0x7f) || c == '\t';
    }
  }

  /** {@code tchar} of RFC 9110 §5.6.2: what a field name or a token is made of. */
  public static boolean tchar(int c) {
    return c >= 0 && c < 256 && TCHAR[c];
  }

  /** Whether {@code c} may stand in a field value (no control character but tab, no DEL). */
  public static boolean fieldValueChar(int c) {
    return c >= 0 && c < 256 && FIELD_VALUE[c];
  }

  /** Whether {@code c} may stand in a request target: no control character, space or DEL. */
  public static boolean targetChar(int c) {
    return c > 0x20 && c < 256 && c != 0x7f;
  }

  /** Whether {@code c} may stand in a method name: upper-case letters, {@code -}, {@code _}. */
  public static boolean methodChar(int c) {
    return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
  }

  /** The longest method name accepted. */
  public static final int MAX_METHOD_LENGTH = 32;

  /** A method as the gateway accepts it (as nginx does): 1 to 32 of {@link #methodChar}s. */
  public static boolean validMethod(CharSequence m) {
    int n = m.length();
    if (n == 0 || n > MAX_METHOD_LENGTH) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (!methodChar(m.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** Whether every character of a field value may stand there (see {@link #fieldValueChar}). */
  public static boolean validFieldValue(CharSequence v) {
    for (int i = 0; i < v.length(); i++) {
      if (!fieldValueChar(v.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * A {@code Content-Length} value: {@code 1*DIGIT}, at most 18 of them (a long never overflows);
   * {@code -1} for anything else.
   */
  public static long contentLength(CharSequence v) {
    int n = v.length();
    if (n == 0 || n > 18) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < n; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /**
   * {@code uri-host [ ":" port ]} of RFC 3986: a bracketed IPv6 literal or a reg-name (which covers
   * IPv4), without userinfo; empty is allowed (RFC 9112 §3.2).
   */
  public static boolean validAuthority(String v) {
    int n = v.length();
    int i = 0;
    if (n > 0 && v.charAt(0) == '[') {
      int close = v.indexOf(']');
      if (close < 2) {
        return false;
      }
      for (i = 1; i < close; i++) {
        char c = v.charAt(i);
        if (!(hex(c) || c == ':' || c == '.')) {
          return false;
        }
      }
      i = close + 1;
    } else {
      for (; i < n && v.charAt(i) != ':'; i++) {
        if (!regNameChar(v.charAt(i))) {
          return false;
        }
      }
    }
    if (i == n) {
      return true;
    }
    if (v.charAt(i) != ':' || n - i - 1 > 5) {
      return false;
    }
    for (i++; i < n; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** A {@code Host} (or {@code :authority}) the gateway serves: a valid, non-empty authority. */
  public static boolean validHost(String host) {
    return !host.isEmpty() && !host.contains("..") && validAuthority(host);
  }

  private static boolean hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  // unreserved / pct-encoded / sub-delims
  private static final boolean[] REG_NAME = new boolean[128];

  static {
    for (char c = 0; c < 128; c++) {
      REG_NAME[c] =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || "-._~%!$&'()*+,;=".indexOf(c) >= 0;
    }
  }

  private static boolean regNameChar(char c) {
    return c < 128 && REG_NAME[c];
  }
}
