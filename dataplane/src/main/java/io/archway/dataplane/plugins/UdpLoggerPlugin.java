package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;

/**
 * udp-logger: each request's entry, batched off the event loop, sent to {@code host:port} as one
 * datagram per batch: the entry itself for a batch of one, else a JSON array (as APISIX does).
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class UdpLoggerPlugin implements EntryLogger<UdpLoggerPlugin.Config> {

  /** The configuration; schema {@code udp-logger.json}. */
  public record Config(
      String host,
      int port,
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
    return "udp-logger";
  }

  @Override
  public int priority() {
    return 400;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries = LogEntries.builder(name(), conf, services);
    var to = new InetSocketAddress(conf.host(), conf.port());
    LogBatcher.Sender sender =
        batch -> {
          var bytes = LogEntries.objectOrArray(batch);
          try (var socket = new DatagramSocket()) {
            socket.send(new DatagramPacket(bytes, bytes.length, to));
          }
        };
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.batched(entries, batcher);
  }
}
