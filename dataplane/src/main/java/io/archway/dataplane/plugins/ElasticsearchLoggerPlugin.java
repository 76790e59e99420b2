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
 * elasticsearch-logger: each request's entry, batched, sent to {@code <endpoint>/_bulk} as NDJSON:
 * {@code {"create":{"_index":..,"_type":..}}} then the entry, per request, with basic {@code auth}.
 * APISIX first asks the server its version to add compatibility headers for {@code _type}; this
 * sends {@code application/x-ndjson} as every version since 6 takes it, and leaves {@code _type}
 * out unless configured.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class ElasticsearchLoggerPlugin
    implements EntryLogger<ElasticsearchLoggerPlugin.Config> {

  /** The configuration; schema {@code elasticsearch-logger.json}. */
  public record Config(
      String endpointAddr,
      List<String> endpointAddrs,
      Field field,
      Auth auth,
      int timeout,
      boolean sslVerify,
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

  /** The index (and legacy type) entries are created in. */
  public record Field(String index, String type) {}

  /** Basic authentication. */
  public record Auth(String username, String password) {
    @Override
    public String toString() {
      return "Auth[username=" + username + "]";
    }
  }

  @Override
  public String name() {
    return "elasticsearch-logger";
  }

  @Override
  public int priority() {
    return 413;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries = LogEntries.builder(name(), conf, services);
    var addrs = conf.endpointAddrs() != null ? conf.endpointAddrs() : List.of(conf.endpointAddr());
    var auth = conf.auth();
    var headers =
        auth == null
            ? Map.<String, String>of()
            : Map.of(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString(
                            (auth.username() + ":" + auth.password())
                                .getBytes(StandardCharsets.UTF_8)));
    var post =
        LogPost.to(
            conf.endpointAddrs() != null ? "endpoint_addrs" : "endpoint_addr",
            addrs,
            "/_bulk",
            headers,
            Duration.ofSeconds(conf.timeout()),
            conf.sslVerify(),
            services);
    var action = ModelJson.mapper().createObjectNode();
    var create = action.putObject("create").put("_index", conf.field().index());
    if (conf.field().type() != null) {
      create.put("_type", conf.field().type());
    }
    var actionLine = action.toString() + "\n";
    LogBatcher.Sender sender =
        batch -> post.post(LogEntries.joined(batch, "", "", ""), "application/x-ndjson");
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.instance(
        entries,
        (ctx, e) -> batcher.offer((actionLine + e + "\n").getBytes(StandardCharsets.UTF_8)));
  }
}
