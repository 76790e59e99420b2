package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;

/**
 * public-api (APISIX 3.x, priority 501, access): the route serves one of the plugins' public
 * endpoints, found by the route's {@code uri} field or, without it, by the request path, as APISIX
 * serves them on the data port only through such a route (so the route's auth plugins, which run
 * before, protect them):
 *
 * <ul>
 *   <li>{@code POST /apisix/batch-requests} ({@link BatchRequestsPlugin});
 *   <li>{@code GET /apisix/status} ({@link NodeStatusPlugin});
 *   <li>{@code GET /apisix/prometheus/metrics}: what the status port's {@code /metrics} serves;
 *   <li>{@code PURGE /apisix/plugin/proxy-cache/{strategy}/{route_id}/{key}}: removes {@code key}
 *       from the cache zone of route {@code route_id}'s proxy-cache (200, 404 when absent or the
 *       route has no proxy-cache).
 * </ul>
 *
 * Another path or method is 404 {@code {"error_msg":"404 Route Not Found"}}.
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.REFUSED)
public final class PublicApiPlugin implements Plugin<PublicApiPlugin.Config> {

  /** The configuration; schema {@code public-api.json}. */
  public record Config(String uri) {}

  static final String METRICS = "/apisix/prometheus/metrics";
  static final String PROXY_CACHE = "/apisix/plugin/proxy-cache/";

  @Override
  public String name() {
    return "public-api";
  }

  @Override
  public int priority() {
    return 501;
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
    var services = scope.services();
    var fixed = conf.uri();
    return new PluginInstance() {
      @Override
      public Outcome access(PluginContext ctx) {
        var path = fixed != null ? fixed : ctx.vars().path();
        return serve(ctx, services, ctx.request().method().name(), path);
      }
    };
  }

  static Outcome serve(PluginContext ctx, PluginServices services, String method, String path) {
    var gw = services == null ? null : services.gateway();
    if (gw == null) {
      return notFound();
    }
    if (path.equals(BatchRequestsPlugin.PATH) && method.equals("POST")) {
      return BatchRequestsPlugin.serve(ctx, services);
    }
    if (path.equals(NodeStatusPlugin.PATH) && method.equals("GET")) {
      return json(NodeStatusPlugin.status(gw).toString());
    }
    if (path.equals(METRICS) && method.equals("GET")) {
      var h =
          new DefaultHttpHeaders().set("content-type", "text/plain; version=0.0.4; charset=utf-8");
      return Outcome.respond(200, h, gw.metrics().getBytes(StandardCharsets.UTF_8));
    }
    if (path.startsWith(PROXY_CACHE) && method.equals("PURGE")) {
      // The key as sent (percent-encoded): the normalized path has %2F decoded and slashes merged.
      var raw = ctx.vars().get("request_uri");
      raw = raw == null ? path : raw;
      int q = raw.indexOf('?');
      raw = q < 0 ? raw : raw.substring(0, q);
      var rest =
          raw.startsWith(PROXY_CACHE)
              ? raw.substring(PROXY_CACHE.length())
              : path.substring(PROXY_CACHE.length());
      return purge(services, rest);
    }
    return notFound();
  }

  /** {@code {strategy}/{route_id}/{key}}: the key is the rest, percent-decoded. */
  private static Outcome purge(PluginServices services, String rest) {
    var parts = rest.split("/", 3);
    if (parts.length < 3 || parts[2].isEmpty()) {
      return notFound();
    }
    if (!parts[0].equals("memory") && !parts[0].equals("disk")) {
      return BatchRequestsPlugin.error(
          400, "cache_strategy: \"" + parts[0] + "\" (expected: memory or disk)");
    }
    var zone = ProxyCachePlugin.zones(services).get("routes/" + parts[1] + " " + parts[0]);
    var store = zone == null ? null : ProxyCachePlugin.store(services, parts[0], zone);
    if (store == null) {
      return Outcome.status(404);
    }
    String key;
    try {
      key = URLDecoder.decode(parts[2].replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return Outcome.status(400);
    }
    return Outcome.status(store.purge(key) ? 200 : 404);
  }

  private static Outcome json(String body) {
    var h = new DefaultHttpHeaders().set("content-type", "application/json");
    return Outcome.respond(200, h, body.getBytes(StandardCharsets.UTF_8));
  }

  private static Outcome notFound() {
    var h = new DefaultHttpHeaders().set("content-type", "application/json");
    return Outcome.respond(404, h, Outcome.errorBody("404 Route Not Found"));
  }
}
