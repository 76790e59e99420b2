package io.archway.operator.translate;

import java.util.regex.Pattern;

/** Go-style durations as the APISIX Ingress Controller's resources write them: {@code 1m30s}. */
final class Durations {

  private static final Pattern PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");

  private Durations() {}

  /** Seconds, or {@code null} when {@code s} is not a duration. */
  static Double seconds(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    var m = PART.matcher(s);
    double total = 0;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        return null;
      }
      end = m.end();
      double v = Double.parseDouble(m.group(1));
      total +=
          switch (m.group(2)) {
            case "ms" -> v / 1000;
            case "s" -> v;
            case "m" -> v * 60;
            default -> v * 3600;
          };
    }
    return end == s.length() && end > 0 ? total : null;
  }
}
