package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.PluginMetadata;
import io.archway.model.source.ConfigItem;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands {@code plugin_metadata} to the plugins: every plugin's metadata to {@link PluginServices}
 * (read when used), and a changed one to its plugin ({@code Plugin.metadata}).
 */
final class PluginMetadataApplier {

  private static final Logger log = LoggerFactory.getLogger(PluginMetadataApplier.class);

  private PluginMetadataApplier() {}

  static void apply(
      Map<String, ConfigItem> items, PluginRegistry registry, PluginServices services) {
    var now = new HashMap<String, ObjectNode>();
    items
        .values()
        .forEach(
            i -> now.put(((PluginMetadata) i.value()).id(), ((PluginMetadata) i.value()).value()));
    var names = new HashSet<String>(now.keySet());
    for (var name : registry.names()) {
      if (services.metadata(name) != null) {
        names.add(name);
      }
    }
    for (var name : names) {
      var before = services.metadata(name);
      var after = now.get(name);
      var plugin = registry.get(name);
      if (plugin == null || Objects.equals(before, after)) {
        continue;
      }
      try {
        plugin.metadata(after, services);
      } catch (IllegalArgumentException e) {
        // Not applied, and not handed to the plugin's uses either: checked again on each change.
        log.warn("plugin_metadata/{}: {} (not applied)", name, e.getMessage());
        now.remove(name);
      }
    }
    services.metadata(now);
  }
}
