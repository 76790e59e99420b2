package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.StreamPlugin;
import io.archway.dataplane.plugin.StreamPluginInstance;
import io.archway.dataplane.plugin.StreamSession;
import io.archway.dataplane.support.SyslogSink;
import io.archway.model.ModelJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * syslog on stream routes: one JSON entry per connection, made when it closes (route, client and
 * server addresses, upstream, bytes each way, session time; or {@code log_format}'s fields, whose
 * values may name the session's variables as {@code $remote_addr}), batched off the event loop and
 * sent by the HTTP syslog plugin's writer ({@link SyslogSink.Writer}, shared with it when both name
 * the same server).
 */
public final class StreamSyslog implements StreamPlugin<StreamSyslog.Config> {

  /** The configuration; schema {@code stream/syslog.json}. */
  public record Config(
      String host,
      int port,
      int flushLimit,
      int dropLimit,
      int timeout,
      String sockType,
      int poolSize,
      boolean tls,
      ObjectNode logFormat,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Batching {}

  @Override
  public String name() {
    return "syslog";
  }

  @Override
  public int priority() {
    return 401;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public StreamPluginInstance compile(Config conf, PluginScope scope) {
    var format = new LinkedHashMap<String, Template>();
    if (conf.logFormat() != null) {
      for (var e : conf.logFormat().properties()) {
        if (!e.getValue().isTextual()) {
          throw new IllegalArgumentException(
              "log_format." + e.getKey() + ": " + e.getValue() + " (expected: string)");
        }
        format.put(e.getKey(), Template.of(e.getValue().textValue()));
      }
    }
    var services = scope.services();
    var sender =
        SyslogPlugin.sender(
            scope, conf.host(), conf.port(), conf.sockType(), conf.tls(), conf.timeout());
    var batcher = LogEntries.batcher("syslog", conf, sender, services);
    return new Logger(List.copyOf(format.entrySet()), batcher, services);
  }

  private record Logger(
      List<Map.Entry<String, Template>> format, LogBatcher batcher, PluginServices services)
      implements StreamPluginInstance {

    @Override
    public void log(StreamSession s) {
      var entry = ModelJson.mapper().createObjectNode();
      if (format.isEmpty()) {
        entry.put("route_id", s.routeId());
        entry.put("client_ip", s.remoteAddr());
        entry.put("remote_addr", s.remoteAddr());
        entry.put("remote_port", s.remotePort());
        entry.put("server_addr", s.serverAddr());
        entry.put("server_port", s.serverPort());
        var upstream = s.get("upstream_addr");
        if (upstream != null) {
          entry.put("upstream", upstream);
        }
        entry.put("bytes_sent", s.bytesSent());
        entry.put("bytes_received", s.bytesReceived());
        entry.put("session_time", s.sessionNanos() / 1e9);
        entry.put("start_time", s.startMillis());
      } else {
        // The keys in the order written; the values from this connection's variables.
        for (var e : format) {
          entry.put(e.getKey(), e.getValue().render(s));
        }
      }
      LogEntries.offer(batcher, "syslog", services, entry);
    }
  }
}
