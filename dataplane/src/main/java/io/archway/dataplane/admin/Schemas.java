package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.Kind;
import io.archway.model.KindSchemas;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The bodies of the Admin API's schema and plugin endpoints, as APISIX 3.x shapes them; pure
 * functions of the kind schemas ({@link KindSchemas}) and the plugin registry, so the server only
 * routes and writes them out:
 *
 * <ul>
 *   <li>{@code GET /apisix/admin/schema/{kind}} ({@code route}, {@code upstream}, ..., {@code
 *       plugin_metadata/{plugin}}): {@link #kind};
 *   <li>{@code GET /apisix/admin/schema/plugins/{name}} and {@code GET
 *       /apisix/admin/plugins/{name}} ({@code ?subsystem=http|stream}): {@link #plugin}, the
 *       plugin's schema itself;
 *   <li>{@code GET /apisix/admin/plugins/list} ({@code ?subsystem=}): {@link #pluginNames}, a JSON
 *       array of names, highest priority first;
 *   <li>{@code GET /apisix/admin/plugins?all=true}: {@link #allPlugins}, name to {@code {priority,
 *       schema, ...}}.
 * </ul>
 *
 * The schemas describe; the Java readers and the plugin schemas' validation decide what is written.
 */
final class Schemas {

  private Schemas() {}

  /**
   * The plugins Archway runs on stream routes: none yet (a stream route's Redis loggers are its
   * protocol's, not plugins), so the stream subsystem lists nothing rather than plugins that would
   * not run there.
   */
  static final Set<String> STREAM_PLUGINS = Set.of();

  /**
   * Why {@code subsystem} is refused (APISIX's 400 {@code "unsupported subsystem: x"}), or {@code
   * null}: absent, {@code http} and {@code stream} are fine.
   */
  static String subsystemProblem(String subsystem) {
    if (subsystem == null || subsystem.equals("http") || subsystem.equals("stream")) {
      return null;
    }
    return "unsupported subsystem: " + subsystem;
  }

  /**
   * The schema served at {@code /schema/{name}}: a kind's ({@code route}), or {@code
   * plugin_metadata/{plugin}} for a plugin the registry runs; empty for anything else (a 404).
   */
  static Optional<JsonNode> kind(String name, PluginRegistry registry) {
    if (name.startsWith("plugin_metadata/")) {
      var plugin = name.substring("plugin_metadata/".length());
      if (registry.get(plugin) == null) {
        return Optional.empty();
      }
      var schema = (ObjectNode) KindSchemas.json(Kind.PLUGIN_METADATA);
      schema.put("title", "plugin_metadata/" + plugin);
      var id = (ObjectNode) schema.path("properties").path("id");
      id.removeAll();
      id.put("description", "The plugin's name.");
      id.put("const", plugin);
      return Optional.of(schema);
    }
    return KindSchemas.kind(name).map(KindSchemas::json);
  }

  /** The names {@code /schema/{name}} serves for kinds, sorted. */
  static List<String> kindNames() {
    var out = new ArrayList<String>();
    for (var k : Kind.values()) {
      out.add(KindSchemas.name(k));
    }
    out.sort(Comparator.naturalOrder());
    return out;
  }

  /** Whether {@code name} runs in {@code subsystem} ({@code null}: http). */
  private static boolean runs(PluginRegistry registry, String name, String subsystem) {
    if ("stream".equals(subsystem)) {
      return STREAM_PLUGINS.contains(name) && registry.get(name) != null;
    }
    return registry.get(name) != null;
  }

  /**
   * The schema of plugin {@code name} in {@code subsystem} (a copy), or empty when it does not run
   * there (APISIX's 404 {@code "plugin not found"}).
   */
  static Optional<JsonNode> plugin(PluginRegistry registry, String name, String subsystem) {
    if (!runs(registry, name, subsystem)) {
      return Optional.empty();
    }
    return registry.schema(name).map(s -> (JsonNode) s);
  }

  /**
   * {@code ?schema_type=consumer}: the consumer-side schema of an authentication plugin (what a
   * consumer's or a credential's configuration of it holds, APISIX's {@code consumer_schema}), a
   * copy; empty for the other plugins. The Admin API and the consumer compiler validate with the
   * same schema ({@link PluginSchemas#checkConsumer}).
   */
  static Optional<JsonNode> consumerSchema(String name) {
    var also = io.archway.dataplane.plugin.SecretFields.consumerAlso(name);
    return PluginSchemas.consumerSchema(name)
        .map(s -> io.archway.dataplane.plugin.SecretFields.mark(s.json().deepCopy(), also));
  }

  /** The plugins that run in {@code subsystem}: their names, highest priority first. */
  static ArrayNode pluginNames(PluginRegistry registry, String subsystem) {
    var out = ModelJson.mapper().createArrayNode();
    sorted(registry, subsystem).forEach(i -> out.add(i.name()));
    return out;
  }

  /**
   * {@code ?all=true}: each plugin by name with its {@code priority}, {@code schema}, and, for the
   * Studio, Archway's {@code phases} and {@code results} (what it publishes for a plugin flow's
   * conditions).
   */
  static ObjectNode allPlugins(PluginRegistry registry, String subsystem) {
    var out = ModelJson.mapper().createObjectNode();
    for (var info : sorted(registry, subsystem)) {
      var p = out.putObject(info.name());
      p.put("priority", info.priority());
      p.put("category", info.category().label());
      if (info.schema() != null) {
        p.set("schema", info.schema());
      }
      var phases = p.putArray("phases");
      info.phases().stream()
          .sorted()
          .forEach(ph -> phases.add(ph.name().toLowerCase(java.util.Locale.ROOT)));
      var results = p.putArray("results");
      info.results().stream().sorted().forEach(results::add);
    }
    return out;
  }

  private static List<PluginRegistry.Info> sorted(PluginRegistry registry, String subsystem) {
    return registry.list().stream()
        .filter(i -> runs(registry, i.name(), subsystem))
        .sorted(
            Comparator.comparingInt(PluginRegistry.Info::priority)
                .reversed()
                .thenComparing(PluginRegistry.Info::name))
        .toList();
  }
}
