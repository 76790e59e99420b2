package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The plugins Archway runs on stream (L4) routes and their schemas, {@code
 * io/archway/model/plugins/stream/<name>.json}.
 *
 * <p>APISIX's stream plugins share the HTTP plugins' names but not always their configurations:
 * stream {@code syslog} has no request or response bodies, stream {@code limit-conn} counts by
 * {@code remote_addr} or {@code server_addr} only, {@code mqtt-proxy} exists on streams alone. So
 * each stream plugin has a schema of its own, in its own directory, and a stream route's plugins
 * are checked against these and never against the HTTP ones ({@link PluginSchemas}): a name that is
 * an HTTP plugin only is refused on a stream route, and {@code mqtt-proxy} on an HTTP route stays
 * unknown there, as in APISIX.
 */
public final class StreamPluginSchemas {

  private StreamPluginSchemas() {}

  private static final String DIR = "io/archway/model/plugins/stream/";

  /** The stream plugins the dataplane runs (each has its schema; a test checks it). */
  private static final Set<String> NAMES =
      Set.of("ip-restriction", "limit-conn", "mqtt-proxy", "prometheus", "syslog");

  private static final Map<String, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();

  /** The stream plugins Archway runs, sorted. */
  public static Set<String> names() {
    return new TreeSet<>(NAMES);
  }

  public static boolean runs(String name) {
    return NAMES.contains(name);
  }

  /** The stream schema of {@code name}; empty for a plugin that does not run on stream routes. */
  public static Optional<JsonSchema> schema(String name) {
    if (!runs(name)) {
      return Optional.empty();
    }
    return Optional.of(SCHEMAS.computeIfAbsent(name, StreamPluginSchemas::load));
  }

  private static JsonSchema load(String name) {
    var file = DIR + name + ".json";
    try (var in = StreamPluginSchemas.class.getClassLoader().getResourceAsStream(file)) {
      if (in == null) {
        throw new IllegalStateException("stream plugin schema " + file + ": missing");
      }
      return JsonSchema.parse(ModelJson.mapper().readTree(in), file);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("stream plugin schema " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The problems of {@code conf} as the configuration of plugin {@code name} on a stream route,
   * each with a path under {@code path}; empty when it is valid.
   */
  public static List<Problem> check(String name, JsonNode conf, String path) {
    var problems = new ArrayList<Problem>();
    var schema = schema(name);
    if (schema.isEmpty()) {
      problems.add(new Problem(path, notRun(name)));
      return problems;
    }
    if (conf == null || !conf.isObject()) {
      problems.add(new Problem(path, Fields.show(conf) + " (expected: object)"));
      return problems;
    }
    schema.get().validate(PluginSchemas.withoutMeta(conf), path, problems);
    return problems;
  }

  /**
   * Why {@code name} does not run on a stream route: {@link PluginSchemas#notRun}'s message for a
   * name refused, unknown or not run at all, else (an HTTP plugin) that it is not a stream plugin.
   */
  public static String notRun(String name) {
    return PluginSchemas.notRun(name)
        .orElseGet(
            () ->
                "plugin \""
                    + name
                    + "\" does not run on stream routes (expected: one of "
                    + String.join(", ", names())
                    + ")");
  }
}
