package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import io.archway.model.ValueRefs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/**
 * The plugins this dataplane runs and the compiler from a {@code plugins} object to a {@link
 * PluginChain}: each configuration is checked against its plugin's schema ({@link PluginSchemas}),
 * completed with the schema's defaults, bound to the plugin's record, then compiled by its plugin,
 * once.
 *
 * <p>Plugins are found through {@link ServiceLoader}: the {@link PluginSource}s (the built-in
 * plugins come from one), and single {@link Plugin} providers.
 */
public final class PluginRegistry {

  /** A plugin as the Admin API and the Studio list it. */
  public record Info(
      String name,
      int priority,
      Set<Plugin.Phase> phases,
      Set<String> results,
      JsonNode schema,
      Plugin.Category category) {}

  /**
   * Binds checked configurations: unknown fields are let through, as the schema decided about them
   * (the loose ones of the rate limiters).
   */
  private static final ObjectMapper BINDER =
      JsonMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  private final Map<String, Plugin<?>> plugins;
  private volatile ValueRefs.Secrets secrets =
      (manager, id, path, key) -> {
        throw new ValueRefs.Unresolved(
            "no secret manager secrets/" + manager + "/" + id + " (expected: a secrets object)");
      };

  private PluginRegistry(Map<String, Plugin<?>> plugins) {
    this.plugins = plugins;
  }

  /** Every plugin on the class path. */
  public static PluginRegistry load() {
    var out = new TreeMap<String, Plugin<?>>();
    var loader = PluginRegistry.class.getClassLoader();
    for (var source : ServiceLoader.load(PluginSource.class, loader)) {
      source.plugins().forEach(p -> add(out, p));
    }
    for (var p : ServiceLoader.load(Plugin.class, loader)) {
      add(out, p);
    }
    return new PluginRegistry(out);
  }

  private static void add(Map<String, Plugin<?>> out, Plugin<?> p) {
    var before = out.putIfAbsent(p.name(), p);
    // The same class found twice (a built-in also listed as a provider of Plugin) is one plugin.
    if (before != null && before.getClass() != p.getClass()) {
      throw new IllegalStateException(
          "two plugins named " + p.name() + ": " + before.getClass() + ", " + p.getClass());
    }
  }

  public Plugin<?> get(String name) {
    return plugins.get(name);
  }

  /** The names of the plugins, sorted. */
  public Set<String> names() {
    return plugins.keySet();
  }

  /** Every plugin with its schema, sorted by name. */
  public List<Info> list() {
    var out = new ArrayList<Info>(plugins.size());
    for (var p : plugins.values()) {
      out.add(
          new Info(
              p.name(),
              p.priority(),
              Set.copyOf(p.phases()),
              Set.copyOf(p.results()),
              schema(p.name()).orElse(null),
              p.category()));
    }
    return List.copyOf(out);
  }

  /**
   * The JSON Schema of plugin {@code name}'s configuration (a copy); empty when it is not run here.
   */
  public Optional<JsonNode> schema(String name) {
    if (!plugins.containsKey(name)) {
      return Optional.empty();
    }
    // A copy: the schema read is shared, and a caller (the Admin API) may add to what it serves.
    // Secret fields are marked writeOnly for forms that mask them.
    return PluginSchemas.schema(name)
        .map(s -> SecretFields.mark(s.json().deepCopy(), SecretFields.also(name)));
  }

  /**
   * Where the compiler reads {@code $secret://} references from (the config's secret managers);
   * until it is set, every such reference is an error.
   */
  public void secrets(ValueRefs.Secrets secrets) {
    this.secrets = secrets;
  }

  /** What {@link #secrets(ValueRefs.Secrets)} set. */
  public ValueRefs.Secrets secrets() {
    return secrets;
  }

  /** The field a consumer credential plugin identifies consumers by, or {@code null}. */
  public String credentialField(String name) {
    var p = plugins.get(name);
    return p == null ? null : p.credentialField();
  }

  /** The plugins that may declare inline upstreams ({@link Plugin#inlineUpstreams}). */
  public List<Plugin<?>> withInlineUpstreams() {
    return plugins.values().stream().filter(Plugin::hasInlineUpstreams).toList();
  }

