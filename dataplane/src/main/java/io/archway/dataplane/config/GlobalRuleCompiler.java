package io.archway.dataplane.config;

import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.GlobalRule;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.Problem;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeSet;

/**
 * Global rules: the plugins of every rule that compiles, in one chain run before each route's
 * (rules by id). Compiled again only when a rule changed (a new map in the snapshot); otherwise the
 * last chain and its rejected count stand.
 */
final class GlobalRuleCompiler {

  private final PluginRegistry registry;
  private final PluginServices services;
  private Map<String, ConfigItem> items;
  private PluginChain global = PluginChain.EMPTY;
  private int rejected;

  GlobalRuleCompiler(PluginRegistry registry, PluginServices services) {
    this.registry = registry;
    this.services = services;
  }

  PluginChain compile(Map<String, ConfigItem> items, Rejections rejections) {
    if (items != this.items) {
      this.items = items;
      compile(items);
    }
    rejections.count(Kind.GLOBAL_RULES, rejected);
    return global;
  }

  private void compile(Map<String, ConfigItem> items) {
    var all = new ArrayList<PluginChain.Entry>();
    int bad = 0;
    for (var id : new TreeSet<>(items.keySet())) {
      var rule = (GlobalRule) items.get(id).value();
      var problems = new ArrayList<Problem>();
      var chain =
          registry.compile(
              rule.plugins(),
              new PluginScope(Keys.item(Kind.GLOBAL_RULES, id), services),
              "plugins",
              problems);
      if (!problems.isEmpty()) {
        Rejections.warn(Kind.GLOBAL_RULES, id, "not run", Messages.join(problems));
        bad++;
        continue;
      }
      all.addAll(chain.entries());
    }
    global = PluginChain.of(all);
    rejected = bad;
  }
}
