package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.PluginConfig;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import io.archway.model.Route;
import io.archway.model.Service;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The plugins of objects no route compiles now: services and plugin configs (used or not, since a
 * route that names them later must not be the first to find out) and disabled routes. A plugin
 * Archway does not run, or a configuration its schema refuses, is an error that names it, as on a
 * served route; it would otherwise sit in the config unseen until the day it is used. Each object
 * is checked when its item changes; one with problems is counted every compile.
 */
final class PluginNames {

  private Map<ConfigItem, String> checked = new IdentityHashMap<>();

  void check(ConfigSnapshot snapshot, Rejections rejections) {
    var next = new IdentityHashMap<ConfigItem, String>();
    check(Kind.SERVICES, snapshot.items(Kind.SERVICES), next, rejections);
    check(Kind.PLUGIN_CONFIGS, snapshot.items(Kind.PLUGIN_CONFIGS), next, rejections);
    var disabled = new HashMap<String, ConfigItem>();
    snapshot
        .items(Kind.ROUTES)
        .forEach(
            (id, item) -> {
              if (!((Route) item.value()).enabled()) {
                disabled.put(id, item);
              }
            });
    check(Kind.ROUTES, disabled, next, rejections);
    checked = next;
  }

  private void check(
      Kind kind,
      Map<String, ConfigItem> items,
      Map<ConfigItem, String> next,
      Rejections rejections) {
    items.forEach(
        (id, item) -> {
          String why;
          if (checked.containsKey(item)) {
            why = checked.get(item);
            if (why != null) {
              rejections.count(kind, 1);
            }
          } else {
            why = problems(plugins(item));
            if (why != null) {
              rejections.reject(
                  kind, id, kind == Kind.ROUTES ? "not served (disabled)" : "not used", why);
            }
          }
          next.put(item, why);
        });
  }

  private static Map<String, ObjectNode> plugins(ConfigItem item) {
    return switch (item.value()) {
      case Service s -> s.plugins();
      case PluginConfig p -> p.plugins();
      case Route r -> r.plugins();
      default -> null;
    };
  }

  private static String problems(Map<String, ObjectNode> plugins) {
    if (plugins == null || plugins.isEmpty()) {
      return null;
    }
    var problems = new ArrayList<Problem>();
    plugins.forEach(
        (name, conf) -> problems.addAll(PluginSchemas.check(name, conf, "plugins." + name)));
    return problems.isEmpty() ? null : Messages.join(problems);
  }
}
