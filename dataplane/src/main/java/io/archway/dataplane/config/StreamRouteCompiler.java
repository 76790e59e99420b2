package io.archway.dataplane.config;

import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.StreamPluginRegistry;
import io.archway.dataplane.route.Cidr;
import io.archway.dataplane.support.SyslogSink;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.StreamRoute;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Map;

/**
 * Stream routes: each becomes a {@link CompiledStream} (match, upstream, Redis protocol, stream
 * plugins). They are few and cheap, so all are compiled on every change; a rejected one is logged
 * and counted as the stream error {@code route_rejected} each time. The syslog sinks no route uses
 * any more are closed.
 */
final class StreamRouteCompiler {

  private final StreamMetrics metrics;
  private final SyslogSinks sinks;
  private final PluginServices services;
  private final StreamPluginRegistry plugins = StreamPluginRegistry.load();

  StreamRouteCompiler(StreamMetrics metrics, SyslogSinks sinks) {
    this(metrics, sinks, new PluginServices());
  }

  StreamRouteCompiler(StreamMetrics metrics, SyslogSinks sinks, PluginServices services) {
    this.metrics = metrics;
    this.sinks = sinks;
    this.services = services;
  }

  StreamRoutes compile(Map<String, ConfigItem> items, References refs) {
    return compile(items, refs, new Rejections());
  }

  StreamRoutes compile(Map<String, ConfigItem> items, References refs, Rejections rejections) {
    var out = new ArrayList<CompiledStream>();
    var used = new HashSet<SyslogSink.Conf>();
    for (var e : items.entrySet()) {
      var id = e.getKey();
      var r = (StreamRoute) e.getValue().value();
      try {
        var inline =
            refs.inlineUpstream(
                Keys.item(Kind.STREAM_ROUTES, id), r.upstream(), r.upstreamId(), r.serviceId());
        var key =
            inline == null
                ? References.upstreamKey(r.upstreamId(), refs.service(r.serviceId()))
                : null;
        RedisProtocol redis = null;
        if (r.protocol() != null) {
          if (!"redis".equals(r.protocol().name())) {
            throw new IllegalArgumentException(
                "protocol.name: \"" + r.protocol().name() + "\" (expected: redis)");
          }
          redis = RedisProtocol.compile(r.protocol(), sinks, used);
        }
        out.add(
            new CompiledStream(
                id,
                r,
                inline,
                key,
                r.serverPort(),
                r.remoteAddr() == null ? null : Cidr.parse(r.remoteAddr()),
                r.serverAddr() == null ? null : Cidr.parse(r.serverAddr()),
                redis,
                plugins.compile(
                    r.plugins(), new PluginScope(Keys.item(Kind.STREAM_ROUTES, id), services)),
                metrics.route(id)));
      } catch (RuntimeException ex) {
        rejections.reject(Kind.STREAM_ROUTES, id, "not served", ex.getMessage());
        metrics.error("route_rejected");
      }
    }
    sinks.retain(used);
    return StreamRoutes.of(out);
  }
}
