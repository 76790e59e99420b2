package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * splunk-hec-logging: each request's entry, batched, POSTed to Splunk's HTTP Event Collector
 * ({@code endpoint.uri}) as HEC events {@code {time, host, source, sourcetype, event}} one after
 * the other (HEC takes concatenated JSON objects), with {@code Authorization: Splunk <token>} and
 * {@code X-Splunk-Request-Channel} when a channel is set. The event is APISIX's: a flat summary of
 * the default entry ({@code request_url}, {@code response_status}, ...), or the {@code log_format}
 * entry whole.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class SplunkHecLoggingPlugin implements EntryLogger<SplunkHecLoggingPlugin.Config> {

  static final String SOURCE = "apache-apisix-splunk-hec-logging";

  /** The configuration; schema {@code splunk-hec-logging.json}. */
  public record Config(
      Endpoint endpoint,
      boolean sslVerify,
      ObjectNode logFormat,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Batching {}

  /** Where events go; {@code timeout} in seconds. */
  public record Endpoint(
      String uri, String token, String channel, int timeout, int keepaliveTimeout) {}

  @Override
  public String name() {
    return "splunk-hec-logging";
  }

  @Override
  public int priority() {
    return 409;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries = LogEntries.builder(name(), conf.logFormat(), false, null, false, null, services);
    var ep = conf.endpoint();
    var headers = new LinkedHashMap<String, String>();
    headers.put("Authorization", "Splunk " + ep.token());
    if (ep.channel() != null) {
      headers.put("X-Splunk-Request-Channel", ep.channel());
    }
    var post =
        LogPost.to(
            "endpoint.uri",
            List.of(ep.uri()),
            "",
            headers,
            Duration.ofSeconds(ep.timeout()),
            conf.sslVerify(),
            services);
    LogBatcher.Sender sender =
        batch -> post.post(LogEntries.joined(batch, "", "", ""), "application/json");
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.instance(
        entries,
        (ctx, e) ->
            LogEntries.offer(
                batcher,
                name(),
                services,
                event(e, customized(conf.logFormat(), services, name()))));
  }

  /**
   * Whether entries follow a {@code log_format}, the plugin's or its metadata's (as {@code
   * LogEntries} picks them), rather than APISIX's default entry, which some loggers reshape.
   */
  static boolean customized(ObjectNode own, PluginServices services, String plugin) {
    if (own != null && !own.isEmpty()) {
      return true;
    }
    var m = services.metadata(plugin);
    return m != null && m.get("log_format") instanceof ObjectNode f && !f.isEmpty();
  }

  /** APISIX's HEC event of entry {@code e}. */
  static ObjectNode event(ObjectNode e, boolean customized) {
    var out = ModelJson.mapper().createObjectNode();
    out.put("time", System.currentTimeMillis() / 1000.0);
    out.put("host", LogEntries.hostName());
    out.put("source", SOURCE);
    out.put("sourcetype", "_json");
    if (customized) {
      out.set("event", e);
      return out;
    }
    var event = out.putObject("event");
    var request = e.path("request");
    var response = e.path("response");
    event.set("request_url", request.get("url"));
    event.set("request_method", request.get("method"));
    event.set("request_headers", request.get("headers"));
    event.set("request_query", request.get("querystring"));
    event.set("request_size", request.get("size"));
    event.set("response_status", response.get("status"));
    event.set("response_size", response.get("size"));
    event.set("latency", e.get("latency"));
    if (e.has("upstream")) {
      event.set("upstream", e.get("upstream"));
    }
    return out;
  }
}
