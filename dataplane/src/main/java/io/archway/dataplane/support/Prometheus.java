package io.archway.dataplane.support;

/** Pieces of the Prometheus text format (version 0.0.4) shared by every metrics writer. */
public final class Prometheus {

  private Prometheus() {}

  /** The {@code # HELP} and {@code # TYPE} lines of a metric. */
  public static void head(StringBuilder out, String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  /** A label value with backslash, quote and newline escaped. */
  public static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
