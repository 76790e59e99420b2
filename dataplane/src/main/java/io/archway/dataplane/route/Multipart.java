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
final class Multipart {

  private Multipart() {}

  /** The fields by name (in order, repeated names collected), or {@code null}: not well formed. */
  static Map<String, List<String>> fields(String contentType, byte[] body) {
    var boundary = boundary(contentType);
    if (boundary == null) {
      return null;
    }
    var dash = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    var delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    // The first delimiter may have a preamble before it (ignored), after a CRLF.
    int at = startsWith(body, 0, dash) ? 0 : indexOf(body, delimiter, 0);
    if (at < 0) {
      return null;
    }
    at += at == 0 && startsWith(body, 0, dash) ? dash.length : delimiter.length;
    var out = new LinkedHashMap<String, List<String>>();
    while (true) {
      if (startsWith(body, at, new byte[] {'-', '-'})) {
        return out; // the close delimiter
      }
      // Transport padding, then CRLF.
      while (at < body.length && (body[at] == ' ' || body[at] == '\t')) {
        at++;
      }
      if (!startsWith(body, at, new byte[] {'\r', '\n'})) {
        return null;
      }
      at += 2;
      int headersEnd = indexOf(body, new byte[] {'\r', '\n', '\r', '\n'}, at);
      // A part with no header fields starts with the empty line right away.
      String name;
      int contentStart;
      if (startsWith(body, at, new byte[] {'\r', '\n'})) {
        name = null;
        contentStart = at + 2;
      } else {
        if (headersEnd < 0) {
          return null;
        }
        name = name(new String(body, at, headersEnd - at, StandardCharsets.UTF_8));
        contentStart = headersEnd + 4;
      }
      int end = indexOf(body, delimiter, contentStart);
      if (end < 0) {
        return null;
      }
      if (name != null) {
        out.computeIfAbsent(name, k -> new ArrayList<>(1))
            .add(new String(body, contentStart, end - contentStart, StandardCharsets.UTF_8));
      }
      at = end + delimiter.length;
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

  private static int indexOf(byte[] b, byte[] what, int from) {
    outer:
    for (int i = from; i <= b.length - what.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (b[i + j] != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
