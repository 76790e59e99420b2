package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Consumers;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.Consumer;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.Problem;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Consumers: by name, and by credential for each credential plugin (a plugin that names the field
 * consumers are found by, {@link PluginRegistry#credentialField}); their other plugins compiled
 * into a chain. Compiled again only when the consumers map of the snapshot is a new one, i.e. when
 * a consumer changed; otherwise the last result and its rejected count stand.
 */
final class ConsumerCompiler {

  private final PluginRegistry registry;
  private final PluginServices services;
  private Map<String, ConfigItem> items;
  private Consumers consumers = Consumers.EMPTY;
  private int rejected;

  ConsumerCompiler(PluginRegistry registry, PluginServices services) {
    this.registry = registry;
    this.services = services;
  }

  Consumers compile(Map<String, ConfigItem> items, Rejections rejections) {
    if (items != this.items) {
      this.items = items;
      compile(items);
    }
    rejections.count(Kind.CONSUMERS, rejected);
    return consumers;
  }

  private void compile(Map<String, ConfigItem> items) {
    var byName = new HashMap<String, Consumers.Entry>();
    var byCredential = new HashMap<String, Map<String, Consumers.Entry>>();
    int bad = 0;
    for (var name : new TreeSet<>(items.keySet())) {
      var c = (Consumer) items.get(name).value();
      var credentials = new HashMap<String, ObjectNode>();
      var others = new LinkedHashMap<String, ObjectNode>();
      if (c.plugins() != null) {
        c.plugins()
            .forEach(
                (plugin, conf) -> {
                  if (registry.credentialField(plugin) != null) {
                    credentials.put(plugin, conf);
                  } else {
                    others.put(plugin, conf);
                  }
                });
      }
      var problems = new ArrayList<Problem>();
      var chain =
          registry.compile(
              others,
              new PluginScope(Keys.item(Kind.CONSUMERS, name), services),
              "plugins",
              problems);
      for (var e : credentials.entrySet()) {
        var field = registry.credentialField(e.getKey());
        var value = e.getValue().path(field);
        if (!value.isTextual() || value.textValue().isEmpty()) {
          problems.add(
              new Problem(
                  "plugins." + e.getKey() + "." + field, "missing (expected: a non-empty string)"));
        }
      }
      if (!problems.isEmpty()) {
        Rejections.warn(Kind.CONSUMERS, name, "not used", Messages.join(problems));
        bad++;
        continue;
      }
      var entry = new Consumers.Entry(name, Map.copyOf(credentials), chain, c.groupId());
      byName.put(name, entry);
      for (var e : credentials.entrySet()) {
        var value = e.getValue().get(registry.credentialField(e.getKey())).textValue();
        var other =
            byCredential
                .computeIfAbsent(e.getKey(), k -> new HashMap<>())
                .putIfAbsent(value, entry);
        if (other != null) {
          Rejections.warn(
              Kind.CONSUMERS,
              name,
              "plugins." + e.getKey(),
              "the same "
                  + registry.credentialField(e.getKey())
                  + " as consumer "
                  + other.username()
                  + " (expected: unique); not used");
        }
      }
    }
    consumers = new Consumers(Map.copyOf(byName), byCredential);
    rejected = bad;
  }
}
