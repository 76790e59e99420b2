package io.archway.model.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactoryBuilder;
import io.archway.model.ConfigObject;
import io.archway.model.Credential;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.ModelJson;
import io.archway.model.ValidationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * APISIX's standalone {@code apisix.yaml}: top-level {@code routes:}, {@code upstreams:}, {@code
 * services:}, {@code consumers:}, {@code plugin_configs:}, {@code global_rules:}, {@code ssls:},
 * {@code stream_routes:}, {@code plugin_metadata:}, {@code consumer_groups:}, {@code credentials:}
 * (ids {@code <username>/credentials/<id>}) and Archway's {@code plugin_flows:}, each a list of
 * objects (a credential may also be in {@code consumers:}, with its whole id, as APISIX lists it),
 * and a final {@code #END} line that marks a complete write. An object without an id gets its
 * 1-based position in its list, as APISIX does.
 */
public final class StandaloneFile {

  /**
   * The largest file read, in code points: SnakeYAML's default (3 MiB) is below what 10,000 routes
   * take, so it is raised to a bound that still stops a runaway file before it exhausts the heap.
   */
  public static final int MAX_CODE_POINTS = 256 * 1024 * 1024;

  private static final ObjectMapper YAML = new ObjectMapper(yamlFactory());
  public static final String END_MARKER = "#END";

  private StandaloneFile() {}

  /** A YAML factory that reads documents up to {@link #MAX_CODE_POINTS}. */
  public static YAMLFactory yamlFactory() {
    return yamlFactoryBuilder().build();
  }

  /** The builder of {@link #yamlFactory()}, for a caller adding its own features. */
  public static YAMLFactoryBuilder yamlFactoryBuilder() {
    var options = new LoaderOptions();
    options.setCodePointLimit(MAX_CODE_POINTS);
    // The builder starts with no parser features, unlike new YAMLFactory(): keep its default of
    // reading an empty value (`key-auth:`) as null, which means "the plugin's defaults".
    return YAMLFactory.builder()
        .loaderOptions(options)
        .enable(com.fasterxml.jackson.dataformat.yaml.YAMLParser.Feature.EMPTY_STRING_AS_NULL);
  }

  /**
   * Parses and validates a whole file; all or nothing.
   *
   * @param name how problems name the file
   * @throws ConfigFileException with every problem found
   */
  public static Map<Key, ConfigObject> parse(byte[] content, String name)
      throws ConfigFileException {
    return parse(content, name, System::getenv);
  }

  /** As {@link #parse(byte[], String)}, with {@code env} for the {@code ${{VAR}}} substitutions. */
  public static Map<Key, ConfigObject> parse(
      byte[] content, String name, Function<String, String> env) throws ConfigFileException {
    return read(content, name, env).objects();
  }

  /**
   * One object of the file as written: its key, its place ({@code /routes/0}, a JSON pointer into
   * the document) and its JSON.
   */
  public record Item(Key key, String pointer, JsonNode json) {}

  /** A file read whole: its objects by key, and the items they came from, in file order. */
  public record Read(Map<Key, ConfigObject> objects, List<Item> items) {}

  /**
   * Parses and validates a whole file, keeping where each object is; all or nothing.
   *
   * @throws ConfigFileException with every problem found, and where each is ({@link
   *     ConfigFileException#spots()})
   */
  public static Read read(byte[] content, String name, Function<String, String> env)
      throws ConfigFileException {
    var raw = new String(content, StandardCharsets.UTF_8);
    if (!hasEndMarker(raw)) {
      throw new ConfigFileException(
          List.of(
              name
                  + ": no final "
                  + END_MARKER
                  + " line (expected: a complete write ending with "
                  + END_MARKER
                  + ")"),
          List.of(new ConfigFileException.Spot(null, (int) raw.lines().count())),
          true);
    }
    var text = substitute(raw, name, env);
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (IOException e) {
      int line =
          e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                  && j.getLocation() != null
              ? Math.max(0, j.getLocation().getLineNr())
              : 0;
      throw new ConfigFileException(
          List.of(name + ": not valid YAML: " + yamlError(e)),
          List.of(new ConfigFileException.Spot(null, line)),
          false);
    }
    var out = new LinkedHashMap<Key, ConfigObject>();
    var items = new ArrayList<Item>();
    if (root == null || root.isMissingNode() || root.isNull()) {
      return new Read(out, items);
    }
    var problems = new ArrayList<String>();
    var spots = new ArrayList<ConfigFileException.Spot>();
    var listed = new ArrayList<Listed>();
    if (!root.isObject()) {
      throw new ConfigFileException(
          List.of(
              name
                  + ": top level is "
                  + root.getNodeType().name().toLowerCase()
                  + " (expected: a mapping of sections such as routes:)"),
          List.of(new ConfigFileException.Spot("", 0)),
          false);
    }
    for (var section : root.properties()) {
      var at = YamlLines.pointer("", section.getKey());
      var kind = Kind.ofDir(section.getKey());
      if (kind.isEmpty()) {
        listed.add(
            Listed.problem(
                name
                    + ": "
                    + section.getKey()
                    + ": unknown section (expected one of: "
                    + sections()
                    + ")",
                at));
        continue;
      }
      var list = section.getValue();
      if (list.isNull()) {
        continue;
      }
      if (!list.isArray()) {
        listed.add(
            Listed.problem(
                name + ": " + section.getKey() + ": not a list (expected: a list of objects)", at));
        continue;
      }
      for (int i = 0; i < list.size(); i++) {
        var item = list.get(i);
        var itemKind = credentialInConsumers(kind.get(), item) ? Kind.CREDENTIALS : kind.get();
        var idNode = item.get(itemKind.idField());
        var where =
            section.getKey()
                + (idNode != null && idNode.isValueNode() ? "/" + idNode.asText() : "[" + i + "]");
        var fallbackId =
            itemKind == Kind.CONSUMERS || itemKind == Kind.CREDENTIALS || itemKind == Kind.SECRETS
                ? null
                : Integer.toString(i + 1);
        listed.add(
            new Listed(
                section.getKey(),
                at + "/" + i,
                where,
                itemKind,
                item,
                idNode == null ? fallbackId : null,
                name + ": " + where,
                null));
      }
    }
    // Reading each object is pure and most of a big file's cost after the YAML itself: spread
    // over the cores, then recorded in the file's order (duplicates and problems as listed).
    var stream = listed.size() >= PARALLEL_FROM ? listed.parallelStream() : listed.stream();
    var outcomes = stream.map(StandaloneFile::readListed).toList();
    for (int k = 0; k < listed.size(); k++) {
      var l = listed.get(k);
      var outcome = outcomes.get(k);
      if (l.problem() != null) {
        problems.add(l.problem());
        spots.add(new ConfigFileException.Spot(l.at(), 0));
      } else if (outcome instanceof ConfigObject obj) {
        var key = new Key(l.kind(), obj.id());
        if (out.putIfAbsent(key, obj) != null) {
          problems.add(
              name + ": " + l.where() + ": duplicate id \"" + obj.id() + "\" in " + l.section());
          spots.add(new ConfigFileException.Spot(l.at(), 0));
        } else {
          items.add(new Item(key, l.at(), l.node()));
        }
      } else {
        var e = (ValidationException) outcome;
        problems.addAll(e.lines());
        for (var p : e.problems()) {
          spots.add(new ConfigFileException.Spot(YamlLines.pointer(l.at(), p.path()), 0));
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigFileException(problems, spots, false);
    }
    return new Read(out, items);
  }

  /** Files with this many objects or more have them read in parallel. */
  private static final int PARALLEL_FROM = 512;

  /** One object as listed in the file, before it is read; or a section's problem, in its place. */
  private record Listed(
      String section,
      String at,
      String where,
      Kind kind,
      JsonNode node,
      String fallbackId,
      String context,
      String problem) {

    static Listed problem(String problem, String at) {
      return new Listed(null, at, null, null, null, null, null, problem);
    }
  }

  /** The object read, or the {@link ValidationException} that says why not. */
  private static Object readListed(Listed l) {
    if (l.problem() != null) {
      return null;
    }
    try {
      return ModelJson.read(l.kind(), l.node(), l.fallbackId(), l.context());
    } catch (ValidationException e) {
      return e;
    }
  }

  /**
   * A YAML parser's message on one line: SnakeYAML's own lines ({@code while parsing a flow
   * sequence}, {@code expected ',' or ']', but got StreamEnd}), without the excerpts and positions
   * between them (the line is given apart).
   */
  static String yamlError(IOException e) {
    var m =
        e instanceof com.fasterxml.jackson.core.JsonProcessingException j
            ? j.getOriginalMessage()
            : e.getMessage();
    if (m == null || m.isBlank()) {
      return Messages.oneLine(e);
    }
    var kept = m.lines().filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0))).toList();
    return kept.isEmpty() ? Messages.oneLine(e) : String.join("; ", kept);
  }

  /**
   * APISIX lists a consumer's credentials in the {@code consumers:} section, as objects with no
   * {@code username} and an {@code id} of {@code <username>/credentials/<id>}.
   */
  public static boolean credentialInConsumers(Kind section, JsonNode item) {
    return section == Kind.CONSUMERS
        && item != null
        && !item.has("username")
        && Credential.isId(item.path("id").asText(null));
  }

  /**
   * APISIX's environment substitution in the standalone file: {@code ${{VAR}}} is the value of
   * {@code VAR}, {@code ${{VAR:=default}}} the same or {@code default} when it is unset. An unset
   * variable without a default is an error naming it and its line (APISIX refuses the file too),
   * never an empty string that would change what the file means.
   */
  static String substitute(String text, String name, Function<String, String> env)
      throws ConfigFileException {
    if (!text.contains("${{")) {
      return text;
    }
    var problems = new ArrayList<String>();
    var spots = new ArrayList<ConfigFileException.Spot>();
    var out = new StringBuilder(text.length());
    int line = 1;
    int last = 0;
    var m = ENV_VAR.matcher(text);
    while (m.find()) {
      line += count(text, last, m.start());
      out.append(text, last, m.start());
      var value = env.apply(m.group(1));
      if (value == null) {
        value = m.group(2);
      }
      if (value == null) {
        problems.add(
            name
                + ": line "
                + line
                + ": "
                + m.group()
                + ": environment variable "
                + m.group(1)
                + " is not set (expected: set it, or give a default: ${{"
                + m.group(1)
                + ":=default}})");
        spots.add(new ConfigFileException.Spot(null, line));
        value = "";
      }
      out.append(value);
      last = m.end();
    }
    out.append(text, last, text.length());
    if (!problems.isEmpty()) {
      throw new ConfigFileException(problems, spots, false);
    }
    return out.toString();
  }

  private static final Pattern ENV_VAR =
      Pattern.compile("\\$\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*(?::=([^}]*))?\\}\\}");

  private static int count(String text, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      if (text.charAt(i) == '\n') {
        n++;
      }
    }
    return n;
  }

  /** Whether the last non-blank line is {@code #END}. */
  static boolean hasEndMarker(String text) {
    int end = text.length();
    while (end > 0) {
      int start = text.lastIndexOf('\n', end - 1) + 1;
      var line = text.substring(start, end).strip();
      if (!line.isEmpty()) {
        return line.equals(END_MARKER);
      }
      end = start - 1;
    }
    return false;
  }

  private static String sections() {
    return String.join(", ", Arrays.stream(Kind.values()).map(Kind::dir).toList());
  }
}
