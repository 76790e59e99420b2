package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.PluginSchemas;
import io.archway.model.StreamPluginSchemas;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The stream plugins on the class path ({@link ServiceLoader} providers of {@link StreamPlugin};
 * the built-in ones are {@code io.archway.dataplane.plugins.Stream<Name>}), and how a stream
 * route's {@code plugins} become a {@link StreamChain}: each configuration checked against its
 * stream schema ({@link StreamPluginSchemas}, never the HTTP one of the same name), completed with
 * the schema's defaults, bound to the plugin's record and compiled.
 */
public final class StreamPluginRegistry {

  private static final ObjectMapper BINDER =
      JsonMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  private final Map<String, StreamPlugin<?>> plugins;

  private StreamPluginRegistry(Map<String, StreamPlugin<?>> plugins) {
    this.plugins = plugins;
  }

  /** Every stream plugin on the class path. */
  public static StreamPluginRegistry load() {
    var out = new TreeMap<String, StreamPlugin<?>>();
    for (var p :
        ServiceLoader.load(StreamPlugin.class, StreamPluginRegistry.class.getClassLoader())) {
      if (!StreamPluginSchemas.runs(p.name())) {
        throw new IllegalStateException(
            "stream plugin " + p.name() + " (" + p.getClass().getName() + ") has no stream schema");
      }
      if (out.put(p.name(), p) != null) {
        throw new IllegalStateException("stream plugin " + p.name() + " registered twice");
      }
    }
    return new StreamPluginRegistry(Collections.unmodifiableMap(out));
  }

  /** The stream plugins, by name. */
  public Map<String, StreamPlugin<?>> plugins() {
    return plugins;
  }

  /**
   * Compiles a stream route's plugins, highest priority first; {@code _meta.disable} leaves one
   * out.
   *
   * @throws IllegalArgumentException naming the plugin and the field at fault
   */
  public StreamChain compile(Map<String, ObjectNode> conf, PluginScope scope) {
    if (conf == null || conf.isEmpty()) {
      return StreamChain.EMPTY;
    }
    var compiled = new ArrayList<Map.Entry<StreamPlugin<?>, StreamPluginInstance>>();
    for (var e : conf.entrySet()) {
      var name = e.getKey();
      var problems = StreamPluginSchemas.check(name, e.getValue(), "plugins." + name);
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(problems.get(0).toString());
      }
      var plugin = plugins.get(name);
      if (plugin == null) {
        throw new IllegalArgumentException(
            "plugins." + name + ": stream plugin \"" + name + "\" is not on the class path");
      }
      var meta = e.getValue().get("_meta");
      if (meta != null && meta.path("disable").asBoolean(false)) {
        continue;
      }
      try {
        compiled.add(Map.entry(plugin, compileOne(plugin, e.getValue(), scope)));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("plugins." + name + ": " + ex.getMessage(), ex);
      }
    }
    compiled.sort(Comparator.comparingInt(x -> -x.getKey().priority()));
    var instances = new ArrayList<StreamPluginInstance>();
    var names = new ArrayList<String>();
    for (var x : compiled) {
      instances.add(x.getValue());
      names.add(x.getKey().name());
    }
    return new StreamChain(instances, names);
  }

  private static <C extends Record> StreamPluginInstance compileOne(
      StreamPlugin<C> plugin, JsonNode conf, PluginScope scope) {
    return plugin.compile(bind(plugin, conf), scope);
  }

  /** Binds a checked configuration, with its stream schema's defaults, to the plugin's record. */
  public static <C extends Record> C bind(StreamPlugin<C> plugin, JsonNode conf) {
    var bare = PluginSchemas.withoutMeta(conf);
    var complete =
        StreamPluginSchemas.schema(plugin.name()).map(s -> s.withDefaults(bare)).orElse(bare);
    try {
      return BINDER.treeToValue(complete, plugin.configType());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "does not fit " + plugin.configType().getSimpleName() + ": " + e.getOriginalMessage());
    }
  }
}
