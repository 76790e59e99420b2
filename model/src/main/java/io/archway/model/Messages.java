package io.archway.model;

/** Short, single-line descriptions of failures for messages, logs and status. */
public final class Messages {

  private Messages() {}

  /** The first line of {@code s}; {@code "unreadable"} for {@code null}. */
  public static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** The first line of the throwable's message, or its class name when it has none. */
  public static String oneLine(Throwable t) {
    var m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : firstLine(m);
  }

  /** Problems on one line: {@code "a: x; b: y"}. */
  public static String join(java.util.List<Problem> problems) {
    var out = new StringBuilder();
    for (var p : problems) {
      if (out.length() > 0) {
        out.append("; ");
      }
      out.append(p);
    }
    return out.toString();
  }
}
