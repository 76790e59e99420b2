package io.archway.dataplane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.Keys;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The checks of single values, from the command line or the {@code --config} file alike: {@code at}
 * names the option ({@code --http-port}) or the file and field, and the error says what was
 * expected.
 */
final class Values {

  private Values() {}

  static String text(String at, JsonNode v) throws UsageException {
    if (!v.isTextual() || v.textValue().isBlank()) {
      throw new UsageException(at + ": " + v + " (expected: a non-empty string)");
    }
    return v.textValue();
  }

  static List<String> texts(String at, JsonNode v) throws UsageException {
    if (!v.isArray()) {
      throw new UsageException(at + ": expected a list");
    }
    var out = new ArrayList<String>();
    for (var n : v) {
      out.add(text(at, n));
    }
    return out;
  }

  static int port(String at, String v) throws UsageException {
    try {
      int p = Integer.parseInt(v.strip());
      if (p >= 0 && p <= 65535) {
        return p;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(at + ": \"" + v + "\" (expected: a port 0..65535)");
  }

  static int count(String at, String v) throws UsageException {
    try {
      int n = Integer.parseInt(v.strip());
      if (n >= 0 && n <= 1024) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(at + ": \"" + v + "\" (expected: 0..1024, 0 for one per core)");
  }

  /** A size in bytes, with an optional k, m or g suffix as nginx writes it. */
  static long bytes(String at, String v) throws UsageException {
    var s = v.strip().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (s.endsWith("k") || s.endsWith("m") || s.endsWith("g")) {
      unit = s.endsWith("k") ? 1L << 10 : s.endsWith("m") ? 1L << 20 : 1L << 30;
      s = s.substring(0, s.length() - 1);
    }
    try {
      long n = Long.parseLong(s);
      if (n >= 0) {
        return n * unit;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(
        at + ": \"" + v + "\" (expected: bytes, e.g. 1048576 or 1m; 0: no limit)");
  }

  static int intBytes(String at, String v) throws UsageException {
    long n = bytes(at, v);
    if (n < 1 || n > Integer.MAX_VALUE - 1024) {
      throw new UsageException(at + ": \"" + v + "\" (expected: 1 byte to 2g)");
    }
    return (int) n;
  }

  static Duration seconds(String at, String v) throws UsageException {
    try {
      double s = Double.parseDouble(v.strip());
      if (s >= 0 && s <= 3600) {
        return Duration.ofMillis((long) (s * 1000));
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(at + ": \"" + v + "\" (expected: seconds 0..3600)");
  }

  static Duration positive(String at, Duration d) throws UsageException {
    if (d.isZero()) {
      throw new UsageException(at + ": 0 (expected: more than 0 seconds)");
    }
    return d;
  }

  static int atLeastOne(String at, int n) throws UsageException {
    if (n < 1) {
      throw new UsageException(at + ": 0 (expected: 1..1024)");
    }
    return n;
  }

  static String prefix(String at, String v) throws UsageException {
    try {
      return Keys.of(v).prefix();
    } catch (IllegalArgumentException e) {
      throw new UsageException(at + ": " + e.getMessage().replaceFirst("^prefix: ", ""));
    }
  }

  static List<String> endpoints(String at, List<String> raw) throws UsageException {
    var out = new ArrayList<String>();
    for (var s : raw) {
      var e = s.strip();
      try {
        var uri = URI.create(e);
        if ((!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()))
            || uri.getHost() == null
            || uri.getPort() < 0) {
          throw new IllegalArgumentException();
        }
      } catch (IllegalArgumentException ex) {
        throw new UsageException(
            at + ": \"" + e + "\" (expected: http(s)://host:port, e.g. http://127.0.0.1:2379)");
      }
      out.add(e);
    }
    if (out.isEmpty()) {
      throw new UsageException(at + ": no endpoints (expected: at least one URL)");
    }
    return out;
  }

  static String kubeApi(String at, String v) throws UsageException {
    try {
      var uri = URI.create(v);
      if ((!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()))
          || uri.getHost() == null) {
        throw new IllegalArgumentException();
      }
      return v;
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          at + ": \"" + v + "\" (expected: an API server URL, e.g. https://10.0.0.1:6443)");
    }
  }

  static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }

  /** {@code max_connections}: a count, {@code 0} for no limit. */
  static int connections(String at, String v) throws UsageException {
    try {
      int n = Integer.parseInt(v.strip());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(at + ": \"" + v + "\" (expected: a count >= 0, 0 for no limit)");
  }

  /**
   * A memory mark: {@code 0.9} or {@code 90%}; the high one may be {@code off} (never shed), as
   * {@code 0}.
   */
  static double fraction(String at, String v, boolean mayBeOff) throws UsageException {
    var s = v.strip();
    if (mayBeOff && s.equals("off")) {
      return 0;
    }
    try {
      double d =
          s.endsWith("%")
              ? Double.parseDouble(s.substring(0, s.length() - 1).strip()) / 100
              : Double.parseDouble(s);
      if (d >= 0 && d <= 1) {
        return d;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(
        at
            + ": \""
            + v
            + "\" (expected: a fraction of the memory limit, 0..1 or 0%..100%"
            + (mayBeOff ? ", or off" : "")
            + ")");
  }
}
