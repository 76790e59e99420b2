package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginMetrics;
import io.archway.dataplane.plugin.PluginScope;
import io.netty.handler.codec.http.HttpUtil;
import java.util.EnumSet;
import java.util.Set;

/**
 * prometheus: counts the route's requests under APISIX's metric names on {@code /metrics} (status
 * per route and consumer, latency, bandwidth), so dashboards made for APISIX keep working.
 */
public final class PrometheusPlugin implements Plugin<PrometheusPlugin.Config> {

  /** The configuration; schema {@code prometheus.json}. */
  public record Config(boolean preferName) {}

  @Override
  public String name() {
    return "prometheus";
  }

  @Override
  public int priority() {
    return 500;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.LOG);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    PluginMetrics metrics = scope.services().metrics();
    return new PluginInstance() {
      @Override
      public void log(PluginContext ctx) {
        var consumer = ctx.consumer();
        metrics.request(
            ctx.routeId(),
            consumer == null ? null : consumer.username(),
            ctx.status(),
            ctx.latencyNanos(),
            Math.max(0, HttpUtil.getContentLength(ctx.request(), 0L)),
            ctx.bytesSent());
      }
    };
  }
}
