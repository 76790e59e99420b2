package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.Set;

/**
 * server-info (APISIX 3.x, priority 990): the node's facts ({@link
 * io.archway.dataplane.plugin.GatewayInfo#serverInfo}), {@code {id, version, hostname, up_time,
 * boot_time, etcd_version}}, served at {@code /v1/server_info} on the status port (where Archway
 * serves APISIX's control API, {@code /v1/healthcheck} too). As in APISIX it is a node-wide plugin:
 * on a route it does nothing. Not written to etcd under {@code /apisix/data_plane/server_info/<id>}
 * (the dataplane only reads etcd).
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.RUNS)
public final class ServerInfoPlugin implements Plugin<ServerInfoPlugin.Config> {

  /** No fields (APISIX's schema is an empty object). */
  public record Config() {}

  @Override
  public String name() {
    return "server-info";
  }

  @Override
  public int priority() {
    return 990;
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
}
