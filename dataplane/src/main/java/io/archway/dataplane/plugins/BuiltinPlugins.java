package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginSource;
import io.archway.model.PluginSchemas;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;

/**
 * The plugins of this package: for each plugin schema ({@link PluginSchemas#withSchema()}), the
 * class named after it here ({@code real-ip}: {@code RealIpPlugin}). Registered once as a {@link
 * java.util.ServiceLoader} provider, so adding a plugin is its class and its schema, with no list
 * to edit; {@code PluginRegistryTest} checks that every schema has its class and every class its
 * schema.
 */
public final class BuiltinPlugins implements PluginSource {

  @Override
  public List<Plugin<?>> plugins() {
    var out = new ArrayList<Plugin<?>>();
    for (var name : PluginSchemas.withSchema()) {
      var type = className(name);
      Class<?> c;
      try {
        c = Class.forName(type, true, BuiltinPlugins.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        continue; // a plugin the operator knows that this dataplane does not run
      }
      try {
        var plugin = (Plugin<?>) c.getConstructor().newInstance();
        if (!plugin.name().equals(name)) {
          throw new IllegalStateException(type + " is named " + plugin.name() + ", not " + name);
        }
        out.add(plugin);
      } catch (ReflectiveOperationException | ClassCastException e) {
        var cause = e instanceof InvocationTargetException i ? i.getCause() : e;
        throw new IllegalStateException("plugin " + name + ": " + type + ": " + cause, cause);
      }
    }
    return out;
  }

  /** {@code real-ip} → {@code io.archway.dataplane.plugins.RealIpPlugin}. */
  static String className(String name) {
    var out = new StringBuilder(BuiltinPlugins.class.getPackageName()).append('.');
    for (var part : name.split("-")) {
      if (!part.isEmpty()) {
        out.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
      }
    }
    return out.append("Plugin").toString();
  }
}
