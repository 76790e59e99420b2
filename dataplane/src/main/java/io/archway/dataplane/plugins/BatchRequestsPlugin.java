package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * batch-requests (APISIX 3.x, priority 4010): {@code POST /apisix/batch-requests} (through a route
 * with {@code public-api}) takes {@code {pipeline: [{method, path, query, headers, body}], headers,
 * query, timeout}} and sends each sub-request, one after the other, to the gateway's own HTTP port,
 * so each goes through the gateway's routes and plugins; the answer is the JSON array of {@code
 * {status, reason, headers, body}}. Each sub-request gets the batch's {@code headers} and {@code
 * query} it lacks, the outer request's fields it lacks (not its {@code Content-*}), and {@code
 * X-Real-IP} with the client's address, as APISIX. A sub-request that times out is {@code {status:
 * 504, reason: "upstream timeout"}}, and so are those after it. The body is bounded by {@code
 * plugin_metadata/batch-requests.max_body_size} (1 MiB by default; 413 over it). On a route by
 * itself the plugin does nothing.
 */
@PluginTraits(category = Plugin.Category.OTHER)
public final class BatchRequestsPlugin implements Plugin<BatchRequestsPlugin.Config> {

  /** No fields (APISIX's schema is an empty object). */
  public record Config() {}

  static final String PATH = "/apisix/batch-requests";
  static final long DEFAULT_MAX_BODY = 1 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> METHODS =
      Set.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE");

