package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.RedisLink;
import io.archway.dataplane.plugin.StreamPlugin;
import io.archway.dataplane.plugin.StreamPluginInstance;
import io.archway.dataplane.plugin.StreamPluginInstance.Preread;
import io.archway.dataplane.plugin.StreamSession;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * limit-conn on stream routes: at most {@code conn} connections per key ({@code remote_addr} or
 * {@code server_addr}) at a time; up to {@code burst} more wait {@code default_conn_delay} seconds
 * before their upstream is connected, and any beyond are closed. A connection holds its slot until
 * it closes. Policy {@code local} counts in this dataplane (the counts outlive config changes);
 * {@code redis} counts in one Redis server, {@code redis-cluster} in a Redis Cluster, with the HTTP
 * limit-conn's scripts, so every pod shares the limit.
 */
public final class StreamLimitConn implements StreamPlugin<StreamLimitConn.Config> {

  private static final Logger log = LoggerFactory.getLogger(StreamLimitConn.class);
  // Redis away: one line every 10 s, not one per request.
  private static final io.archway.dataplane.support.WarnEvery REDIS_WARNINGS =
      new io.archway.dataplane.support.WarnEvery(log, 10, java.util.concurrent.TimeUnit.SECONDS);

  /** The configuration; schema {@code stream/limit-conn.json}. */
  public record Config(
      int conn,
      int burst,
      double defaultConnDelay,
      boolean onlyUseDefaultDelay,
      String keyType,
      String key,
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
      return "Config[conn=%d, burst=%d, key=%s, policy=%s, redis=%s:%d/%d, cluster=%s %s]"
          .formatted(
              conn,
              burst,
              key,
              policy,
              redisHost,
              redisPort,
              redisDatabase,
              redisClusterName,
              redisClusterNodes);
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
  public StreamPluginInstance compile(Config conf, PluginScope scope) {
    long delay = (long) (conf.defaultConnDelay() * 1e9);
    if (conf.inRedis()) {
      return new RedisSlots(
          conf.conn(),
          conf.burst(),
          delay,
          conf.key(),
          conf.allowDegradation(),
          conf.redisLink(scope),
          scope.owner() + ":");
    }
    RateKey.localPolicyOnly(conf.policy());
    // Kept across config changes: connections open under the old route give their slots back to
    // the same counts.
    Map<String, Integer> inUse =
        scope
            .services()
            .shared(
                "limit-conn-stream:" + scope.owner() + ":" + conf.key(), ConcurrentHashMap::new);
    return new Slots(conf.conn(), conf.burst(), delay, conf.key(), inUse);
  }

  private static Preread delayed(StreamSession s, long nanos) {
    var later = new CompletableFuture<Preread>();
    s.executor().schedule(() -> later.complete(Preread.CONTINUE), nanos, TimeUnit.NANOSECONDS);
    return Preread.later(later);
  }

  private record Slots(int conn, int burst, long delayNanos, String key, Map<String, Integer> inUse)
      implements StreamPluginInstance {

    @Override
    public Preread preread(StreamSession s) {
      var k = s.get(key);
      int now = inUse.merge(k, 1, Integer::sum);
      if (now > conn + burst) {
        release(k);
        return Preread.CLOSE;
      }
      s.state(this, k);
      return now > conn ? delayed(s, delayNanos) : Preread.CONTINUE;
    }

    @Override
    public void log(StreamSession s) {
      String k = s.state(this);
      if (k != null) {
        s.state(this, null);
        release(k);
      }
    }

    private void release(String k) {
      inUse.computeIfPresent(k, (x, v) -> v <= 1 ? null : v - 1);
    }
  }

  private record RedisSlots(
      int conn,
      int burst,
      long delayNanos,
      String key,
      boolean degrade,
      RedisLink link,
      String prefix)
      implements StreamPluginInstance {

    @Override
    public Preread preread(StreamSession s) {
      var k = link.key("archway:limit-conn:", prefix + s.get(key));
      var decided = new CompletableFuture<Preread>();
      LimitConnPlugin.TAKE
          .run(link, k, Integer.toString(conn + burst))
          .thenAccept(
              r -> {
                // The script's runner hands a failure over as the value.
                if (r instanceof Throwable err) {
                  REDIS_WARNINGS.warn("limit-conn (stream): redis: {}", err.toString());
                  decided.complete(degrade ? Preread.CONTINUE : Preread.CLOSE);
                  return;
                }
                var out = (List<?>) r;
                if (((Number) out.get(1)).longValue() == 1) {
                  decided.complete(Preread.CLOSE);
                  return;
                }
                // Set on the loop: the handler runs the decision there, before log can run.
                s.executor()
                    .execute(
                        () -> {
                          s.state(this, k);
                          decided.complete(
                              ((Number) out.get(0)).longValue() > conn
                                  ? delayed(s, delayNanos)
                                  : Preread.CONTINUE);
                        });
              });
      return Preread.later(decided);
    }

    @Override
    public void log(StreamSession s) {
      String k = s.state(this);
      if (k == null) {
        return;
      }
      s.state(this, null);
      LimitConnPlugin.give(link, k, "limit-conn (stream)");
    }
  }
}
