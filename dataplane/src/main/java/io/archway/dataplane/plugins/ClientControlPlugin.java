package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpUtil;
import java.util.EnumSet;
import java.util.Set;

/**
 * client-control: {@code max_body_size} replaces the listener's {@code client_max_body_size} for
 * the route's requests ({@code 0}: no limit). A body declared larger (Content-Length) gets 413 in
 * the rewrite phase, before it is read; a chunked one gets 413 from the proxy when what streamed
 * passes the limit.
 */
@PluginTraits(category = Plugin.Category.TRAFFIC, dryRun = Plugin.DryRun.RUNS)
public final class ClientControlPlugin implements Plugin<ClientControlPlugin.Config> {

  /** The configuration; schema {@code client-control.json}. */
  public record Config(Long maxBodySize) {}

  @Override
  public String name() {
    return "client-control";
  }

  @Override
  public int priority() {
    return 22000;
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
    if (conf.maxBodySize() == null) {
      return new PluginInstance() {};
    }
    long max = conf.maxBodySize();
    var tooLarge = Rejection.of(413, null);
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        long declared = HttpUtil.getContentLength(ctx.request(), -1L);
        if (max != 0 && declared > max) {
          return tooLarge;
        }
        ctx.maxBodySize(max);
        return Outcome.CONTINUE;
      }
    };
  }
}
