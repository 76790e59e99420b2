package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.HttpUtil;

/** The loggers' entry, in APISIX's default log format, and their batching settings. */
final class LogEntries {

  private LogEntries() {}

  /** The batch processor's settings every logger has (seconds in the configuration). */
  static LogBatcher.Settings settings(
      int batch, double inactiveTimeout, int maxRetryCount, double retryDelay) {
    return new LogBatcher.Settings(
        batch,
        (long) (inactiveTimeout * 1000),
        maxRetryCount,
        (long) (retryDelay * 1000),
        Math.max(10_000, batch * 10));
  }

  /** A logger's log phase: the request's entry, queued on {@code batcher}. */
  static io.archway.dataplane.plugin.PluginInstance logTo(
      LogBatcher batcher, String plugin, io.archway.dataplane.plugin.PluginServices services) {
    return new io.archway.dataplane.plugin.PluginInstance() {
      @Override
      public void log(PluginContext ctx) {
        try {
          batcher.offer(ModelJson.mapper().writeValueAsBytes(entry(ctx)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          services.metrics().logger(plugin)[1].increment();
        }
      }
    };
  }

  static ObjectNode entry(PluginContext ctx) {
    var m = ModelJson.mapper();
    var e = m.createObjectNode();
    var req = ctx.request();
    var request = e.putObject("request");
    var v = ctx.vars();
    request.put("url", v.scheme() + "://" + v.host() + ":" + v.serverPort() + v.rawUri());
    request.put("uri", v.rawUri());
    request.put("method", v.method());
    var headers = request.putObject("headers");
    req.headers()
        .forEach(h -> headers.put(h.getKey().toLowerCase(java.util.Locale.ROOT), h.getValue()));
    var query = request.putObject("querystring");
    var qs = v.get("query_string");
    if (qs != null && !qs.isEmpty()) {
      new io.netty.handler.codec.http.QueryStringDecoder(qs, false)
          .parameters()
          .forEach((k, values) -> query.put(k, values.isEmpty() ? "" : values.get(0)));
    }
    request.put("size", Math.max(0, HttpUtil.getContentLength(req, 0L)));
    var response = e.putObject("response");
    response.put("status", ctx.status());
    response.put("size", ctx.bytesSent());
    e.put("route_id", ctx.routeId());
    if (ctx.consumer() != null) {
      e.putObject("consumer").put("username", ctx.consumer().username());
    }
    e.put("client_ip", v.remoteAddr());
    if (ctx.upstreamAddr() != null) {
      e.put("upstream", ctx.upstreamAddr());
    }
    e.put("start_time", ctx.startMillis());
    e.put("latency", ctx.latencyNanos() / 1e6);
    var requestId = ctx.result("request_id");
    if (requestId != null) {
      e.put("request_id", requestId.toString());
    }
    e.putObject("server").put("hostname", Host.NAME).put("version", "archway");
    return e;
  }

  /** This machine's name, read once. */
  private static final class Host {
    static final String NAME = read();

    private static String read() {
      var env = System.getenv("HOSTNAME");
      if (env != null && !env.isEmpty()) {
        return env;
      }
      try {
        return java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException e) {
        return "localhost";
      }
    }
  }
}
