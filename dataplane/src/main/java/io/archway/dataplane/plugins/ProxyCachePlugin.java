package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.route.Variables;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/**
 * proxy-cache (APISIX 3.x): responses of {@code cache_method} with a status of {@code
 * cache_http_status} are kept under the expanded {@code cache_key}, and later requests with the
 * same key are answered from the store without reaching the upstream. With {@code cache_strategy:
 * memory} a response stays fresh {@code cache_ttl} seconds (or what the upstream's Cache-Control /
 * Expires say, with {@code cache_control}); with {@code disk} (APISIX's default, nginx's {@code
 * proxy_cache}) for what the upstream's Cache-Control / Expires say, else {@link #DISK_TTL}
 * (APISIX's {@code proxy_cache.cache_ttl}), and, as nginx, a response with {@code Set-Cookie},
 * {@code Vary: *}, or Cache-Control {@code private}, {@code no-store} or {@code no-cache} is not
 * stored. {@code Apisix-Cache-Status} says MISS, HIT, EXPIRED or BYPASS; a {@code PURGE} request on
 * the route removes its key (200, or 404 when nothing was cached).
 *
 * <p>The store of a {@code cache_zone} is shared by the event loops and every route naming the
 * zone, and survives reloads: bounded to {@link #ZONE_BYTES} (bodies, headers, keys and a fixed
 * overhead per entry, which also bounds the number of entries), at most {@link #ENTRY_BYTES} of
 * body per response. The body is copied into a byte array as it streams to the client (never held
 * back); a response that outgrows the limit is simply not stored. A cached body is a byte array, so
 * serving it shares no buffer.
 *
 * <p>A disk zone ({@link DiskCacheStore}) is a directory under the dataplane's cache directory
 * ({@link PluginServices#cacheDirectory}), bounded to {@link #DISK_ZONE_BYTES} (APISIX's {@code
 * disk_size}) with at most {@link #DISK_ENTRY_BYTES} per response; its files survive a restart.
 */
@PluginTraits(category = Plugin.Category.TRAFFIC)
public final class ProxyCachePlugin implements Plugin<ProxyCachePlugin.Config> {

  /** A zone's bound, APISIX's default {@code memory_cache} size. */
  static final long ZONE_BYTES = 50L << 20;

  /** The largest body stored. */
  static final int ENTRY_BYTES = 1 << 20;

  /** Counted for each entry besides its bytes: bounds the number of entries too. */
  static final int ENTRY_OVERHEAD = 256;

  static final String STATUS_HEADER = "Apisix-Cache-Status";

  /** A disk zone's bound, APISIX's default {@code disk_size}. */
  static final long DISK_ZONE_BYTES = 1L << 30;

  /** The largest body a disk zone stores (held in memory until it is written). */
  static final int DISK_ENTRY_BYTES = 8 << 20;

  /** Seconds a disk entry stays fresh when the upstream does not say (APISIX's default). */
  static final int DISK_TTL = 10;

  /** The configuration; schema {@code proxy-cache.json}. */
  public record Config(
      String cacheStrategy,
      String cacheZone,
      List<String> cacheKey,
      List<String> cacheBypass,
      List<String> cacheMethod,
      List<Integer> cacheHttpStatus,
      boolean hideCacheHeaders,
      boolean cacheControl,
      List<String> noCache,
      int cacheTtl) {}

  @Override
  public String name() {
    return "proxy-cache";
  }

