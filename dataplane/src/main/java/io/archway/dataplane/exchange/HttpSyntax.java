package io.archway.dataplane.exchange;

/**
 * HTTP's character classes (RFC 9110 §5.6.2, §5.5), defined once: what the request decoder accepts
 * from a client, and what the pipeline lets out after plugins changed a request.
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
}