  /**
   * Compiles {@code configs}; every problem is added to {@code problems} with a path under {@code
   * path} (e.g. {@code plugins.limit-count.count}), and a plugin with problems is left out of the
   * chain. {@code _meta.disable: true} leaves a plugin out; {@code _meta.priority} reorders it.
   */
  public PluginChain compile(
      Map<String, ObjectNode> configs, PluginScope scope, String path, List<Problem> problems) {
    if (configs == null || configs.isEmpty()) {
      return PluginChain.EMPTY;
    }
    var entries = new ArrayList<PluginChain.Entry>(configs.size());
    for (var e : configs.entrySet()) {
      var entry = compileOne(e.getKey(), e.getValue(), scope, path + "." + e.getKey(), problems);
      if (entry != null) {
        entries.add(entry);
      }
    }
    return PluginChain.of(entries);
  }

  /** What a dry-run sees for {@code $env://NAME}: the reference, never the value. */
  static String envPlaceholder(String name) {
    return "<secret " + ValueRefs.ENV + name + ">";
  }

  /** What a dry-run sees for a {@code $secret://} reference: the reference, never the value. */
  static final ValueRefs.Secrets SECRET_PLACEHOLDER =
      (manager, id, path, key) ->
          "<secret " + ValueRefs.SECRET + manager + "/" + id + "/" + path + "/" + key + ">";

  /** Compiles one plugin configuration; {@code null} when it has problems or is disabled. */
  public PluginChain.Entry compileOne(
      String name, ObjectNode conf, PluginScope scope, String at, List<Problem> problems) {
    var plugin = plugins.get(name);
    if (plugin == null) {
      problems.add(
          new Problem(
              at,
              PluginSchemas.notRun(name)
                  .orElse(
                      "plugin \""
                          + name
                          + "\" has a schema but no class in this dataplane (a build error)")));
      return null;
    }
    var refs = new ArrayList<Problem>();
    // A dry-run never reads a secret (nor the environment): the value could come back in the
    // trace, and the read would be the admin thread's; a placeholder naming the reference stands
    // in.
    conf =
        scope.dryRun()
            ? ValueRefs.resolve(conf, at, PluginRegistry::envPlaceholder, SECRET_PLACEHOLDER, refs)
            : ValueRefs.resolve(conf, at, secrets, refs);
    if (!refs.isEmpty()) {
      problems.addAll(refs);
      return null;
    }
    var schema = PluginSchemas.check(name, conf, at);
    if (!schema.isEmpty()) {
      problems.addAll(schema);
      return null;
    }
    var meta = conf.get("_meta");
    if (meta != null && meta.path("disable").asBoolean(false)) {
      return null;
    }
    int priority = plugin.priority();
    if (meta != null && meta.path("priority").isInt()) {
      priority = meta.get("priority").intValue();
    }
    try {
      if (scope.dryRun() && plugin.dryRun() == Plugin.DryRun.REFUSED) {
        bind(plugin, conf); // checked as for real, never compiled
        return new PluginChain.Entry(
            name,
            priority,
            new DryRunRefused(
                name
                    + " cannot be simulated safely (it calls another service or keeps state it"
                    + " cannot keep to a dry-run): not run"),
            false);
      }
      return new PluginChain.Entry(name, priority, compile(plugin, conf, scope), false);
    } catch (IllegalArgumentException ex) {
      problems.add(new Problem(at, ex.getMessage()));
      return null;
    }
  }

  /**
   * Binds {@code conf} (checked) with its schema's defaults to the plugin's record.
   *
   * @throws IllegalArgumentException when it does not bind, which a schema that matches its record
   *     never lets happen
   */
  public static <C extends Record> C bind(Plugin<C> plugin, JsonNode conf) {
    var complete =
        PluginSchemas.schema(plugin.name())
            .map(s -> s.withDefaults(PluginSchemas.withoutMeta(conf)))
            .orElse(PluginSchemas.withoutMeta(conf));
    try {
      return BINDER.treeToValue(complete, plugin.configType());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "does not fit " + plugin.configType().getSimpleName() + ": " + e.getOriginalMessage());
    }
  }

  private static <C extends Record> PluginInstance compile(
      Plugin<C> plugin, JsonNode conf, PluginScope scope) {
    return plugin.compile(bind(plugin, conf), scope);
  }
}
