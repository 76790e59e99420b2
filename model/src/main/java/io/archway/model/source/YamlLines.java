package io.archway.model.source;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The line of each value in a YAML document, by JSON pointer ({@code /routes/0/plugins/key-auth}),
 * so that a problem found in the parsed tree can be shown as {@code file:line:}. A map entry's line
 * is the line of its key. Read once, with the same parser settings as the file itself ({@link
 * StandaloneFile#yamlFactory()}), only when problems are to be shown.
 */
public final class YamlLines {

  private static final ObjectMapper YAML = new ObjectMapper(StandaloneFile.yamlFactory());
  // One step of a model path: a field name (up to a dot or a bracket) or an index in brackets.
  private static final Pattern STEP = Pattern.compile("\\[(\\d+)]|([^.\\[]+)");

  private final Map<String, Integer> lines;

  private YamlLines(Map<String, Integer> lines) {
    this.lines = lines;
  }

  /** The lines of {@code text}; as far as it parses, when it does not parse to its end. */
  public static YamlLines of(String text) {
    var lines = new HashMap<String, Integer>();
    try (var p = YAML.createParser(text)) {
      while (p.nextToken() != null) {
        record(p, lines);
      }
    } catch (IOException e) {
      // What was read so far still places the problems in it.
    }
    return new YamlLines(lines);
  }

  private static void record(JsonParser p, Map<String, Integer> lines) {
    var token = p.currentToken();
    if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
      return;
    }
    var ctx = p.getParsingContext();
    if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
      // The new container's context names no field yet: its place is its parent's.
      ctx = ctx.getParent();
    }
    if (ctx != null) {
      lines.putIfAbsent(ctx.pathAsPointer().toString(), p.currentTokenLocation().getLineNr());
    }
  }

  /**
   * The line of {@code pointer}, or of its nearest ancestor found (a missing field is placed at the
   * object that lacks it); 0 when none is.
   */
  public int line(String pointer) {
    var at = pointer == null ? "" : pointer;
    while (true) {
      var line = lines.get(at);
      if (line != null) {
        return line;
      }
      if (at.isEmpty()) {
        return 0;
      }
      at = at.substring(0, at.lastIndexOf('/'));
    }
  }

  /**
   * The JSON pointer of a model problem's path ({@code plugins.limit-count.count}, {@code
   * nodes[1].host}) inside the object at {@code base}. A name holding a dot ({@code
   * nodes.127.0.0.1:80}) points at its parent, which is the closest line found.
   */
  public static String pointer(String base, String path) {
    var out = new StringBuilder(base);
    if (path == null || path.isEmpty()) {
      return out.toString();
    }
    var m = STEP.matcher(path);
    while (m.find()) {
      var step = m.group(1) != null ? m.group(1) : m.group(2);
      out.append('/').append(step.replace("~", "~0").replace("/", "~1"));
    }
    return out.toString();
  }
}
