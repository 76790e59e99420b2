package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.plugin.RedisLink;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * limit-req: a leaky bucket per key, as nginx's limit_req: {@code rate} requests per second with
 * {@code burst} more allowed in excess. Excess requests are delayed until they fit the rate (on a
 * timer), or let through at once with {@code nodelay}; beyond the burst, {@code rejected_code}
 * (503).
 */
@PluginTraits(category = Plugin.Category.TRAFFIC, dryRun = Plugin.DryRun.SIMULATES)
public final class LimitReqPlugin implements Plugin<LimitReqPlugin.Config> {

  /** The configuration; schema {@code limit-req.json}. */
  public record Config(
      double rate,
      double burst,
      boolean nodelay,
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
      // Never print the Redis password.
      return ("Config[rate=%s, burst=%s, nodelay=%s, key=%s %s, policy=%s, redis=%s:%d/%d,"
              + " cluster=%s %s%s]")
          .formatted(
              rate,
              burst,
              nodelay,
              keyType,
              key,
              policy,
              redisHost,
              redisPort,
              redisDatabase,
              redisClusterName,
              redisClusterNodes,
              redisPassword == null ? "" : " with password");
    }
  }

  @Override
  public String name() {
    return "limit-req";
  }

  @Override
  public int priority() {
    return 1001;
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
    var reject = Rejection.of(conf.rejectedCode(), conf.rejectedMsg());
    var key = new RateKey(conf.keyType(), conf.key());
    if (conf.inRedis() && !scope.dryRun()) {
      var link = conf.redisLink(scope);
      // The bucket is the route's (or service's...): every dataplane pod takes from the same one.
      return new RedisBucket(
          conf.rate(),
          conf.burst(),
          conf.nodelay(),
          key,
          reject,
          conf.allowDegradation(),
          link,
          scope.owner() + ":");
    }
    if (!conf.inRedis()) {
      RateKey.localPolicyOnly(conf.policy());
    }
    // A dry-run's bucket is this fresh instance's, whatever the policy.
    var bucket =
        new Bucket(
            conf.rate(), conf.burst(), conf.nodelay(), key, reject, new ConcurrentHashMap<>());
    return conf.inRedis() ? new CountedLocally(bucket) : bucket;
  }

  /**
   * The leaky bucket in Redis, one script per request so concurrent pods never interleave: the
   * excess and the time it was reckoned at (Redis's clock, shared by every pod) in one hash, which
   * expires once the bucket has drained. Returns {refused 0/1, excess}.
   */
  static final RedisLink.Script SCRIPT =
      new RedisLink.Script(
          "local t = redis.call('time') "
              + "local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) "
              + "local rate = tonumber(ARGV[1]) "
              + "local burst = tonumber(ARGV[2]) "
              + "local s = redis.call('hmget', KEYS[1], 'excess', 'at') "
              + "local excess = 0 "
              + "if s[1] then "
              + "  excess = math.max(0, tonumber(s[1]) - rate * (now - tonumber(s[2])) / 1000000 + 1) "
              + "  if excess > burst then return {1, tostring(excess)} end "
              + "end "
              + "redis.call('hset', KEYS[1], 'excess', tostring(excess), 'at', tostring(now)) "
              + "redis.call('pexpire', KEYS[1], math.ceil((excess / rate + 1) * 1000)) "
              + "return {0, tostring(excess)}");

  private record RedisBucket(
      double rate,
      double burst,
      boolean nodelay,
      RateKey key,
      Outcome.Respond reject,
      boolean degrade,
      RedisLink link,
      String prefix)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      var k = link.key("archway:limit-req:", prefix + key.of(ctx));
      var stage = SCRIPT.run(link, k, Double.toString(rate), Double.toString(burst));
      return Outcome.later(
          stage,
          r -> {
            if (r instanceof Throwable err) {
              REDIS_WARNINGS.warn("limit-req: redis: {}", err.toString());
              return degrade ? Outcome.CONTINUE : Outcome.message(500, "failed to limit req");
            }
            var out = (List<?>) r;
            if (((Number) out.get(0)).longValue() == 1) {
              return reject;
            }
            double excess = Double.parseDouble(out.get(1).toString());
            return nodelay || excess <= 0 ? Outcome.CONTINUE : delay(ctx, excess, rate);
          });
    }
  }

  private static final Logger log = LoggerFactory.getLogger(LimitReqPlugin.class);
  // Redis away: one line every 10 s, not one per request.
  private static final io.archway.dataplane.support.WarnEvery REDIS_WARNINGS =
      new io.archway.dataplane.support.WarnEvery(log, 10, java.util.concurrent.TimeUnit.SECONDS);

  /** The request goes on after {@code excess / rate} seconds, on a timer of its event loop. */
  private static Outcome delay(PluginContext ctx, double excess, double rate) {
    return ctx.after((long) (excess / rate * 1e9), () -> Outcome.CONTINUE);
  }

  private record State(double excess, long at) {}

  private record Bucket(
      double rate,
      double burst,
      boolean nodelay,
      RateKey key,
      Outcome.Respond reject,
      Map<String, State> states)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      long now = System.nanoTime();
      var k = key.of(ctx);
      var rejected = new boolean[1];
      var s =
          states.compute(
              k,
              (x, old) -> {
                double excess =
                    old == null ? 0 : Math.max(0, old.excess - rate * (now - old.at) / 1e9 + 1);
                if (old != null && excess > burst) {
                  rejected[0] = true;
                  return old;
                }
                return new State(excess, now);
              });
      if (states.size() > 10_000) {
        states.values().removeIf(st -> st.excess - rate * (now - st.at) / 1e9 <= 0);
      }
      if (rejected[0]) {
        return reject;
      }
      if (nodelay || s.excess <= 0) {
        return Outcome.CONTINUE;
      }
      return delay(ctx, s.excess, rate);
    }
  }
}
