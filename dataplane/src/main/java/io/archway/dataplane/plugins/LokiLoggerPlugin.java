package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * loki-logger: each request's entry, batched, pushed to Loki ({@code endpoint_addrs} + {@code
 * endpoint_uri}) as {@code {"streams":[{"stream":{labels},"values":[["<ns>","<entry>"]]}]}}, the
 * time being the request's start in nanoseconds. {@code log_labels} values may hold variables; they
 * are resolved per request (APISIX resolves them for the batch's first request), so entries with
 * different labels go in different streams of the same push.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class LokiLoggerPlugin implements EntryLogger<LokiLoggerPlugin.Config> {

  /** The configuration; schema {@code loki-logger.json}. */
  public record Config(
      List<String> endpointAddrs,
      String endpointUri,
      String tenantId,
      Map<String, String> headers,
      Map<String, String> logLabels,
      boolean sslVerify,
      int timeout,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool,
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
    return "loki-logger";
  }

  @Override
  public int priority() {
    return 414;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries = LogEntries.builder(name(), conf, services);
    var headers = new LinkedHashMap<String, String>();
    if (conf.headers() != null) {
      headers.putAll(conf.headers());
    }
    if (conf.tenantId() != null) {
      headers.put("X-Scope-OrgID", conf.tenantId());
    }
    var post =
        LogPost.to(
            "endpoint_addrs",
            conf.endpointAddrs(),
            conf.endpointUri(),
            headers,
            Duration.ofMillis(conf.timeout()),
            conf.sslVerify(),
            services);
    var labels = new LinkedHashMap<String, Template>();
    conf.logLabels().forEach((k, v) -> labels.put(k, Template.of(v)));
    var m = ModelJson.mapper();
    LogBatcher.Sender sender =
        batch -> {
          // Each entry is {"stream":{...},"values":[[t, line]]}: streams with equal labels merge.
          var streams = new LinkedHashMap<ObjectNode, ArrayNode>();
          for (var e : batch) {
            var one = (ObjectNode) m.readTree(e);
            streams
                .computeIfAbsent((ObjectNode) one.get("stream"), k -> m.createArrayNode())
                .addAll((ArrayNode) one.get("values"));
          }
          var body = m.createObjectNode();
          var list = body.putArray("streams");
          streams.forEach((l, v) -> list.addObject().<ObjectNode>set("stream", l).set("values", v));
          post.post(m.writeValueAsBytes(body), "application/json");
        };
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.instance(
        entries,
        (ctx, e) -> {
          var one = m.createObjectNode();
          var stream = one.putObject("stream");
          labels.forEach((k, t) -> stream.put(k, t.render(ctx)));
          one.putArray("values").addArray().add(ctx.startMillis() + "000000").add(e.toString());
          LogEntries.offer(batcher, name(), services, one);
        });
  }
}
