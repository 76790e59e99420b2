package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * limit-req: a leaky bucket per key, as nginx's limit_req: {@code rate} requests per second with
 * {@code burst} more allowed in excess. Excess requests are delayed until they fit the rate (on a
 * timer), or let through at once with {@code nodelay}; beyond the burst, {@code rejected_code}
 * (503).
 */
public final class LimitReqPlugin implements Plugin {

  @Override
  public String name() {
    return "limit-req";
  }

  @Override
  public int priority() {
    return 1001;
  }

  @Override
  public PluginInstance compile(ObjectNode conf, PluginScope scope) {
    Conf.localPolicyOnly(conf);
    double rate = conf.get("rate").doubleValue();
    double burst = conf.get("burst").doubleValue();
    boolean nodelay = Conf.bool(conf, "nodelay", false);
    return new Bucket(
        rate, burst, nodelay, new RateKey(conf), Rejection.of(conf), new ConcurrentHashMap<>());
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
