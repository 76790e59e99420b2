package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.GatewayInfo;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.Set;

/**
 * node-status (APISIX 3.x, priority 1000): {@code GET /apisix/status}, the node's connections as
 * nginx's stub_status counts them ({@code accepted}, {@code handled}, {@code active}, {@code
 * reading}, {@code writing}, {@code waiting}, {@code total} requests) and its {@code id}; served
 * through a route with {@code public-api}, as in APISIX. On a route by itself it does nothing.
 * {@code reading} is always 0: Archway counts requests in flight ({@code writing}) and open
 * connections, not heads being read.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.RUNS)
public final class NodeStatusPlugin implements Plugin<NodeStatusPlugin.Config> {

  /** No fields (APISIX's schema is an empty object). */
  public record Config() {}

  static final String PATH = "/apisix/status";

  @Override
  public String name() {
    return "node-status";
  }

  @Override
  public int priority() {
    return 1000;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.noneOf(Phase.class);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    return new PluginInstance() {};
  }

  /** {@code {"status": {...}, "id": ...}}. */
  static ObjectNode status(GatewayInfo g) {
    var o = JsonNodeFactory.instance.objectNode();
    var s = o.putObject("status");
    var c = g.connections();
    s.put("total", c.total());
    s.put("waiting", c.waiting());
    s.put("accepted", c.accepted());
    s.put("writing", c.writing());
    s.put("handled", c.handled());
    s.put("active", c.active());
    s.put("reading", c.reading());
    o.put("id", g.id());
    return o;
  }
}
