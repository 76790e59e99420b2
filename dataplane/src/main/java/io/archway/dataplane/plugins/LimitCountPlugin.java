package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.plugin.RedisLink;
import io.netty.util.AsciiString;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * limit-count: at most {@code count} requests per {@code time_window} seconds per key, in fixed
 * windows; over it, {@code rejected_code} (503). Counts live in this dataplane ({@code policy:
 * local}) or in Redis ({@code policy: redis}, or {@code redis-cluster} where each key lives on the
 * node serving its slot: one atomic script per request, so every dataplane pod shares the count).
 * Adds {@code X-RateLimit-Limit}, {@code -Remaining} and {@code -Reset}, and publishes {@code
 * remaining}. Routes with the same {@code group} share one count.
 */
@PluginTraits(category = Plugin.Category.TRAFFIC, dryRun = Plugin.DryRun.SIMULATES)
public final class LimitCountPlugin implements Plugin<LimitCountPlugin.Config> {

  private static final Logger log = LoggerFactory.getLogger(LimitCountPlugin.class);
  // Redis away: one line every 10 s, not one per request.
  private static final io.archway.dataplane.support.WarnEvery REDIS_WARNINGS =
      new io.archway.dataplane.support.WarnEvery(log, 10, java.util.concurrent.TimeUnit.SECONDS);

  // INCR, and the window's expiry set by the request that opens it; returns {count, ms left}.
  private static final RedisLink.Script SCRIPT =
      new RedisLink.Script(
          "local c = redis.call('incr', KEYS[1]) "
              + "if c == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end "
              + "local ttl = redis.call('pttl', KEYS[1]) "
              + "if ttl < 0 then redis.call('pexpire', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end "
              + "return {c, ttl}");

  /** The configuration; schema {@code limit-count.json}. */
  public record Config(
      int count,
      int timeWindow,
      boolean showLimitQuotaHeader,
      String group,
      String keyType,
      String key,
      int rejectedCode,
      String rejectedMsg,
      boolean allowDegradation,
      String policy,
      String redisHost,
      int redisPort,
      String redisUsername,
      String redisPassword,
      int redisDatabase,
      int redisTimeout,
      List<String> redisClusterNodes,
      String redisClusterName,
      boolean redisClusterSsl,
      boolean redisClusterSslVerify,
      // APISIX's pool settings: Lettuce multiplexes one connection per node, so they are read
      // and not used.
      int redisKeepaliveTimeout,
      int redisKeepalivePool)
      implements RedisPolicy {

    @Override
    public String toString() {
      // Names the password's presence only: a configuration may end up in a log.
      return ("Config[count=%d, time_window=%d, key=%s %s, policy=%s, group=%s, redis=%s:%d/%d,"
              + " cluster=%s %s%s]")
          .formatted(
              count,
              timeWindow,
              keyType,
              key,
              policy,
              group,
              redisHost,
              redisPort,
              redisDatabase,
              redisClusterName,
              redisClusterNodes,
              redisPassword == null ? "" : " with password");
    }

    /** A hash of every field (stable across processes, as List's is specified). */
    int identity() {
      return java.util.Arrays.asList(
              count,
              timeWindow,
              showLimitQuotaHeader,
              group,
              keyType,
              key,
              rejectedCode,
              rejectedMsg,
              allowDegradation,
              policy,
              redisHost,
              redisPort,
              redisUsername,
              redisPassword,
              redisDatabase,
              redisTimeout,
              redisClusterNodes,
              redisClusterName,
              redisClusterSsl,
              redisClusterSslVerify)
          .hashCode();
    }
  }

  @Override
  public String name() {
    return "limit-count";
  }

