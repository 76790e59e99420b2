package io.archway.dataplane.config;

import io.archway.dataplane.flow.CompiledFlow;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.PluginFlow;
import io.archway.model.Problem;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * Stored plugin flows ({@code plugin_flows}), which routes run by {@code plugin_flow_id}. A flow
 * whose item did not change keeps its compiled form, or stays rejected without a second warning.
 */
final class FlowCompiler {

  private final PluginRegistry registry;
  private final PluginServices services;
  private Map<String, Cached> cache = Map.of();

  /** A flow compiled, or {@code null} when it is not run (a warning said why). */
  private record Cached(ConfigItem item, CompiledFlow flow) {}

  FlowCompiler(PluginRegistry registry, PluginServices services) {
    this.registry = registry;
    this.services = services;
  }

  /** The flows that compile, by id. */
  Map<String, CompiledFlow> compile(Map<String, ConfigItem> items, Rejections rejections) {
    var next = new HashMap<String, Cached>();
    var out = new HashMap<String, CompiledFlow>();
    int bad = 0;
    for (var e : items.entrySet()) {
      var before = cache.get(e.getKey());
      CompiledFlow flow;
      if (before != null && before.item == e.getValue()) {
        flow = before.flow;
      } else {
        flow = compile(e.getKey(), (PluginFlow) e.getValue().value());
      }
      next.put(e.getKey(), new Cached(e.getValue(), flow));
      if (flow != null) {
        out.put(e.getKey(), flow);
      } else {
        bad++;
      }
    }
    cache = next;
    var owners = new java.util.HashSet<String>();
    out.keySet().forEach(id -> owners.add(Keys.item(Kind.PLUGIN_FLOWS, id)));
    io.archway.dataplane.flow.FlowStats.of(services).retainStored(owners);
    rejections.count(Kind.PLUGIN_FLOWS, bad);
    return Map.copyOf(out);
  }

  /** A flow compiled, or {@code null} with every problem logged by node. */
  private CompiledFlow compile(String id, PluginFlow flow) {
    var problems = new ArrayList<Problem>();
    var compiled =
        CompiledFlow.compile(flow, Keys.item(Kind.PLUGIN_FLOWS, id), registry, services, problems);
    if (compiled == null) {
      Rejections.warn(Kind.PLUGIN_FLOWS, id, "not run", Messages.join(problems));
    }
    return compiled;
  }
}
