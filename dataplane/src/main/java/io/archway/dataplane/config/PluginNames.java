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
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The plugins of objects no route compiles now: services and plugin configs (used or not, since a
 * route that names them later must not be the first to find out) and disabled routes. A plugin
 * Archway does not run, or a configuration its schema refuses, is an error that names it, as on a
 * served route; it would otherwise sit in the config unseen until the day it is used. Each object
 * is checked when its item changes (a change looks at the ids it touched only); those with problems
 * are counted every compile from a running count.
 */
final class PluginNames {

  private static final Kind[] KINDS = {Kind.SERVICES, Kind.PLUGIN_CONFIGS, Kind.ROUTES};

  /** An object looked at: its item, and its problems ({@code null}: none). */
  private record Checked(ConfigItem item, String why) {}

  // By kind, the objects looked at (for routes: the disabled ones only), by id, and how many of
  // them have problems: a change updates the ids it touched, not every object.
  private final Map<Kind, Map<String, Checked>> checked = new EnumMap<>(Kind.class);
  private final Map<Kind, Integer> withProblems = new EnumMap<>(Kind.class);

  /**
   * @param changes the ids changed since the last check, by kind, when known ({@code null}: look at
   *     everything)
   */
  void check(ConfigSnapshot snapshot, Map<Kind, Set<String>> changes, Rejections rejections) {
    for (var kind : KINDS) {
      var items = snapshot.items(kind);
      var known = checked.computeIfAbsent(kind, k -> new HashMap<>());
      if (changes == null) {
        var ids = new HashSet<>(known.keySet());
        ids.addAll(kind == Kind.ROUTES ? disabledIds(items) : items.keySet());
        update(kind, ids, items, known, rejections);
      } else if (changes.containsKey(kind)) {
        update(kind, changes.get(kind), items, known, rejections);
      }
      int n = withProblems.getOrDefault(kind, 0);
      if (n > 0) {
        rejections.count(kind, n);
      }
    }
  }

  private static Set<String> disabledIds(Map<String, ConfigItem> routes) {
    var out = new HashSet<String>();
    routes.forEach(
        (id, item) -> {
          if (!((Route) item.value()).enabled()) {
            out.add(id);
          }
        });
    return out;
  }

  /**
   * Looks again at the objects {@code ids}: an item seen before keeps its verdict; a new one with
   * problems is reported (its count joins the kind's, counted by the caller).
   */
  private void update(
      Kind kind,
      Set<String> ids,
      Map<String, ConfigItem> items,
      Map<String, Checked> known,
      Rejections rejections) {
    int n = withProblems.getOrDefault(kind, 0);
    for (var id : ids) {
      var before = known.get(id);
      var item = items.get(id);
      if (item != null && kind == Kind.ROUTES && ((Route) item.value()).enabled()) {
        item = null;
      }
      if (before != null && before.item == item) {
        continue;
      }
      if (before != null) {
        known.remove(id);
        if (before.why != null) {
          n--;
        }
      }
      if (item == null) {
        continue;
      }
      var why = problems(plugins(item));
      if (why != null) {
        n++;
        Rejections.warn(kind, id, kind == Kind.ROUTES ? "not served (disabled)" : "not used", why);
        rejections.message(
            kind, id, kind == Kind.ROUTES ? "not served (disabled)" : "not used", why);
      }
      known.put(id, new Checked(item, why));
    }
    withProblems.put(kind, n);
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
