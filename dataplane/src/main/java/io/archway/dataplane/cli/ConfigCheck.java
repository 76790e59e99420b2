package io.archway.dataplane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.admin.AdminValidation;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.source.ConfigFileException;
import io.archway.model.source.StandaloneFile;
import io.archway.model.source.YamlLines;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * {@code --check FILE}: whether a standalone file can be served, found without starting anything
 * (no port, no connection, no thread of the gateway's). The same checks as serving it, in three
 * passes, each only when the one before found nothing (the later ones read what the earlier ones
 * accepted):
 *
 * <ol>
 *   <li>the file: {@code #END}, YAML, environment variables, the sections, and every object with
 *       the model's reader ({@link StandaloneFile#read});
 *   <li>every plugin configuration, by the plugin's schema and its binding, as an Admin API write
 *       is checked ({@link AdminValidation});
 *   <li>references by id to objects the file does not hold ({@code upstream_id}, {@code
 *       service_id}, ...): served, such a route answers 503 (APISIX lets objects arrive in any
 *       order); in a file checked whole it is a mistake.
 * </ol>
 *
 * Each problem is printed as {@code FILE:LINE: object: field: what is wrong (expected: ...)}, the
 * line found from the field's place in the YAML ({@link YamlLines}), the form editors and CI logs
 * link to. What only compiling a plugin finds (its own checks beyond the schema) is not found here;
 * the dataplane reports it when it serves the file ({@code /readyz}, the log).
 */
final class ConfigCheck {

  /** A problem and its line (0: not known). */
  record Finding(int line, String text) {}

  /** Fields holding the id of another object, by the kind of the object that holds them. */
  private static final Map<Kind, Map<String, Kind>> REFERENCES =
      Map.of(
          Kind.ROUTES,
          Map.of(
              "upstream_id", Kind.UPSTREAMS,
              "service_id", Kind.SERVICES,
              "plugin_config_id", Kind.PLUGIN_CONFIGS,
              "plugin_flow_id", Kind.PLUGIN_FLOWS),
          Kind.SERVICES,
          Map.of("upstream_id", Kind.UPSTREAMS),
          Kind.STREAM_ROUTES,
          Map.of("upstream_id", Kind.UPSTREAMS, "service_id", Kind.SERVICES),
          Kind.CONSUMERS,
          Map.of("group_id", Kind.CONSUMER_GROUPS));

  private ConfigCheck() {}

  /** Checks {@code file}, prints what it found; the exit status (0: servable, 1: not). */
  static int run(Path file, PrintStream out, PrintStream err) {
    var name = file.toString();
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      err.println(name + ": no such file");
      return 1;
    } catch (IOException e) {
      err.println(name + ": cannot read: " + e.getMessage());
      return 1;
    }
    var found = new ArrayList<Finding>();
    var objects = check(content, name, System::getenv, PluginRegistry.load(), found);
    if (found.isEmpty()) {
      out.println(name + ": OK, " + summary(objects));
      return 0;
    }
    found.sort(Comparator.comparingInt(Finding::line));
    for (var f : found) {
      err.println(f.line() > 0 ? name + ":" + f.line() + ": " + f.text() : name + ": " + f.text());
    }
    err.println(
        name
            + ": "
            + found.size()
            + (found.size() == 1 ? " problem" : " problems")
            + " (nothing was started; fix "
            + (found.size() == 1 ? "it" : "them")
            + " and run --check again)");
    return 1;
  }

  /**
   * Checks a file's {@code content}, adding a finding per problem; the objects it holds, by kind,
   * when it reads.
   *
   * @param name how problems name the file
   */
  static Map<Kind, Integer> check(
      byte[] content,
      String name,
      Function<String, String> env,
      PluginRegistry registry,
      List<Finding> found) {
    var text = new String(content, StandardCharsets.UTF_8);
    StandaloneFile.Read read;
    try {
      read = StandaloneFile.read(content, name, env);
    } catch (ConfigFileException e) {
      var lines = YamlLines.of(text);
      for (int i = 0; i < e.lines().size(); i++) {
        var spot = e.spots().get(i);
        int line = spot.line() > 0 ? spot.line() : lines.line(spot.pointer());
        found.add(new Finding(line, withoutName(e.lines().get(i), name)));
      }
      return Map.of();
    }
    var lines = YamlLines.of(text);
    var validation = new AdminValidation(registry);
    for (var item : read.items()) {
      if (!(item.json() instanceof ObjectNode value)) {
        continue; // the model's reader refused it already
      }
      var key = Keys.item(item.key().kind(), item.key().id());
      for (var p : validation.problems(key, value)) {
        var at = YamlLines.pointer(item.pointer(), p.path());
        found.add(new Finding(lines.line(at), key + ": " + p));
      }
    }
    if (found.isEmpty()) {
      references(read.items(), lines, found);
    }
    var counts = new TreeMap<Kind, Integer>();
    read.objects().keySet().forEach(k -> counts.merge(k.kind(), 1, Integer::sum));
    return counts;
  }

  /** References by id to objects the file does not hold. */
  private static void references(
      List<StandaloneFile.Item> items, YamlLines lines, List<Finding> found) {
    Set<Keys.Key> held = new HashSet<>();
    items.forEach(i -> held.add(i.key()));
    for (var item : items) {
      var fields = REFERENCES.getOrDefault(item.key().kind(), Map.of());
      for (var e : new TreeMap<>(fields).entrySet()) {
        JsonNode ref = item.json().get(e.getKey());
        if (ref == null || !ref.isValueNode() || ref.isNull()) {
          continue;
        }
        var target = e.getValue();
        if (!held.contains(new Keys.Key(target, ref.asText()))) {
          found.add(
              new Finding(
                  lines.line(item.pointer() + "/" + e.getKey()),
                  Keys.item(item.key().kind(), item.key().id())
                      + ": "
                      + e.getKey()
                      + ": \""
                      + ref.asText()
                      + "\" is not in the file (expected: the id of one of its "
                      + target.dir()
                      + ")"));
        }
      }
    }
  }

  private static String withoutName(String line, String name) {
    return line.startsWith(name + ": ") ? line.substring(name.length() + 2) : line;
  }

  private static String summary(Map<Kind, Integer> counts) {
    if (counts.isEmpty()) {
      return "no objects";
    }
    var parts = new ArrayList<String>();
    counts.forEach((kind, n) -> parts.add(kind.dir() + ": " + n));
    return String.join(", ", parts);
  }
}
