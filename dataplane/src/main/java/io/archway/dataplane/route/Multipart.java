package io.archway.dataplane.route;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The fields of a whole {@code multipart/form-data} body (RFC 7578): each part's {@code
 * Content-Disposition} name and its content as UTF-8 text (a file's too). Strict about the framing
 * (CRLF, the boundary from the content type): anything else is not a form, and has no fields.
 */
public final class Multipart {

  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] CLOSE = {'-', '-'};
  private static final Search HEADERS_END = new Search(new byte[] {'\r', '\n', '\r', '\n'});

  private Multipart() {}

  /** The fields by name (in order, repeated names collected), or {@code null}: not well formed. */
  public static Map<String, List<String>> fields(String contentType, byte[] body) {
    var boundary = boundary(contentType);
    if (boundary == null) {
      return null;
    }
    var dash = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    var delimiter = new Search(("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1));
    // The first delimiter may have a preamble before it (ignored), after a CRLF.
    int at;
    if (startsWith(body, 0, dash)) {
      at = dash.length;
    } else {
      at = delimiter.indexOf(body, 0);
      if (at < 0) {
        return null;
      }
      at += delimiter.length();
    }
    var out = new LinkedHashMap<String, List<String>>();
    // Each step finds the next delimiter from where the last one ended, and looks for the part's
    // header end only before it: the whole body is scanned once, whatever its shape.
    while (true) {
      if (startsWith(body, at, CLOSE)) {
        return out; // the close delimiter
      }
      // Transport padding, then CRLF.
      while (at < body.length && (body[at] == ' ' || body[at] == '\t')) {
        at++;
      }
      if (!startsWith(body, at, CRLF)) {
        return null;
      }
      at += 2;
      int end = delimiter.indexOf(body, at);
      if (end < 0) {
        return null;
      }
      // A part with no header fields starts with the empty line right away.
      String name;
      int contentStart;
      if (startsWith(body, at, CRLF)) {
        name = null;
        contentStart = at + 2;
      } else {
        int headersEnd = HEADERS_END.indexOf(body, at, end + 2);
        if (headersEnd < 0) {
          return null;
        }
        name = name(new String(body, at, headersEnd - at, StandardCharsets.UTF_8));
        contentStart = headersEnd + 4;
      }
      if (contentStart > end) {
        return null;
      }
      if (name != null) {
        out.computeIfAbsent(name, k -> new ArrayList<>(1))
            .add(new String(body, contentStart, end - contentStart, StandardCharsets.UTF_8));
      }
      at = end + delimiter.length();
    }
  }

  /** The {@code boundary} parameter of the content type, unquoted; {@code null} if none. */
  static String boundary(String contentType) {
    var b = parameter(contentType, "boundary");
    return b == null || b.isEmpty() || b.length() > 70 ? null : b;
  }

  /** The {@code name} of a part's {@code Content-Disposition: form-data}, or {@code null}. */
  private static String name(String headers) {
    for (var line : headers.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0
          && line.substring(0, colon).strip().equalsIgnoreCase("content-disposition")
          && line.substring(colon + 1).strip().toLowerCase(Locale.ROOT).startsWith("form-data")) {
        return parameter(line.substring(colon + 1), "name");
      }
    }
    return null;
  }

  /** A {@code ; key=value} parameter of a header value (quoted or not), or {@code null}. */
  static String parameter(String value, String key) {
    int i = value.indexOf(';');
    while (i >= 0 && i < value.length()) {
      int eq = value.indexOf('=', i);
      if (eq < 0) {
        return null;
      }
      var k = value.substring(i + 1, eq).strip();
      int j = eq + 1;
      while (j < value.length() && value.charAt(j) == ' ') {
        j++;
      }
      String v;
      int next;
      if (j < value.length() && value.charAt(j) == '"') {
        var sb = new StringBuilder();
        int q = j + 1;
        while (q < value.length() && value.charAt(q) != '"') {
          if (value.charAt(q) == '\\' && q + 1 < value.length()) {
            q++;
          }
          sb.append(value.charAt(q));
          q++;
        }
        v = sb.toString();
        next = value.indexOf(';', q);
      } else {
        next = value.indexOf(';', j);
        v = (next < 0 ? value.substring(j) : value.substring(j, next)).strip();
      }
      if (k.equalsIgnoreCase(key)) {
        return v;
      }
      i = next;
    }
    return null;
  }

  private static boolean startsWith(byte[] b, int at, byte[] prefix) {
    if (at + prefix.length > b.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[at + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * A byte string found in linear time (Knuth-Morris-Pratt): a crafted body of near-matches costs
   * its length, never its length times the boundary's.
   */
  static final class Search {
    private final byte[] what;
    private final int[] fallback;

    Search(byte[] what) {
      this.what = what;
      fallback = new int[what.length];
      for (int i = 1, k = 0; i < what.length; i++) {
        while (k > 0 && what[i] != what[k]) {
          k = fallback[k - 1];
        }
        if (what[i] == what[k]) {
          k++;
        }
        fallback[i] = k;
      }
    }

    int length() {
      return what.length;
    }

    int indexOf(byte[] b, int from) {
      return indexOf(b, from, b.length);
    }

    /** The first index at or after {@code from} where it ends at or before {@code to}; or -1. */
    int indexOf(byte[] b, int from, int to) {
      to = Math.min(to, b.length);
      for (int i = Math.max(from, 0), k = 0; i < to; i++) {
        while (k > 0 && b[i] != what[k]) {
          k = fallback[k - 1];
        }
        if (b[i] == what[k]) {
          k++;
        }
        if (k == what.length) {
          return i - what.length + 1;
        }
      }
      return -1;
    }
  }
}
