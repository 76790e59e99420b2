package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.exchange.RequestBodyCopy;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.VarsMatcher;
import io.archway.model.ModelJson;
import io.archway.model.Vars;
import io.netty.handler.codec.http.HttpUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The loggers' entry and their batching settings, shared by every logger plugin: APISIX's default
 * entry ({@code log-util}'s full log), or the {@code log_format} of the plugin's configuration,
 * else of its {@code plugin_metadata}; the response body with {@code include_resp_body} (and its
 * {@code include_resp_body_expr}).
 */
final class LogEntries {

  private LogEntries() {}

  /** How much of a request body an entry carries (APISIX's {@code max_req_body_bytes} default). */
  static final int MAX_REQ_BODY = 524_288;

  /** What a logger writes for a request, compiled once per configuration. */
  static final class Builder {
    private final String plugin;
    private final LogFormat own;
    private final boolean reqBody;
    private final VarsMatcher reqBodyWhen;
    private final boolean respBody;
    private final VarsMatcher respBodyWhen;
    private final PluginServices services;
    private volatile ObjectNode metadataSeen;
    private volatile LogFormat metadataFormat;

    private Builder(
        String plugin,
        LogFormat own,
        boolean reqBody,
        VarsMatcher reqBodyWhen,
        boolean respBody,
        VarsMatcher respBodyWhen,
        PluginServices services) {
      this.plugin = plugin;
      this.own = own;
      this.reqBody = reqBody;
      this.reqBodyWhen = reqBodyWhen;
      this.respBody = respBody;
      this.respBodyWhen = respBodyWhen;
      this.services = services;
    }

    /** The entry of the request {@code ctx}, in the log phase. */
    ObjectNode entry(PluginContext ctx, PluginInstance owner) {
      var format = own != null ? own : metadataFormat();
      ObjectNode e = format != null ? format.render(ctx) : LogEntries.entry(ctx);
      var copy = reqBody ? ctx.attribute(RequestBodyCopy.KEY) : null;
      if (copy != null && copy.text() != null && e.get("request") instanceof ObjectNode request) {
        request.put("body", copy.text());
      }
      byte[] body = ctx.state(owner);
      // A log_format says the whole entry: the bodies go in APISIX's default entry only.
      if (body != null && e.get("response") instanceof ObjectNode response) {
        response.put("body", new String(body, StandardCharsets.UTF_8));
      }
      return e;
    }

    private LogFormat metadataFormat() {
      var m = services.metadata(plugin);
      if (m != metadataSeen) {
        var f = m == null ? null : m.get("log_format");
        metadataFormat = f instanceof ObjectNode o && !o.isEmpty() ? LogFormat.compile(o) : null;
        metadataSeen = m;
      }
      return metadataFormat;
    }

    /** Before the request goes upstream: asks the proxy for a copy of the body when wanted. */
    void access(PluginContext ctx) {
      if (reqBody
          && (reqBodyWhen == null || reqBodyWhen.matches(ctx))
          && ctx.attribute(RequestBodyCopy.KEY) == null) {
        ctx.attribute(RequestBodyCopy.KEY, new RequestBodyCopy(MAX_REQ_BODY));
      }
    }

    boolean wantsBody(PluginContext ctx) {
      return respBody && (respBodyWhen == null || respBodyWhen.matches(ctx));
    }

    String plugin() {
      return plugin;
    }
  }

  /**
   * Compiles a logger's entry options.
   *
   * @throws IllegalArgumentException naming the field at fault
   */
  static Builder builder(
      String plugin,
      ObjectNode logFormat,
      boolean includeReqBody,
      ArrayNode includeReqBodyExpr,
      boolean includeRespBody,
      ArrayNode includeRespBodyExpr,
      PluginServices services) {
    var own = logFormat == null || logFormat.isEmpty() ? null : LogFormat.compile(logFormat);
    return new Builder(
        plugin,
        own,
        includeReqBody,
        expr("include_req_body_expr", includeReqBodyExpr),
        includeRespBody,
        expr("include_resp_body_expr", includeRespBodyExpr),
        services);
  }

  private static VarsMatcher expr(String field, ArrayNode expr) {
    if (expr == null || expr.isEmpty()) {
      return null;
    }
    try {
      return VarsMatcher.compile(Vars.parse(expr));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": " + e.getMessage());
    }
  }

  /**
   * A logger's phases: gathers the response body when asked, and hands each request's entry to
   * {@code sink} in the log phase (which must not block).
   */
  static PluginInstance instance(Builder builder, BiConsumer<PluginContext, ObjectNode> sink) {
    return new PluginInstance() {
      @Override
      public io.archway.dataplane.plugin.Outcome access(PluginContext ctx) {
        builder.access(ctx);
        return io.archway.dataplane.plugin.Outcome.CONTINUE;
      }

      @Override
      public boolean wantsBody(PluginContext ctx) {
        return builder.wantsBody(ctx);
      }

      @Override
      public byte[] bodyFilter(PluginContext ctx, byte[] body) {
        ctx.state(this, body);
        return body;
      }

      @Override
      public void log(PluginContext ctx) {
        ctx.log(builder.plugin(), builder.entry(ctx, this), sink);
      }
    };
  }

  /** A logger whose entries, as JSON, go to {@code batcher}. */
  static PluginInstance batched(Builder builder, LogBatcher batcher) {
    return instance(builder, (ctx, e) -> offer(batcher, builder.plugin(), builder.services, e));
  }

  static void offer(LogBatcher batcher, String plugin, PluginServices services, JsonNode e) {
    try {
      batcher.offer(ModelJson.mapper().writeValueAsBytes(e));
    } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
      services.metrics().logger(plugin)[1].increment();
    }
  }

  /** A batch of entries as one JSON value: the entry alone, or an array of them (tcp, udp). */
  static byte[] objectOrArray(List<byte[]> batch) {
    if (batch.size() == 1) {
      return batch.get(0);
    }
    return joined(batch, "[", ",", "]");
  }

  static byte[] joined(List<byte[]> batch, String open, String between, String close) {
    var out = new java.io.ByteArrayOutputStream();
    out.writeBytes(open.getBytes(StandardCharsets.UTF_8));
    var sep = between.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < batch.size(); i++) {
      if (i > 0) {
        out.writeBytes(sep);
      }
      out.writeBytes(batch.get(i));
    }
    out.writeBytes(close.getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  /**
   * A {@code log_format}: each key's value is a variable ({@code "$remote_addr"}, which leaves the
   * key out when it has no value), a text with variables in it ({@code "$host:$server_port"}), an
   * object of the same, or a constant.
   */
  static final class LogFormat {
    private final List<String> keys = new ArrayList<>();
    private final List<Object> values = new ArrayList<>();

    static LogFormat compile(ObjectNode format) {
      var f = new LogFormat();
      format
          .properties()
          .forEach(
              e -> {
                f.keys.add(e.getKey());
                f.values.add(part(e.getValue()));
              });
      return f;
    }

    private static Object part(JsonNode v) {
      if (v instanceof ObjectNode o) {
        return compile(o);
      }
      if (v.isTextual()) {
        var text = v.asText();
        var t = Template.of(text);
        if (t.constant()) {
          return v;
        }
        if (t.variables().size() == 1 && text.equals("$" + t.variables().get(0))) {
          return t.variables().get(0);
        }
        return t;
      }
      return v;
    }

    ObjectNode render(PluginContext ctx) {
      var out = ModelJson.mapper().createObjectNode();
      for (int i = 0; i < keys.size(); i++) {
        var v = values.get(i);
        var k = keys.get(i);
        switch (v) {
          case String name -> {
            var value = ctx.get(name);
            if (value != null) {
              out.put(k, value);
            }
          }
          case Template t -> out.put(k, t.render(ctx));
          case LogFormat nested -> out.set(k, nested.render(ctx));
          default -> out.set(k, (JsonNode) v);
        }
      }
      return out;
    }
  }

  /** The entry options of a logger's configuration record (APISIX's names). */
  interface Options {
    ObjectNode logFormat();

    boolean includeReqBody();

    ArrayNode includeReqBodyExpr();

    boolean includeRespBody();

    ArrayNode includeRespBodyExpr();
  }

  /** The batch processor's fields of a logger's configuration record (APISIX's names). */
  interface Batching {
    int batchMaxSize();

    double inactiveTimeout();

    double bufferDuration();

    int maxRetryCount();

    double retryDelay();
  }

  /** A logger's entry options, compiled. */
  static Builder builder(String plugin, Options conf, PluginServices services) {
    return builder(
        plugin,
        conf.logFormat(),
        conf.includeReqBody(),
        conf.includeReqBodyExpr(),
        conf.includeRespBody(),
        conf.includeRespBodyExpr(),
        services);
  }

  /** A logger's batcher, sending with {@code sender} off the event loop. */
  static LogBatcher batcher(
      String plugin, Batching conf, LogBatcher.Sender sender, PluginServices services) {
    return new LogBatcher(
        plugin,
        // A partial batch goes out inactive_timeout after its first entry, so no entry waits
        // longer than buffer_duration either when that is the shorter.
        settings(
            conf.batchMaxSize(),
            Math.min(conf.inactiveTimeout(), conf.bufferDuration()),
            conf.maxRetryCount(),
            conf.retryDelay()),
        sender,
        services);
  }

  /**
   * Checks a logger's {@code plugin_metadata}: {@code log_format}, an object, and {@code extra}
   * fields (checked by the caller).
   *
   * @throws IllegalArgumentException naming the field at fault
   */
  static void checkMetadata(ObjectNode value, String... extra) {
    if (value == null) {
      return;
    }
    var allowed = new java.util.TreeSet<>(List.of(extra));
    allowed.add("log_format");
    var it = value.fieldNames();
    while (it.hasNext()) {
      var f = it.next();
      if (!allowed.contains(f)) {
        throw new IllegalArgumentException(
            f + ": unknown field (expected: " + String.join(", ", allowed) + ")");
      }
    }
    var format = value.get("log_format");
    if (format != null && !format.isObject()) {
      throw new IllegalArgumentException("log_format: " + format + " (expected: an object)");
    }
  }

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
    LlmBodies.logHeaders(ctx, headers);
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
    LlmBodies.addLog(ctx, e);
    return e;
  }

  /** This machine's name. */
  static String hostName() {
    return Host.NAME;
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