  /** Fields of the outer request that are the connection's, not the sub-request's. */
  private static final Set<String> NOT_COPIED =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "expect",
          "host",
          "http2-settings");

  /** What the JDK's client sets itself and refuses from callers. */
  private static final Set<String> RESTRICTED =
      Set.of("connection", "content-length", "expect", "host", "upgrade");

  @Override
  public String name() {
    return "batch-requests";
  }

  @Override
  public int priority() {
    return 4010;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.noneOf(Phase.class);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    return new PluginInstance() {};
  }

  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    if (value == null) {
      return;
    }
    var names = value.fieldNames();
    while (names.hasNext()) {
      var n = names.next();
      if (n.equals("id")) {
        continue;
      }
      if (!n.equals("max_body_size")) {
        throw new IllegalArgumentException(n + ": unknown field (expected: max_body_size)");
      }
      var v = value.get(n);
      if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() <= 0) {
        throw new IllegalArgumentException("max_body_size: " + v + " (expected: an integer > 0)");
      }
    }
  }

  /** One sub-request, checked. */
  record Sub(
      String method,
      String path,
      Map<String, String> query,
      Map<String, String> headers,
      String body) {}

  /** Serves {@code POST /apisix/batch-requests} for public-api. */
  static Outcome serve(PluginContext ctx, PluginServices services) {
    var meta = services.metadata("batch-requests");
    long max =
        meta != null && meta.has("max_body_size")
            ? meta.get("max_body_size").asLong()
            : DEFAULT_MAX_BODY;
    var declared = ctx.request().headers().get("content-length");
    if (declared != null) {
      try {
        long n = Long.parseLong(declared.trim());
        if (n > max) {
          return error(
              413, "request size " + n + " is greater than the maximum size " + max + " allowed");
        }
      } catch (NumberFormatException e) {
        // the codec has refused a bad length already
      }
    }
    // Fields of the outer request, taken now on the event loop.
    var outer = new LinkedHashMap<String, String>();
    for (var e : ctx.request().headers()) {
      var name = e.getKey().toLowerCase(Locale.ROOT);
      if (!NOT_COPIED.contains(name) && !name.startsWith("content-")) {
        outer.putIfAbsent(name, e.getValue());
      }
    }
    var clientIp = ctx.vars().get("remote_addr");
    return ctx.withRequestBody(max, 60_000, body -> run(body, outer, clientIp, services));
  }

  private static Outcome run(
      byte[] body, Map<String, String> outer, String clientIp, PluginServices services) {
    JsonNode doc;
    try {
      doc = JSON.readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return error(400, "invalid request body: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      return error(400, "invalid request body: " + e.getMessage());
    }
    if (doc == null || !doc.isObject()) {
      return error(400, "invalid request body: expected a JSON object");
    }
    List<Sub> subs;
    int timeout;
    try {
      var common = strings(doc, "headers");
      var commonQuery = strings(doc, "query");
      var t = doc.get("timeout");
      if (t != null && (!t.isIntegralNumber() || t.asInt() < 1)) {
        throw new IllegalArgumentException("timeout: " + t + " (expected: an integer >= 1)");
      }
      timeout = t == null ? 30_000 : t.asInt();
      var pipeline = doc.get("pipeline");
      if (pipeline == null) {
        throw new IllegalArgumentException("pipeline: missing (expected: an array of requests)");
      }
      if (!pipeline.isArray() || pipeline.isEmpty()) {
        throw new IllegalArgumentException(
            "pipeline: " + pipeline + " (expected: at least one request)");
      }
      subs = new ArrayList<>();
      for (int i = 0; i < pipeline.size(); i++) {
        subs.add(sub(pipeline.get(i), "pipeline[" + i + "]", common, commonQuery, outer, clientIp));
      }
    } catch (IllegalArgumentException e) {
      return error(400, "bad request body: " + e.getMessage());
    }
    var gw = services.gateway();
    if (gw == null) {
      return error(503, "the gateway is not listening yet");
    }
    var results = JsonNodeFactory.instance.arrayNode();
    CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
    var failed = new boolean[1];
    for (var s : subs) {
      chain =
          chain.thenCompose(
              v -> {
                if (failed[0]) {
                  timedOut(results);
                  return CompletableFuture.completedFuture(null);
                }
                return send(services, gw.httpPort(), s, timeout)
                    .handle(
                        (res, err) -> {
                          if (res == null) {
                            failed[0] = true;
                            timedOut(results);
                          } else {
                            results.add(result(res));
                          }
                          return null;
                        });
              });
    }
    return Outcome.later(
        chain,
        v -> {
          var h = new DefaultHttpHeaders().set("content-type", "application/json");
          return Outcome.respond(200, h, results.toString().getBytes(StandardCharsets.UTF_8));
        });
  }

  private static void timedOut(ArrayNode results) {
    var o = results.addObject();
    o.put("status", 504);
    o.put("reason", "upstream timeout");
  }

  private static ObjectNode result(HttpResponse<byte[]> res) {
    var o = JsonNodeFactory.instance.objectNode();
    o.put("status", res.statusCode());
    o.put("reason", HttpResponseStatus.valueOf(res.statusCode()).reasonPhrase());
    var headers = o.putObject("headers");
    res.headers()
        .map()
        .forEach(
            (name, values) -> {
              if (name.startsWith(":")) {
                return;
              }
              if (values.size() == 1) {
                headers.put(name, values.get(0));
              } else {
                var a = headers.putArray(name);
                values.forEach(a::add);
              }
            });
    o.put("body", new String(res.body(), StandardCharsets.UTF_8));
    return o;
  }

  private static CompletionStage<HttpResponse<byte[]>> send(
      PluginServices services, int port, Sub s, int timeout) {
    var target = new StringBuilder("http://127.0.0.1:").append(port).append(s.path());
    if (!s.query().isEmpty()) {
      target.append(s.path().contains("?") ? '&' : '?');
      var first = true;
      for (var e : s.query().entrySet()) {
        if (!first) {
          target.append('&');
        }
        first = false;
        target
            .append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
            .append('=')
            .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
      }
    }
    HttpRequest.Builder req;
    try {
      req =
          HttpRequest.newBuilder(URI.create(target.toString())).timeout(Duration.ofMillis(timeout));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    s.headers()
        .forEach(
            (k, v) -> {
              if (!RESTRICTED.contains(k.toLowerCase(Locale.ROOT))) {
                try {
                  req.header(k, v);
                } catch (IllegalArgumentException e) {
                  // a field the client may not send: left out
                }
              }
            });
    req.method(
        s.method(),
        s.body() == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(s.body()));
    return services.http().sendAsync(req.build(), BoundedBody.handler(ServerlessFunction.MAX_BODY));
  }

  private static Sub sub(
      JsonNode n,
      String at,
      Map<String, String> common,
      Map<String, String> commonQuery,
      Map<String, String> outer,
      String clientIp) {
    if (!n.isObject()) {
      throw new IllegalArgumentException(at + ": " + n + " (expected: an object)");
    }
    var method = n.get("method");
    if (method == null || !method.isTextual() || !METHODS.contains(method.asText())) {
      throw new IllegalArgumentException(
          at
              + ".method: "
              + method
              + " (expected: one of "
              + String.join(", ", new java.util.TreeSet<>(METHODS))
              + ")");
    }
    var path = n.get("path");
    if (path == null
        || !path.isTextual()
        || path.asText().isEmpty()
        || !path.asText().startsWith("/")) {
      throw new IllegalArgumentException(
          at + ".path: " + path + " (expected: a path starting with /)");
    }
    var body = n.get("body");
    if (body != null && !body.isTextual()) {
      throw new IllegalArgumentException(at + ".body: " + body + " (expected: a string)");
    }
    var version = n.get("version");
    if (version != null
        && !(version.isNumber() && (version.asDouble() == 1.0 || version.asDouble() == 1.1))) {
      throw new IllegalArgumentException(at + ".version: " + version + " (expected: 1.0 or 1.1)");
    }
    var ssl = n.get("ssl_verify");
    if (ssl != null && !ssl.isBoolean()) {
      throw new IllegalArgumentException(at + ".ssl_verify: " + ssl + " (expected: a boolean)");
    }
    var headers = new LinkedHashMap<String, String>();
    strings(n, "headers").forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v));
    common.forEach((k, v) -> headers.putIfAbsent(k.toLowerCase(Locale.ROOT), v));
    outer.forEach(headers::putIfAbsent);
    if (clientIp != null) {
      headers.put("x-real-ip", clientIp);
    }
    var query = new LinkedHashMap<>(strings(n, "query"));
    commonQuery.forEach(query::putIfAbsent);
    return new Sub(
        method.asText(), path.asText(), query, headers, body == null ? null : body.asText());
  }

  /** An object of strings at {@code field}, or empty. */
  private static Map<String, String> strings(JsonNode parent, String field) {
    var n = parent.get(field);
    var out = new LinkedHashMap<String, String>();
    if (n == null) {
      return out;
    }
    if (!n.isObject()) {
      throw new IllegalArgumentException(field + ": " + n + " (expected: an object of strings)");
    }
    var it = n.fields();
    while (it.hasNext()) {
      var e = it.next();
      if (!e.getValue().isTextual()) {
        throw new IllegalArgumentException(
            field + "." + e.getKey() + ": " + e.getValue() + " (expected: a string)");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  static Outcome error(int status, String message) {
    return Outcome.respond(
        status,
        new DefaultHttpHeaders().set("content-type", "application/json"),
        Outcome.errorBody(message));
  }
}
