package io.archway.dataplane.plugins;

/**
 * A multipart body as lua-resty-multipart's {@code get_all_with_arrays} gives it to
 * body-transformer: each part's {@code name} to its value (a file's content as well), a name that
 * comes more than once to the list of its values. The parsing is the router's ({@link
 * io.archway.dataplane.route.Multipart}, linear in the body's length).
 */
final class Multipart {

  private Multipart() {}

  static LuaTable parse(byte[] body, String contentType) {
    var fields =
        contentType == null ? null : io.archway.dataplane.route.Multipart.fields(contentType, body);
    if (fields == null) {
      throw new IllegalArgumentException(
          "not a multipart/form-data body (expected: a boundary in the Content-Type, parts"
              + " framed by it with CRLF, and the close delimiter)");
    }
    var out = new LuaTable();
    fields.forEach(
        (name, values) -> {
          if (values.size() == 1) {
            out.put(name, values.get(0));
          } else {
            var list = new LuaTable();
            values.forEach(list::add);
            out.put(name, list);
          }
        });
    return out;
  }
}
