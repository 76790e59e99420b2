package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;

/**
 * tcp-logger: each request's entry, batched off the event loop, written to {@code host:port} over a
 * connection made for the batch (as APISIX does): the entry itself for a batch of one, else a JSON
 * array. {@code tls} encrypts without checking the server's certificate, {@code tls_options} being
 * the server name sent, as in APISIX.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class TcpLoggerPlugin implements EntryLogger<TcpLoggerPlugin.Config> {

  /** The configuration; schema {@code tcp-logger.json}. */
  public record Config(
      String host,
      int port,
      boolean tls,
      String tlsOptions,
      int timeout,
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
    return "tcp-logger";
  }

  @Override
  public int priority() {
    return 405;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries = LogEntries.builder(name(), conf, services);
    LogBatcher.Sender sender =
        LogSockets.tcp(
            conf.host(),
            conf.port(),
            conf.timeout(),
            conf.tls(),
            conf.tlsOptions(),
            LogEntries::objectOrArray);
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.batched(entries, batcher);
  }
}
