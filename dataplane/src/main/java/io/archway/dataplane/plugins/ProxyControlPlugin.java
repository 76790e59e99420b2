package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.Set;

/**
 * proxy-control: {@code request_buffering}. nginx's {@code proxy_request_buffering on} reads the
 * whole body (to disk when large) before it connects upstream; Archway never keeps a whole body:
 * with {@code true} (the default) it reads up to the listener's {@code client_body_buffer_size}
 * before a node is chosen, so a slow sender holds no upstream connection for that part, then
 * streams the rest; with {@code false} it streams the body to the node from the first byte.
 */
@PluginTraits(category = Plugin.Category.TRAFFIC, dryRun = Plugin.DryRun.RUNS)
public final class ProxyControlPlugin implements Plugin<ProxyControlPlugin.Config> {

  /** The configuration; schema {@code proxy-control.json}. */
  public record Config(boolean requestBuffering) {}

  @Override
  public String name() {
    return "proxy-control";
  }

  @Override
  public int priority() {
    return 21990;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    boolean buffering = conf.requestBuffering();
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        ctx.requestBuffering(buffering);
        return Outcome.CONTINUE;
      }
    };
  }
}
