package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * http-logger: each request's log entry, batched, POSTed to {@code uri} as a JSON array ({@code
 * concat_method: json}) or one JSON object per line ({@code new_line}), with {@code auth_header}. A
 * status of 300 or more is a failure, retried as {@code max_retry_count} says.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class HttpLoggerPlugin implements Plugin<HttpLoggerPlugin.Config> {

  /** The configuration; schema {@code http-logger.json}. */
  public record Config(
      String uri,
      String authHeader,
      double timeout,
      String concatMethod,
      boolean includeRespBody,
      ArrayNode includeRespBodyExpr,
      boolean sslVerify,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay,
      boolean includeReqBody,
      ArrayNode includeReqBodyExpr,
      ObjectNode logFormat)
      implements LogEntries.Options, LogEntries.Batching {

    @Override
    public String toString() {
      return "Config[uri=" + uri + "]"; // auth_header stays out of logs
    }
  }

  @Override
  public String name() {
    return "http-logger";
  }

  @Override
  public int priority() {
    return 410;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.BODY_FILTER, Phase.LOG);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    URI uri;
    try {
      uri = URI.create(conf.uri());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("uri: \"" + conf.uri() + "\" (expected: an http(s) URL)");
    }
    if (uri.getScheme() == null
        || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
        || uri.getHost() == null) {
      throw new IllegalArgumentException("uri: \"" + uri + "\" (expected: an http(s) URL)");
    }
    var auth = conf.authHeader();
    var timeout = Duration.ofMillis((long) (conf.timeout() * 1000));
    boolean lines = conf.concatMethod().equals("new_line");
    var services = scope.services();
    LogBatcher.Sender sender =
        batch -> {
          var body = new ByteArrayOutputStream();
          if (lines) {
            for (var e : batch) {
              body.writeBytes(e);
              body.write('\n');
            }
          } else {
            body.write('[');
            for (int i = 0; i < batch.size(); i++) {
              if (i > 0) {
                body.write(',');
              }
              body.writeBytes(batch.get(i));
            }
            body.write(']');
          }
          var req =
              HttpRequest.newBuilder(uri)
                  .timeout(timeout)
                  .header("Content-Type", lines ? "text/plain" : "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
          if (auth != null) {
            req.header("Authorization", auth);
          }
          var res = services.http().send(req.build(), HttpResponse.BodyHandlers.discarding());
          if (res.statusCode() >= 300) {
            throw new java.io.IOException(uri + " answered " + res.statusCode());
          }
        };
    var batcher =
        new LogBatcher(
            "http-logger",
            LogEntries.settings(
                conf.batchMaxSize(),
                conf.inactiveTimeout(),
                conf.maxRetryCount(),
                conf.retryDelay()),
            sender,
            services);
    return LogEntries.batched(LogEntries.builder(name(), conf, services), batcher);
  }
}
