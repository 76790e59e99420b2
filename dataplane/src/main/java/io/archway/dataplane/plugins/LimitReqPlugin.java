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
 * limit-req: a leaky bucket per key, as nginx's limit_req: {@code rate} requests per second with
 * {@code burst} more allowed in excess. Excess requests are delayed until they fit the rate (on a
 * timer), or let through at once with {@code nodelay}; beyond the burst, {@code rejected_code}
 * (503).
 */
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
      String policy) {}

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
    RateKey.localPolicyOnly(conf.policy());
    return new Bucket(
        conf.rate(),
        conf.burst(),
        conf.nodelay(),
        new RateKey(conf.keyType(), conf.key()),
        Rejection.of(conf.rejectedCode(), conf.rejectedMsg()),
        new ConcurrentHashMap<>());
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
      long delayNanos = (long) (s.excess / rate * 1e9);
      var later = new CompletableFuture<Outcome>();
      ctx.executor()
          .schedule(() -> later.complete(Outcome.CONTINUE), delayNanos, TimeUnit.NANOSECONDS);
      return Outcome.later(later);
    }
  }
}
