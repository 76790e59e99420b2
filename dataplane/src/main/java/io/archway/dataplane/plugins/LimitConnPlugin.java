package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * limit-conn: at most {@code conn} requests in progress per key, {@code burst} more delayed by
 * {@code default_conn_delay} seconds, the rest refused with {@code rejected_code} (503). A request
 * holds its slot until its log phase (answered, or the client gone).
 */
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
      String policy) {}

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
    RateKey.localPolicyOnly(conf.policy());
    return new Slots(
        conf.conn(),
        conf.burst(),
        (long) (conf.defaultConnDelay() * 1e9),
        new RateKey(conf.keyType(), conf.key()),
        Rejection.of(conf.rejectedCode(), conf.rejectedMsg()),
        new ConcurrentHashMap<>());
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
        var later = new CompletableFuture<Outcome>();
        ctx.executor()
            .schedule(() -> later.complete(Outcome.CONTINUE), delayNanos, TimeUnit.NANOSECONDS);
        return Outcome.later(later);
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
