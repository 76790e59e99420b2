package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * skywalking-logger: each request's entry, batched, POSTed as a JSON array to SkyWalking's HTTP log
 * API ({@code <endpoint_addr>/v3/logs}): {@code {"traceContext"?, "body":{"json":{"json":
 * "<entry>"}}, "service", "serviceInstance", "endpoint": <uri>}}, the trace context read from the
 * request's {@code sw8} header.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class SkywalkingLoggerPlugin implements EntryLogger<SkywalkingLoggerPlugin.Config> {

  /** The configuration; schema {@code skywalking-logger.json}. */
  public record Config(
      String endpointAddr,
      String serviceName,
      String serviceInstanceName,
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
    return "skywalking-logger";
  }

  @Override
  public int priority() {
    return 408;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries = LogEntries.builder(name(), conf, services);
    var post =
        LogPost.to(
            "endpoint_addr",
            List.of(conf.endpointAddr()),
            "/v3/logs",
            Map.of(),
            Duration.ofSeconds(conf.timeout()),
            false,
            services);
    var instanceName =
        conf.serviceInstanceName().equals("$hostname")
            ? LogEntries.hostName()
            : conf.serviceInstanceName();
    var service = conf.serviceName();
    LogBatcher.Sender sender =
        batch -> post.post(LogEntries.joined(batch, "[", ",", "]"), "application/json");
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.instance(
        entries,
        (ctx, e) -> {
          var one = ModelJson.mapper().createObjectNode();
          var sw8 = ctx.request().headers().get("sw8");
          if (sw8 != null) {
            // 1-TRACEID-SEGMENTID-SPANID-PARENT_SERVICE-PARENT_INSTANCE-PARENT_ENDPOINT-ADDRESS
            var ids = sw8.split("-", -1);
            if (ids.length == 8) {
              try {
                var dec = Base64.getUrlDecoder();
                one.putObject("traceContext")
                    .put("traceId", new String(dec.decode(ids[1]), StandardCharsets.UTF_8))
                    .put("traceSegmentId", new String(dec.decode(ids[2]), StandardCharsets.UTF_8))
                    .put("spanId", Integer.parseInt(ids[3]));
              } catch (IllegalArgumentException bad) {
                one.remove("traceContext"); // not a trace context: logged without one
              }
            }
          }
          one.putObject("body").putObject("json").put("json", e.toString());
          one.put("service", service);
          one.put("serviceInstance", instanceName);
          one.put("endpoint", ctx.vars().get("uri"));
          LogEntries.offer(batcher, name(), services, one);
        });
  }
}
