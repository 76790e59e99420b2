package io.archway.model.source;

/** Short, single-line descriptions of failures for logs and status. */
final class ModelJsonMessages {

  private ModelJsonMessages() {}

  static String oneLine(Throwable t) {
    var m = t.getMessage();
    var s = m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
