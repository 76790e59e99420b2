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
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * limit-conn: at most {@code conn} requests in progress per key, {@code burst} more delayed by
 * {@code default_conn_delay} seconds, the rest refused with {@code rejected_code} (503). A request
 * holds its slot until its log phase (answered, or the client gone).
 */
@PluginTraits(category = Plugin.Category.TRAFFIC, dryRun = Plugin.DryRun.SIMULATES)
public final class LimitConnPlugin implements Plugin<LimitConnPlugin.Config> {

  /** The configuration; schema {@code limit-conn.json}. */
  public record Config(
      int conn,
      int burst,
      double defaultConnDelay,
      boolean onlyUseDefaultDelay,
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
      return "Config[conn=%d, burst=%d, key=%s %s, policy=%s, redis=%s:%d/%d, cluster=%s %s%s]"
          .formatted(
              conn,
              burst,
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
    return "limit-conn";
  }

  @Override
  public int priority() {
    return 1003;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.LOG);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    if (conf.inRedis() && !scope.dryRun()) {
      var link = conf.redisLink(scope);
      return new RedisSlots(
          conf.conn(),
          conf.burst(),
          (long) (conf.defaultConnDelay() * 1e9),
          new RateKey(conf.keyType(), conf.key()),
          Rejection.of(conf.rejectedCode(), conf.rejectedMsg()),
          conf.allowDegradation(),
          link,
          scope.owner() + ":");
    }
    if (!conf.inRedis()) {
      RateKey.localPolicyOnly(conf.policy());
    }
    // A dry-run's slots are this fresh instance's, whatever the policy.
    var slots =
        new Slots(
            conf.conn(),
            conf.burst(),
            (long) (conf.defaultConnDelay() * 1e9),
            new RateKey(conf.keyType(), conf.key()),
            Rejection.of(conf.rejectedCode(), conf.rejectedMsg()),
            new ConcurrentHashMap<>());
    return conf.inRedis() ? new CountedLocally(slots) : slots;
  }

  /**
   * Takes a slot: one script, so pods never interleave between the count and the check; the key
   * expires an hour after its last use, so the slots of a pod that died holding them come back.
   * Returns {count, refused 0/1}.
   */
  static final RedisLink.Script TAKE =
      new RedisLink.Script(
          "local n = redis.call('incr', KEYS[1]) "
              + "redis.call('pexpire', KEYS[1], 3600000) "
              + "if n > tonumber(ARGV[1]) then redis.call('decr', KEYS[1]) return {n, 1} end "
              + "return {n, 0}");

  /** Gives a slot back; the key goes when nobody holds one. Returns {count left}. */
  static final RedisLink.Script GIVE =
      new RedisLink.Script(
          "local n = redis.call('decr', KEYS[1]) "
              + "if n <= 0 then redis.call('del', KEYS[1]) end "
              + "return {n}");

  /**
   * Gives {@code key}'s slot back, not awaited: the response is out; a lost decrement drains with
   * the key's expiry.
   */
  static void give(RedisLink link, String key, String who) {
    GIVE.run(link, key)
        .thenAccept(
            r -> {
              if (r instanceof Throwable err) {
                REDIS_WARNINGS.warn("{}: redis: {}", who, err.toString());
              }
            });
  }

  private static final Logger log = LoggerFactory.getLogger(LimitConnPlugin.class);
  // Redis away: one line every 10 s, not one per request.
  private static final io.archway.dataplane.support.WarnEvery REDIS_WARNINGS =
      new io.archway.dataplane.support.WarnEvery(log, 10, java.util.concurrent.TimeUnit.SECONDS);

  /** limit-conn with its counts in Redis, shared by every dataplane pod. */
  private record RedisSlots(
      int conn,
      int burst,
      long delayNanos,
      RateKey key,
      Outcome.Respond reject,
      boolean degrade,
      RedisLink link,
      String prefix)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      var k = link.key("archway:limit-conn:", prefix + key.of(ctx));
      var stage = TAKE.run(link, k, Integer.toString(conn + burst));
      // Until the decision is in, the state is the take itself: a client that leaves meanwhile
      // cancels the run (the decision below never runs) and its log phase runs at once, so that
      // log phase gives back whatever the take turns out to have taken.
      ctx.state(this, new Taking(k, stage));
      return Outcome.later(
          stage,
          r -> {
            ctx.state(this, null);
            if (!took(r)) {
              if (r instanceof Throwable err) {
                REDIS_WARNINGS.warn("limit-conn: redis: {}", err.toString());
                return degrade ? Outcome.CONTINUE : Outcome.message(500, "failed to limit conn");
              }
              return reject;
            }
            var out = (List<?>) r;
            ctx.state(this, k);
            if (((Number) out.get(0)).longValue() > conn) {
              return ctx.after(delayNanos, () -> Outcome.CONTINUE);
            }
            return Outcome.CONTINUE;
          });
    }

    @Override
    public void log(PluginContext ctx) {
      Object held = ctx.state(this);
      if (held == null) {
        return;
      }
      ctx.state(this, null);
      if (held instanceof Taking t) {
        // The client left before the take's answer: its slot, if it got one, goes back then.
        t.stage()
            .thenAccept(
                r -> {
                  if (took(r)) {
                    give(link, t.key(), "limit-conn");
                  }
                });
        return;
      }
      give(link, (String) held, "limit-conn");
    }
  }

  /** A take sent to Redis whose answer the request has not seen yet. */
  private record Taking(String key, CompletionStage<Object> stage) {}

  /** Whether {@link #TAKE}'s answer {@code r} is a slot taken (not refused, not a failure). */
  private static boolean took(Object r) {
    return r instanceof List<?> out && ((Number) out.get(1)).longValue() == 0;
  }

  private record Slots(
      int conn,
      int burst,
      long delayNanos,
      RateKey key,
      Outcome.Respond reject,
      Map<String, Integer> inUse)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      var k = key.of(ctx);
      int now = inUse.merge(k, 1, Integer::sum);
      if (now > conn + burst) {
        release(k);
        return reject;
      }
      ctx.state(this, k);
      if (now > conn) {
        return ctx.after(delayNanos, () -> Outcome.CONTINUE);
      }
      return Outcome.CONTINUE;
    }

    @Override
    public void log(PluginContext ctx) {
      String k = ctx.state(this);
      if (k != null) {
        ctx.state(this, null);
        release(k);
      }
    }

    private void release(String k) {
      inUse.computeIfPresent(k, (x, v) -> v <= 1 ? null : v - 1);
    }
  }
}