  @Override
  public int priority() {
    return 1085;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.HEADER_FILTER, Phase.BODY_FILTER);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    boolean disk = "disk".equals(conf.cacheStrategy());
    var zone = conf.cacheZone();
    var services = scope.services();
    // One store per zone and strategy, shared by every route naming it and kept across reloads.
    CacheZone store;
    if (disk) {
      Supplier<DiskCacheStore> make =
          () ->
              new DiskCacheStore(
                  (services == null
                          ? PluginServices.defaultCacheDirectory()
                          : services.cacheDirectory())
                      .resolve(directoryName(zone)),
                  DISK_ZONE_BYTES,
                  DISK_ENTRY_BYTES,
                  services == null ? ForkJoinPool.commonPool() : services.io());
      store = services == null ? make.get() : services.shared("proxy-cache:disk:" + zone, make);
    } else {
      Supplier<CacheStore> make = () -> new CacheStore(ZONE_BYTES, ENTRY_BYTES);
      store = services == null ? make.get() : services.shared("proxy-cache:zone:" + zone, make);
    }
    if (services != null) {
      // public-api's PURGE /apisix/plugin/proxy-cache/{strategy}/{route_id}/{key} finds it here.
      zones(services).put(scope.owner() + " " + conf.cacheStrategy(), zone);
    }
    return new Instance(
        store,
        disk,
        List.copyOf(conf.cacheKey()),
        conf.cacheBypass() == null ? null : List.copyOf(conf.cacheBypass()),
        Set.copyOf(conf.cacheMethod()),
        Set.copyOf(conf.cacheHttpStatus()),
        conf.hideCacheHeaders(),
        conf.cacheControl(),
        conf.noCache() == null ? null : List.copyOf(conf.noCache()),
        conf.cacheTtl());
  }

  /** A zone's directory name: the name itself when it is a safe one, else a digest of it. */
  static String directoryName(String zone) {
    if (zone.matches("[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")) {
      return zone;
    }
    return "zone-" + Integer.toHexString(zone.hashCode());
  }

  /** The zone of each owner and strategy ({@code routes/<id> memory}) compiled with proxy-cache. */
  static Map<String, String> zones(PluginServices services) {
    return services.shared(
        "proxy-cache:owner-zones", java.util.concurrent.ConcurrentHashMap<String, String>::new);
  }

  /** The store of {@code zone} of {@code strategy} (memory or disk), if a configuration made it. */
  static CacheZone store(PluginServices services, String strategy, String zone) {
    return services.shared(
        (strategy.equals("disk") ? "proxy-cache:disk:" : "proxy-cache:zone:") + zone, () -> null);
  }

  /**
   * APISIX's complex value: each {@code $name} is the variable (empty when unset), anything else
   * itself, all joined.
   */
  static String expand(List<String> parts, Variables vars) {
    var out = new StringBuilder();
    for (var p : parts) {
      if (p.startsWith("$")) {
        var v = vars.get(p.substring(1));
        if (v != null) {
          out.append(v);
        }
      } else {
        out.append(p);
      }
    }
    return out.toString();
  }

  /** Whether a {@code cache_bypass} / {@code no_cache} list is set for this request. */
  static boolean holds(List<String> parts, Variables vars) {
    if (parts == null) {
      return false;
    }
    var v = expand(parts, vars);
    return !v.isEmpty() && !v.equals("0");
  }

  /**
   * Cache-Control's directives, lower case, with their values ({@code ""} for none): {@code
   * max-age=60, no-cache} gives {max-age: 60, no-cache: ""}.
   */
  static Map<String, String> directives(List<String> values) {
    var out = new HashMap<String, String>();
    for (var value : values) {
      for (var d : value.split(",")) {
        var t = d.trim();
        if (t.isEmpty()) {
          continue;
        }
        int eq = t.indexOf('=');
        if (eq < 0) {
          out.put(t.toLowerCase(Locale.ROOT), "");
        } else {
          var v = t.substring(eq + 1).trim();
          if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
          }
          out.put(t.substring(0, eq).trim().toLowerCase(Locale.ROOT), v);
        }
      }
    }
    return out;
  }

  /** A directive's seconds, or -1 when missing or not a number. */
  static long seconds(Map<String, String> cc, String name) {
    var v = cc.get(name);
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * How long a response may be kept, in seconds, by the upstream's headers: 0 when it must not be
   * (no-store, no-cache, private, a max-age of 0, an Expires in the past or unreadable), -1 when
   * they do not say.
   */
  static long upstreamTtl(HttpHeaders headers, long nowMillis) {
    var cc = directives(headers.getAll(HttpHeaderNames.CACHE_CONTROL));
    if (cc.containsKey("no-store") || cc.containsKey("no-cache") || cc.containsKey("private")) {
      return 0;
    }
    long s = seconds(cc, "s-maxage");
    if (s < 0) {
      s = seconds(cc, "max-age");
    }
    if (s >= 0) {
      return s;
    }
    var expires = headers.get(HttpHeaderNames.EXPIRES);
    if (expires != null) {
      var at = DateFormatter.parseHttpDate(expires);
      if (at == null) {
        return 0;
      }
      return Math.max(0, (at.getTime() - nowMillis) / 1000);
    }
    return -1;
  }

  /** What this request is to the cache (its state on the context). */
  private static final class Pending {
    final String key;
    final String status;
    boolean store;
    int code;
    List<Map.Entry<String, String>> headers;
    long ttlMillis;

    Pending(String key, String status) {
      this.key = key;
      this.status = status;
    }
  }

  private record Instance(
      CacheZone store,
      boolean disk,
      List<String> cacheKey,
      List<String> bypass,
      Set<String> methods,
      Set<Integer> statuses,
      boolean hide,
      boolean cacheControl,
      List<String> noCache,
      int ttl)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      var method = ctx.request().method().name();
      var key = expand(cacheKey, ctx);
      if (method.equals("PURGE")) {
        return Outcome.status(store.purge(key) ? 200 : 404);
      }
      if (!methods.contains(method)) {
        return Outcome.CONTINUE;
      }
      if (holds(bypass, ctx)) {
        ctx.state(this, new Pending(key, "BYPASS"));
        return Outcome.CONTINUE;
      }
      Map<String, String> cc = Map.of();
      if (cacheControl) {
        cc = directives(ctx.request().headers().getAll(HttpHeaderNames.CACHE_CONTROL));
        if (cc.containsKey("no-cache")) {
          ctx.state(this, new Pending(key, "BYPASS"));
          return Outcome.CONTINUE;
        }
      }
      var lookup = store.lookup(key).toCompletableFuture();
      final var clientCc = cc;
      if (lookup.isDone()) {
        return decide(ctx, key, clientCc, lookup.getNow(null));
      }
      return Outcome.later(lookup, e -> decide(ctx, key, clientCc, e));
    }

    /** The request's fate once the entry (or {@code null}) is known. */
    private Outcome decide(
        PluginContext ctx, String key, Map<String, String> cc, CacheStore.Entry e) {
      var method = ctx.request().method().name();
      long now = System.currentTimeMillis();
      if (e == null) {
        if (cc.containsKey("only-if-cached")) {
          return Outcome.status(504);
        }
        ctx.state(this, new Pending(key, "MISS"));
        return Outcome.CONTINUE;
      }
      long age = (now - e.stored()) / 1000;
      long maxAge = seconds(cc, "max-age");
      long minFresh = seconds(cc, "min-fresh");
      if (now >= e.expires()
          || (maxAge >= 0 && age > maxAge)
          || (minFresh >= 0 && e.expires() - now < minFresh * 1000)) {
        ctx.state(this, new Pending(key, "EXPIRED"));
        return Outcome.CONTINUE;
      }
      ctx.state(this, new Pending(key, "HIT"));
      var h = new DefaultHttpHeaders();
      for (var x : e.headers()) {
        h.add(x.getKey(), x.getValue());
      }
      h.set(STATUS_HEADER, "HIT");
      h.set(HttpHeaderNames.AGE, age);
      return Outcome.respond(e.status(), h, method.equals("HEAD") ? new byte[0] : e.body());
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      Pending p = ctx.state(this);
      if (p == null || p.status.equals("HIT")) {
        return;
      }
      var headers = response.headers();
      headers.set(STATUS_HEADER, p.status);
      long keep = -1;
      if (!p.status.equals("BYPASS")
          && !ctx.request().method().name().equals("HEAD")
          && statuses.contains(response.status().code())
          && !holds(noCache, ctx)) {
        keep = disk ? DISK_TTL : ttl;
        if (cacheControl || disk) {
          long up = upstreamTtl(headers, System.currentTimeMillis());
          if (up >= 0) {
            keep = up;
          }
        }
        if (disk
            && (headers.contains(HttpHeaderNames.SET_COOKIE)
                || "*".equals(headers.get(HttpHeaderNames.VARY)))) {
          keep = -1; // as nginx: a response for one client is not kept for the others
        }
        long declared = headers.getInt(HttpHeaderNames.CONTENT_LENGTH, -1);
        if (declared > store.maxEntry()) {
          keep = -1;
        }
      }
      if (hide) {
        headers.remove(HttpHeaderNames.CACHE_CONTROL);
        headers.remove(HttpHeaderNames.EXPIRES);
      }
      if (keep > 0) {
        // The upstream's headers only: what plugins added for this request (limit-count's
        // remaining count, a request id) would be stale on every hit.
        var added = ctx.hasResponseHeaders() ? ctx.responseHeaders() : null;
        var kept = new ArrayList<Map.Entry<String, String>>();
        for (var h : headers) {
          var n = h.getKey();
          if ((added == null || !added.contains(n))
              && !n.equalsIgnoreCase(STATUS_HEADER)
              && !n.equalsIgnoreCase("content-length")
              && !n.equalsIgnoreCase("transfer-encoding")
              && !n.equalsIgnoreCase("connection")
              && !n.equalsIgnoreCase("keep-alive")
              && !n.equalsIgnoreCase("server")) {
            kept.add(Map.entry(n, h.getValue()));
          }
        }
        p.store = true;
        p.code = response.status().code();
        p.headers = List.copyOf(kept);
        p.ttlMillis = keep * 1000;
      }
    }

    @Override
    public BodyStream bodyStream(PluginContext ctx) {
      Pending p = ctx.state(this);
      if (p == null || !p.store) {
        return null;
      }
      p.store = false;
      return new CacheStore.Capture(store, p.key, p.code, p.headers, p.ttlMillis);
    }
  }
}
