package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.model.Problem;
import java.util.ArrayList;
import java.util.stream.Collectors;

/**
 * Plugins configured inside another plugin's configuration (multi-auth's entries, the plugins of a
 * traffic-split entry), compiled as the route's are: the built-ins and the providers, loaded once.
 */
final class NestedPlugins {

  private NestedPlugins() {}

  private static final class Registry {
    static final PluginRegistry INSTANCE = PluginRegistry.load();
  }

  static PluginRegistry registry() {
    return Registry.INSTANCE;
  }

  /**
   * The instance of plugin {@code name} for {@code conf} (checked against its schema), or {@code
   * null} when it is disabled; an {@link IllegalArgumentException} naming {@code at} when it is not
   * valid.
   */
  static PluginInstance compile(String name, ObjectNode conf, PluginScope scope, String at) {
    var problems = new ArrayList<Problem>();
    var entry = registry().compileOne(name, conf, scope, at, problems);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          problems.stream().map(Problem::toString).collect(Collectors.joining("; ")));
    }
    return entry == null ? null : entry.instance();
  }
}
