package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.PluginMetrics;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.StreamPlugin;
import io.archway.dataplane.plugin.StreamPluginInstance;
import io.archway.dataplane.plugin.StreamSession;

/**
 * prometheus on stream routes: counts the route's connections as APISIX does, {@code
 * apisix_stream_connection_total{route}} on {@code /metrics}, when each closes.
 */
public final class StreamPrometheus implements StreamPlugin<StreamPrometheus.Config> {

  /** The configuration; schema {@code stream/prometheus.json}. */
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
  public StreamPluginInstance compile(Config conf, PluginScope scope) {
    PluginMetrics metrics = scope.services().metrics();
    boolean preferName = conf.preferName();
    return new StreamPluginInstance() {
      @Override
      public void log(StreamSession session) {
        var name = preferName ? session.get("route_name") : null;
        metrics.streamConnection(name != null ? name : session.routeId());
      }
    };
  }
}
