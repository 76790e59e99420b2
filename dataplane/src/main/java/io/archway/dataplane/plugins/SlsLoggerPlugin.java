package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * sls-logger: each request's entry (APISIX's default entry; sls-logger has no {@code log_format})
 * as an RFC 5424 line to Alibaba Cloud Log Service's syslog endpoint, over TLS without checking its
 * certificate (as APISIX), a connection per batch: {@code <46>1 <time> <host> apisix <pid> -
 * [logservice project="..." logstore="..." access-key-id="..." access-key-secret="..."] <json>}.
 * SLS authenticates the lines by that structured data, so the secret travels in every line, which
 * is why the connection is always TLS.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class SlsLoggerPlugin implements EntryLogger<SlsLoggerPlugin.Config> {

  /** Facility SYSLOG (5) and severity INFO (6), as APISIX sends every line. */
  static final int PRI = 5 * 8 + 6;

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'.000Z'").withZone(ZoneOffset.UTC);

  /** The configuration; schema {@code sls-logger.json}. */
  public record Config(
      boolean includeReqBody,
      String name,
      int timeout,
      int maxRetryCount,
      double retryDelay,
      double bufferDuration,
      double inactiveTimeout,
      int batchMaxSize,
      String host,
      int port,
      String project,
      String logstore,
      String accessKeyId,
      String accessKeySecret)
      implements LogEntries.Batching {}

  @Override
  public String name() {
    return "sls-logger";
  }

  @Override
  public int priority() {
    return 406;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  /** APISIX's sls-logger has no metadata; a log_format set there would go unused, so say so. */
  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    if (value != null && !value.isEmpty()) {
      throw new IllegalArgumentException(
          "sls-logger has no plugin_metadata (expected: none; its entries are APISIX's default)");
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries =
        LogEntries.builder(name(), null, conf.includeReqBody(), null, false, null, services);
    LogBatcher.Sender sender =
        LogSockets.tcp(
            conf.host(),
            conf.port(),
            conf.timeout(),
            true,
            null,
            batch -> LogEntries.joined(batch, "", "", ""));
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    long pid = ProcessHandle.current().pid();
    var structured =
        "[logservice project=\""
            + conf.project()
            + "\" logstore=\""
            + conf.logstore()
            + "\" access-key-id=\""
            + conf.accessKeyId()
            + "\" access-key-secret=\""
            + conf.accessKeySecret()
            + "\"]";
    return LogEntries.instance(
        entries,
        (ctx, e) -> {
          var host = ctx.vars().host();
          var line =
              "<"
                  + PRI
                  + ">1 "
                  + STAMP.format(Instant.now())
                  + " "
                  + (host == null || host.isEmpty() ? "-" : host)
                  + " apisix "
                  + pid
                  + " - "
                  + structured
                  + " "
                  + e
                  + "\n";
          batcher.offer(line.getBytes(StandardCharsets.UTF_8));
        });
  }
}
