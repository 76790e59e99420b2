package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.support.SyslogSink;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;

/**
 * syslog (the HTTP plugin; the stream routes' Redis loggers have their own conf): each request's
 * entry, as JSON, batched off the event loop and sent as RFC 5424 lines by the same writer the
 * stream loggers use ({@link SyslogSink.Writer}): over TCP (kept open, optionally TLS) or one UDP
 * datagram per line. Configurations naming the same server share one writer.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class SyslogPlugin implements EntryLogger<SyslogPlugin.Config> {

  /** The configuration; schema {@code syslog.json}. */
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
      boolean includeReqBody,
      ArrayNode includeReqBodyExpr,
      boolean includeRespBody,
      ArrayNode includeRespBodyExpr,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Options, LogEntries.Batching {}

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
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries = LogEntries.builder(name(), conf, services);
    var sender =
        sender(scope, conf.host(), conf.port(), conf.sockType(), conf.tls(), conf.timeout());
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.batched(entries, batcher);
  }

  /**
   * What sends a batch of lines to a syslog server: one writer per server and transport, shared by
   * every route (HTTP or stream) that names it.
   *
   * @throws IllegalArgumentException for {@code tls} without TCP
   */
  static LogBatcher.Sender sender(
      PluginScope scope, String host, int port, String sockType, boolean tls, int timeout) {
    boolean tcp = sockType.equals("tcp");
    if (tls && !tcp) {
      throw new IllegalArgumentException("tls: true needs sock_type: tcp (expected: tcp with tls)");
    }
    SyslogSink.Writer writer =
        scope.shared(
            "syslog:" + host + ":" + port + ":" + tcp + ":" + tls,
            () -> new SyslogSink.Writer(host, port, tcp, tls, timeout));
    return batch -> {
      var lines = new ArrayList<String>(batch.size());
      for (var e : batch) {
        lines.add(new String(e, StandardCharsets.UTF_8));
      }
      writer.send(lines);
    };
  }
}
