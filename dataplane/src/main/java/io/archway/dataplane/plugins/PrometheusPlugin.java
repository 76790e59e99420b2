package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginMetrics;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpUtil;
import java.util.EnumSet;
import java.util.Set;

/**
 * prometheus: counts the route's requests under APISIX's metric names on {@code /metrics} (status
 * per route and consumer, latency, bandwidth), so dashboards made for APISIX keep working. With
 * {@code plugin_metadata/prometheus} {@code {"apisix_metrics": true}} (Archway's setting: APISIX
 * has these always), {@code /metrics} also has APISIX's gateway-wide metrics under their names
 * ({@code apisix_upstream_status}, {@code apisix_http_requests_total}, {@code
 * apisix_nginx_http_current_connections}, {@code apisix_etcd_reachable}, {@code apisix_node_info}).
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
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
  public void metadata(ObjectNode value, PluginServices services) {
    boolean on = false;
    if (value != null) {
      var it = value.fieldNames();
      while (it.hasNext()) {
        var f = it.next();
        if (!f.equals("apisix_metrics")) {
          throw new IllegalArgumentException(f + ": unknown field (expected: apisix_metrics)");
        }
      }
      var v = value.get("apisix_metrics");
      if (v != null && !v.isBoolean()) {
        throw new IllegalArgumentException("apisix_metrics: " + v + " (expected: true or false)");
      }
      on = v != null && v.asBoolean();
    }
    services.metrics().apisixMetrics(on);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    PluginMetrics metrics = scope.services().metrics();
    return new PluginInstance() {
      // Read and written by every event loop: replaced whole, its fields final.
      private PluginMetrics.Series series;

      @Override
      public void log(PluginContext ctx) {
        if (ctx.dryRun() != null) {
          ctx.dryRun().simulated("counted in apisix_http_status (not in a dry-run)");
          return;
        }
        var consumer = ctx.consumer();
        var route = ctx.routeId();
        // The route's counters, kept while requests stay on the same route (one instance serves
        // every route when prometheus is a global rule; a miss looks the route up again).
        var s = series;
        if (s == null || s.forgotten() || !s.route().equals(route)) {
          s = metrics.series(route);
          series = s;
        }
        s.request(
            consumer == null ? null : consumer.username(),
            ctx.status(),
            ctx.latencyNanos(),
            Math.max(0, HttpUtil.getContentLength(ctx.request(), 0L)),
            ctx.bytesSent());
      }
    };
  }
}
