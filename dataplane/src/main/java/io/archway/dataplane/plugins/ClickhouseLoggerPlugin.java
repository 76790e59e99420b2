package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * clickhouse-logger: each request's entry, batched, inserted over ClickHouse's HTTP interface: a
 * POST of {@code INSERT INTO <logtable> FORMAT JSONEachRow {..} {..}} with {@code
 * X-ClickHouse-User}, {@code -Key} and {@code -Database}, as APISIX sends it.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class ClickhouseLoggerPlugin implements EntryLogger<ClickhouseLoggerPlugin.Config> {

  /** The configuration; schema {@code clickhouse-logger.json}. */
  public record Config(
      String endpointAddr,
      List<String> endpointAddrs,
      String user,
      String password,
      String database,
      String logtable,
      int timeout,
      boolean sslVerify,
      ObjectNode logFormat,
      boolean includeReqBody,
      ArrayNode includeReqBodyExpr,
      boolean includeRespBody,
      ArrayNode includeRespBodyExpr,
      int maxReqBodyBytes,
      int maxRespBodyBytes,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Options, LogEntries.Batching {

    @Override
    public String toString() {
      return "Config[endpoint_addrs=" + endpointAddrs + ", logtable=" + logtable + "]";
    }
  }

  @Override
  public String name() {
    return "clickhouse-logger";
  }

  @Override
  public int priority() {
    return 398;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    LogEntries.checkMetadata(value, "max_pending_entries");
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    if (conf.logtable().isEmpty()) {
      throw new IllegalArgumentException("logtable: \"\" (expected: the table to insert into)");
    }
    var services = scope.services();
    var entries = LogEntries.builder(name(), conf, services);
    var addrs = conf.endpointAddrs() != null ? conf.endpointAddrs() : List.of(conf.endpointAddr());
    var post =
        LogPost.to(
            conf.endpointAddrs() != null ? "endpoint_addrs" : "endpoint_addr",
            addrs,
            "",
            Map.of(
                "X-ClickHouse-User", conf.user(),
                "X-ClickHouse-Key", conf.password(),
                "X-ClickHouse-Database", conf.database()),
            Duration.ofSeconds(conf.timeout()),
            conf.sslVerify(),
            services);
    var insert = "INSERT INTO " + conf.logtable() + " FORMAT JSONEachRow ";
    int maxBody = conf.maxRespBodyBytes();
    LogBatcher.Sender sender =
        batch -> post.post(LogEntries.joined(batch, insert, " ", ""), "application/json");
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.instance(
        entries,
        (ctx, e) -> {
          if (e.path("response").path("body").isTextual()) {
            var body = e.path("response").path("body").asText();
            if (body.length() > maxBody) {
              ((ObjectNode) e.get("response")).put("body", body.substring(0, maxBody));
            }
          }
          batcher.offer(e.toString().getBytes(StandardCharsets.UTF_8));
        });
  }
}