  @Override
  public int priority() {
    return 1002;
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
  public Set<String> results() {
    return Set.of("remaining");
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    int count = conf.count();
    var limit = Integer.toString(count);
    long windowMillis = conf.timeWindow() * 1000L;
    var key = new RateKey(conf.keyType(), conf.key());
    var reject = Rejection.of(conf.rejectedCode(), conf.rejectedMsg());
    boolean headers = conf.showLimitQuotaHeader();
    boolean degrade = conf.allowDegradation();
    var policy = conf.policy();
    var group = conf.group();
    // Counts are kept per configuration: a changed one starts afresh.
    var prefix = group != null ? "group:" + group : scope.owner() + ":" + conf.identity();
    if (scope.dryRun() && !policy.equals("local")) {
      // A dry-run counts in a throwaway window, never in Redis, and says so.
      return new CountedLocally(
          new Local(count, limit, windowMillis, key, reject, headers, new Windows()));
    }
    switch (policy) {
      case "local" -> {
        Windows windows =
            scope.dryRun()
                ? new Windows()
                : scope
                    .services()
                    .shared("limit-count:" + prefix + ":" + windowMillis, Windows::new);
        return new Local(count, limit, windowMillis, key, reject, headers, windows);
      }
      case "redis", "redis-cluster" -> {
        var link = conf.redisLink(scope);
        return new Redis(
            count, limit, windowMillis, key, reject, headers, degrade, link, prefix + ":");
      }
      default ->
          throw new IllegalArgumentException(
              "policy: \"" + policy + "\" (expected: local, redis or redis-cluster)");
    }
  }

  private static final AsciiString LIMIT = AsciiString.cached("X-RateLimit-Limit");
  private static final AsciiString REMAINING = AsciiString.cached("X-RateLimit-Remaining");
  private static final AsciiString RESET = AsciiString.cached("X-RateLimit-Reset");

  private static Outcome decide(
      PluginContext ctx,
      int count,
      String limit,
      long used,
      long msLeft,
      boolean headers,
      Outcome.Respond reject) {
    long remaining = Math.max(0, count - used);
    ctx.publish("remaining", remaining);
    if (headers) {
      var h = ctx.responseHeaders();
      h.set(LIMIT, limit);
      h.set(REMAINING, Long.toString(remaining));
      h.set(RESET, Long.toString(Math.max(0, (msLeft + 999) / 1000)));
    }
    return used > count ? reject : Outcome.CONTINUE;
  }

  /** Fixed windows per key, in this process; expired windows are swept as new ones open. */
  static final class Windows {
    // A window's count goes up in place: a request in an open window takes no lock and makes
    // nothing; only a new window goes through compute.
    record Window(long end, AtomicLong used) {}

    private final Map<String, Window> byKey = new ConcurrentHashMap<>();
    private long nextSweep;

    /** The window open at {@code now} for {@code key}, opening one if none is. */
    Window open(String key, long windowMillis, long now) {
      var w = byKey.get(key);
      if (w == null || w.end <= now) {
        w =
            byKey.compute(
                key,
                (k, old) ->
                    old == null || old.end <= now
                        ? new Window(now + windowMillis, new AtomicLong())
                        : old);
      }
      if (now >= nextSweep) {
        nextSweep = now + windowMillis;
        byKey.values().removeIf(x -> x.end <= now);
      }
      return w;
    }
  }

  private record Local(
      int count,
      String limit,
      long windowMillis,
      RateKey key,
      Outcome.Respond reject,
      boolean headers,
      Windows windows)
      implements PluginInstance {
    @Override
    public Outcome access(PluginContext ctx) {
      long now = System.currentTimeMillis();
      var w = windows.open(key.of(ctx), windowMillis, now);
      long used = w.used.incrementAndGet();
      return decide(ctx, count, limit, used, w.end - now, headers, reject);
    }
  }

  private record Redis(
      int count,
      String limit,
      long windowMillis,
      RateKey key,
      Outcome.Respond reject,
      boolean headers,
      boolean degrade,
      RedisLink link,
      String prefix)
      implements PluginInstance {
    @Override
    public Outcome access(PluginContext ctx) {
      var k = link.key("archway:limit-count:", prefix + key.of(ctx));
      var stage = SCRIPT.run(link, k, Long.toString(windowMillis));
      return Outcome.later(
          stage,
          r -> {
            if (r instanceof Throwable err) {
              REDIS_WARNINGS.warn("limit-count: redis: {}", err.toString());
              return degrade ? Outcome.CONTINUE : Outcome.message(500, "failed to limit count");
            }
            var counts = (List<?>) r;
            return decide(
                ctx,
                count,
                limit,
                ((Number) counts.get(0)).longValue(),
                ((Number) counts.get(1)).longValue(),
                headers,
                reject);
          });
    }
  }
}
