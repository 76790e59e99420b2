package io.archway.dataplane.plugins;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A multipart body as lua-resty-multipart's {@code get_all_with_arrays} gives it to
 * body-transformer: each part's {@code name} to its value (a file's content as well), a name that
 * comes more than once to the list of its values.
 */
final class Multipart {

  private Multipart() {}

  private static final Pattern BOUNDARY =
      Pattern.compile("boundary=(?:\"([^\"]+)\"|([^;\\s]+))", Pattern.CASE_INSENSITIVE);
  private static final Pattern NAME =
      Pattern.compile("[;\\s]name=(?:\"([^\"]*)\"|([^;\\s]+))", Pattern.CASE_INSENSITIVE);

  static LuaTable parse(byte[] body, String contentType) {
    var m = contentType == null ? null : BOUNDARY.matcher(contentType);
    if (m == null || !m.find()) {
      throw new IllegalArgumentException("no boundary in the Content-Type");
    }
    var boundary = "--" + (m.group(1) != null ? m.group(1) : m.group(2));
    // ISO-8859-1 keeps every byte as one char, so offsets are byte offsets.
    var text = new String(body, StandardCharsets.ISO_8859_1);
    var out = new LuaTable();
    int at = text.indexOf(boundary);
    if (at < 0) {
      throw new IllegalArgumentException("no part in the body");
    }
    while (true) {
      int after = at + boundary.length();
      if (text.startsWith("--", after)) {
        return out;
      }
      int headersStart = text.indexOf("\r\n", after);
      if (headersStart < 0) {
        throw new IllegalArgumentException("a part has no header");
      }
      int headersEnd = text.indexOf("\r\n\r\n", headersStart);
      if (headersEnd < 0) {
        throw new IllegalArgumentException("a part's header does not end");
      }
      int next = text.indexOf("\r\n" + boundary, headersEnd + 4);
      if (next < 0) {
        throw new IllegalArgumentException("the body does not end with its boundary");
      }
      var headers = text.substring(headersStart + 2, headersEnd);
      String name = null;
      for (var line : headers.split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("content-disposition:")) {
          var n = NAME.matcher(line);
          if (n.find()) {
            name = n.group(1) != null ? n.group(1) : n.group(2);
          }
        }
      }
      var value =
          new String(
              text.substring(headersEnd + 4, next).getBytes(StandardCharsets.ISO_8859_1),
              StandardCharsets.UTF_8);
      if (name != null) {
        var old = out.get(name);
        if (old == null) {
          out.put(name, value);
        } else if (old instanceof LuaTable list) {
          list.add(value);
        } else {
          var list = new LuaTable();
          list.add(old);
          list.add(value);
          out.put(name, list);
        }
      }
      at = next + 2;
    }
  }
}
