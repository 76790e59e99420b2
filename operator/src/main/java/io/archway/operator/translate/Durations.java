package io.archway.operator.translate;

import java.util.regex.Pattern;

/**
 * Go durations ({@code time.ParseDuration}, which {@code metav1.Duration} uses) as the APISIX
 * Ingress Controller's resources write them: {@code 1m30s}, {@code 500ms}, {@code 1.5s}, {@code
 * .5s}, {@code 100us}, {@code 0}, with an optional sign.
 */
final class Durations {

  private static final Pattern PART =
      Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)");

  private Durations() {}

  /**
   * A field's seconds when set and not zero; {@code null} when absent, zero, or not a duration (a
   * warning names the field then: the value is ignored).
   */
  static Double positive(String value, String field, java.util.function.Consumer<String> warn) {
    if (value == null) {
      return null;
    }
    var s = seconds(value);
    if (s == null || s < 0) {
      warn.accept(field + ": " + Exprs.show(value) + " is not a duration (ignored)");
      return null;
    }
    return s == 0 ? null : s;
  }

  /** Seconds, or {@code null} when {@code s} is not a duration. */
  static Double seconds(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    double sign = 1;
    int start = 0;
    if (s.charAt(0) == '-' || s.charAt(0) == '+') {
      sign = s.charAt(0) == '-' ? -1 : 1;
      start = 1;
    }
    if (s.substring(start).equals("0")) {
      return 0.0;
    }
    var m = PART.matcher(s);
    m.region(start, s.length());
    double total = 0;
    int end = start;
    while (m.find()) {
      if (m.start() != end) {
        return null;
      }
      end = m.end();
      double v = Double.parseDouble(m.group(1));
      total +=
          switch (m.group(2)) {
            case "ns" -> v / 1e9;
            case "us", "\u00b5s", "\u03bcs" -> v / 1e6;
            case "ms" -> v / 1000;
            case "s" -> v;
            case "m" -> v * 60;
            default -> v * 3600;
          };
    }
    return end == s.length() && end > start ? sign * total : null;
  }
}
