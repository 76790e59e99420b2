package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/**
 * The plugins this dataplane runs, found through {@link ServiceLoader}, and the compiler from a
 * {@code plugins} object to a {@link PluginChain}: each configuration is checked against its schema
 * ({@link PluginSchemas}), then compiled by its plugin, once.
 */
public final class PluginRegistry {

  private final Map<String, Plugin> plugins;

  private PluginRegistry(Map<String, Plugin> plugins) {
    this.plugins = plugins;
  }

  /** Every plugin on the class path. */
  public static PluginRegistry load() {
    var out = new TreeMap<String, Plugin>();
    for (var p : ServiceLoader.load(Plugin.class, PluginRegistry.class.getClassLoader())) {
      var before = out.putIfAbsent(p.name(), p);
      if (before != null) {
        throw new IllegalStateException(
            "two plugins named " + p.name() + ": " + before.getClass() + ", " + p.getClass());
      }
    }
    return new PluginRegistry(out);
  }

  public Plugin get(String name) {
    return plugins.get(name);
  }

  public Set<String> names() {
    return plugins.keySet();
  }

  /** The field a consumer credential plugin identifies consumers by, or {@code null}. */
  public String credentialField(String name) {
    var p = plugins.get(name);
    return p == null ? null : p.credentialField();
  }

  /** The plugins that may declare inline upstreams ({@link Plugin#inlineUpstreams}). */
  public List<Plugin> withInlineUpstreams() {
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

  /** Compiles one plugin configuration; {@code null} when it has problems or is disabled. */
  public PluginChain.Entry compileOne(
      String name, ObjectNode conf, PluginScope scope, String at, List<Problem> problems) {
    var plugin = plugins.get(name);
    if (plugin == null) {
      problems.add(
          new Problem(
              at,
              PluginSchemas.known(name)
                  ? "plugin \""
                      + name
                      + "\" is not run by this dataplane (expected: one of "
                      + String.join(", ", plugins.keySet())
                      + ")"
                  : "unknown plugin \"" + name + "\" (expected: a plugin Archway runs)"));
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
      return new PluginChain.Entry(name, priority, plugin.compile(conf, scope), false);
    } catch (IllegalArgumentException ex) {
      problems.add(new Problem(at, ex.getMessage()));
      return null;
    }
  }
}
