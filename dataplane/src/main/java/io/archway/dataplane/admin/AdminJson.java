package io.archway.dataplane.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Request bodies: strict JSON (nothing after the value), parsed once; a body that is not JSON gets
 * a message with the line and column where reading stopped, and a hint when the mistake is a common
 * one (a Lua table's {@code name = {...}} pasted into JSON, as in the seed's stream-route example).
 */
final class AdminJson {

  private static final ObjectReader READER =
      ModelJson.mapper().reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final Pattern LUA_FIELD =
      Pattern.compile("^\\s*\\[?\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\]?\\s*=");

  private AdminJson() {}

  /** A body that is not one JSON object. */
  static final class BadBody extends Exception {
    BadBody(String message) {
      super(message, null, false, false);
    }
  }

  static ObjectNode object(byte[] body) throws BadBody {
    if (body.length == 0) {
      throw new BadBody("empty body (expected: a JSON object)");
    }
    com.fasterxml.jackson.databind.JsonNode node;
    try {
      node = READER.readTree(withoutNoBreakSpaces(body));
    } catch (JsonProcessingException e) {
      throw new BadBody(describe(e, body));
    } catch (IOException e) {
      throw new BadBody("invalid request body: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw new BadBody(
          "invalid request body: "
              + (node == null ? "nothing" : node.getNodeType().name().toLowerCase())
              + " (expected: a JSON object)");
    }
    return (ObjectNode) node;
  }

  /** {@code invalid JSON at line 16, column 9: ... } plus the hint, if one applies. */
  static String describe(JsonProcessingException e, byte[] body) {
    var loc = e.getLocation();
    var what = e.getOriginalMessage();
    if (loc == null || loc.getLineNr() < 1) {
      return "invalid JSON in request body: " + what;
    }
    var out =
        new StringBuilder("invalid JSON in request body at line ")
            .append(loc.getLineNr())
            .append(", column ")
            .append(loc.getColumnNr())
            .append(": ")
            .append(what);
    var line = line(body, loc.getLineNr());
    if (line != null) {
      var m = LUA_FIELD.matcher(line);
      if (m.find()) {
        out.append("; `")
            .append(line.strip())
            .append("` is Lua table syntax (name = value); JSON needs \"")
            .append(m.group(1))
            .append("\": value, with the name in double quotes and \":\" instead of \"=\"");
      } else {
        out.append("; the line reads: ").append(line.strip());
      }
    }
    return out.toString();
  }

  private static String line(byte[] body, int n) {
    var lines = new String(body, StandardCharsets.UTF_8).split("\n", -1);
    if (n > lines.length) {
      return null;
    }
    var l = lines[n - 1];
    return l.length() > 120 ? l.substring(0, 120) + "..." : l;
  }

  /**
   * {@code body} with each no-break space (U+00A0) outside a string made a plain space. Examples
   * copied from web pages carry them between tokens (the seed's limit-req example does); JSON does
   * not count them as white space, but nothing else can be meant by them there. Inside strings they
   * are kept.
   */
  static byte[] withoutNoBreakSpaces(byte[] body) {
    byte[] out = null;
    boolean inString = false;
    for (int i = 0; i < body.length; i++) {
      byte b = body[i];
      if (inString) {
        if (b == '\\') {
          i++;
        } else if (b == '"') {
          inString = false;
        }
      } else if (b == '"') {
        inString = true;
      } else if (b == (byte) 0xC2 && i + 1 < body.length && body[i + 1] == (byte) 0xA0) {
        if (out == null) {
          out = body.clone();
        }
        // Two bytes in UTF-8: two spaces keep every column where the error message counts it.
        out[i] = ' ';
        out[i + 1] = ' ';
        i++;
      }
    }
    return out == null ? body : out;
  }
}
