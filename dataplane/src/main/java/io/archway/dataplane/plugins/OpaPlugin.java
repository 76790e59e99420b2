package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * opa: Open Policy Agent's data API decides. The input is APISIX's ({@code type: http}, {@code
 * request} with scheme, method, host, port, path, headers and query, {@code var}, and with the
 * {@code with_*} switches the route, service and consumer); it is sent with the JDK's client from
 * the plugins' I/O threads and the decision taken back on the event loop. Where APISIX sends the
 * whole route, service or consumer object, Archway sends what a plugin can see of them: the route's
 * id and paths, the service's id, the consumer's name and group; none of their secrets.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class OpaPlugin implements Plugin<OpaPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(OpaPlugin.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The configuration; schema {@code opa.json}. */
  public record Config(
      String host,
      boolean sslVerify,
      String policy,
      int timeout,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool,
      List<String> sendHeadersUpstream,
      boolean withRoute,
      boolean withService,
      boolean withConsumer) {}

  @Override
  public String name() {
    return "opa";
  }

  @Override
  public int priority() {
    return 2001;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    URI endpoint;
    try {
      var host = conf.host();
      while (host.endsWith("/")) {
        host = host.substring(0, host.length() - 1);
      }
      endpoint = URI.create(host + "/v1/data/" + conf.policy());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("host: not a URL with policy: " + e.getMessage());
    }
    if (endpoint.getScheme() == null
        || !Set.of("http", "https").contains(endpoint.getScheme().toLowerCase(Locale.ROOT))
        || endpoint.getHost() == null) {
      throw new IllegalArgumentException(
          "host: not an http(s) URL (expected: e.g. http://127.0.0.1:8181): " + conf.host());
    }
    var services = scope.services();
    return new PluginInstance() {
      @Override
      public Outcome access(PluginContext ctx) {
        byte[] body;
        try {
          body = JSON.writeValueAsBytes(input(conf, ctx));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        var req =
            HttpRequest.newBuilder(endpoint)
                .timeout(Duration.ofMillis(conf.timeout()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        var client = conf.sslVerify() ? services.http() : services.httpUnverified();
        var sent =
            client
                .sendAsync(req, BoundedBody.handler(1 << 20))
                .handle((res, err) -> err == null ? res : null);
        return Outcome.later(sent, res -> decide(conf, ctx, res));
      }
    };
  }

  static ObjectNode input(Config conf, PluginContext ctx) {
    var root = JSON.createObjectNode();
    var in = root.putObject("input");
    in.put("type", "http");
    var vars = ctx.vars();
    var r = in.putObject("request");
    r.put("scheme", vars.get("scheme"));
    r.put("method", ctx.request().method().name());
    r.put("host", vars.get("host"));
    var port = vars.get("server_port");
    try {
      r.put("port", Integer.parseInt(port));
    } catch (NumberFormatException | NullPointerException e) {
      r.putNull("port");
    }
    r.put("path", vars.get("uri"));
    var headers = r.putObject("headers");
    for (var name : ctx.request().headers().names()) {
      var values = ctx.request().headers().getAll(name);
      var key = name.toLowerCase(Locale.ROOT);
      if (values.size() == 1) {
        headers.put(key, values.get(0));
      } else {
        var a = headers.putArray(key);
        values.forEach(a::add);
      }
    }
    var query = r.putObject("query");
    var qs = vars.get("query_string");
    if (qs != null && !qs.isEmpty()) {
      new QueryStringDecoder(qs, StandardCharsets.UTF_8, false)
          .parameters()
          .forEach(
              (k, v) -> {
                if (v.size() == 1) {
                  // An argument without a value is true, as ngx.req.get_uri_args gives it.
                  if (v.get(0).isEmpty() && !qs.contains(k + "=")) {
                    query.put(k, true);
                  } else {
                    query.put(k, v.get(0));
                  }
                } else {
                  var a = query.putArray(k);
                  v.forEach(a::add);
                }
              });
    }
    var v = in.putObject("var");
    v.put("server_port", port);
    v.put("remote_addr", vars.get("remote_addr"));
    v.put("remote_port", vars.get("remote_port"));
    v.put("timestamp", System.currentTimeMillis() / 1000);
    if (conf.withRoute()) {
      var route = in.putObject("route");
      route.put("id", ctx.routeId());
      var paths = ctx.routePaths();
      if (paths != null && !paths.isEmpty()) {
        var uris = route.putArray("uris");
        paths.forEach(uris::add);
      }
    }
    if (conf.withService() && ctx.serviceId() != null) {
      in.putObject("service").put("id", ctx.serviceId());
    }
    if (conf.withConsumer() && ctx.consumer() != null) {
      var c = in.putObject("consumer");
      c.put("username", ctx.consumer().username());
      c.put("consumer_name", ctx.consumer().username());
      if (ctx.consumer().groupId() != null) {
        c.put("group_id", ctx.consumer().groupId());
      }
    }
    return root;
  }

  static Outcome decide(Config conf, PluginContext ctx, HttpResponse<byte[]> res) {
    if (res == null) {
      LOG.error("opa: failed to process OPA decision at {}", conf.host());
      return Outcome.status(403);
    }
    JsonNode data;
    try {
      data = JSON.readTree(res.body());
    } catch (Exception e) {
      data = null;
    }
    if (data == null || !data.isObject()) {
      LOG.error("opa: invalid response body from {} (status {})", conf.host(), res.statusCode());
      return Outcome.status(503);
    }
    var result = data.get("result");
    if (result == null || result.isNull()) {
      LOG.error("opa: invalid OPA decision format: `result` field does not exist");
      return Outcome.status(503);
    }
    boolean allow = result.isBoolean() ? result.asBoolean() : result.path("allow").asBoolean(false);
    var headers = result.path("headers");
    if (allow) {
      if (conf.sendHeadersUpstream() != null && headers.isObject()) {
        for (var name : conf.sendHeadersUpstream()) {
          var value = headers.get(name);
          if (value != null && !value.isNull() && !value.isContainerNode()) {
            ctx.request().headers().set(name, value.asText());
          }
        }
      }
      return Outcome.CONTINUE;
    }
    var out = new DefaultHttpHeaders();
    if (headers.isObject()) {
      headers
          .properties()
          .forEach(
              e -> {
                if (!e.getValue().isContainerNode() && !e.getValue().isNull()) {
                  out.set(e.getKey(), e.getValue().asText());
                }
              });
    }
    int status =
        result.path("status_code").canConvertToInt() ? result.path("status_code").asInt() : 403;
    if (status < 100 || status > 599) {
      status = 403;
    }
    var reason = result.get("reason");
    byte[] body = null;
    if (reason != null && !reason.isNull()) {
      body =
          (reason.isContainerNode() ? reason.toString() : reason.asText())
              .getBytes(StandardCharsets.UTF_8);
    }
    return Outcome.respond(status, out.isEmpty() ? null : out, body);
  }
}
