package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * lago: a usage event per request for Lago's usage-based billing, batched (100 by default, Lago's
 * bound), POSTed to {@code endpoint_addrs + endpoint_uri} as {@code {"events":[{transaction_id,
 * external_subscription_id, code, timestamp, properties}]}} with {@code Authorization: Bearer
 * <token>}. The ids and the properties' values are templates with variables, resolved in the log
 * phase (so {@code $status}, {@code $consumer_name} and {@code $request_id} are known).
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY)
public final class LagoPlugin implements Plugin<LagoPlugin.Config> {

  /** The configuration; schema {@code lago.json}. */
  public record Config(
      List<String> endpointAddrs,
      String endpointUri,
      String token,
      String eventTransactionId,
      String eventSubscriptionId,
      String eventCode,
      Map<String, String> eventProperties,
      boolean sslVerify,
      int timeout,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Batching {}

  @Override
  public String name() {
    return "lago";
  }

  @Override
  public int priority() {
    return 415;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.LOG);
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var post =
        LogPost.to(
            "endpoint_addrs",
            conf.endpointAddrs(),
            conf.endpointUri(),
            Map.of("Authorization", "Bearer " + conf.token()),
            Duration.ofMillis(conf.timeout()),
            conf.sslVerify(),
            services);
    LogBatcher.Sender sender =
        batch ->
            post.post(LogEntries.joined(batch, "{\"events\":[", ",", "]}"), "application/json");
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    var transaction = Template.of(conf.eventTransactionId());
    var subscription = Template.of(conf.eventSubscriptionId());
    var properties = new LinkedHashMap<String, Template>();
    if (conf.eventProperties() != null) {
      conf.eventProperties().forEach((k, v) -> properties.put(k, Template.of(v)));
    }
    return new PluginInstance() {
      @Override
      public void log(PluginContext ctx) {
        var event = ModelJson.mapper().createObjectNode();
        event.put("transaction_id", transaction.render(ctx));
        event.put("external_subscription_id", subscription.render(ctx));
        event.put("code", conf.eventCode());
        event.put("timestamp", ctx.startMillis() / 1000.0);
        if (!properties.isEmpty()) {
          var props = event.putObject("properties");
          properties.forEach((k, t) -> props.put(k, t.render(ctx)));
        }
        LogEntries.offer(batcher, name(), services, event);
      }
    };
  }
}
