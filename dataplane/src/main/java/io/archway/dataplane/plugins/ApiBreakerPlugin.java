package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * api-breaker: a circuit breaker per route and per host and path, as APISIX keeps it. The log phase
 * counts the upstream's answers (not the gateway's own: a request the breaker refused, or one that
 * never reached a node, is not counted): every {@code unhealthy.failures}-th answer with one of
 * {@code unhealthy.http_statuses} (including the gateway's 502 and 504 for a node that failed)
 * opens the breaker; while it is open the access phase answers {@code break_response_code} (with
 * {@code break_response_body} and {@code break_response_headers} when given). It stays open 2^n
 * seconds, n being the failures counted over {@code unhealthy.failures} (rounded up), at most
 * {@code max_breaker_sec}; then requests go through again, and one more failure opens it again, for
 * longer. {@code healthy.successes} answers with one of {@code healthy.http_statuses} forget it
 * all.
 *
 * <p>The state outlives config changes ({@code PluginServices}), keyed by the route; the paths it
 * tracks are those that failed, at most {@value #MAX_PATHS} per route (a failing path past that is
 * not tracked, so clients cannot make it grow without bound).
 */
@PluginTraits(category = Plugin.Category.TRAFFIC)
public final class ApiBreakerPlugin implements Plugin<ApiBreakerPlugin.Config> {

  static final int MAX_PATHS = 4096;

  /** The configuration; schema {@code api-breaker.json}. */
  public record Config(
      int breakResponseCode,
      String breakResponseBody,
      List<Header> breakResponseHeaders,
      int maxBreakerSec,
      Unhealthy unhealthy,
      Healthy healthy) {}

  /** A header of the answer while open. */
  public record Header(String key, String value) {}

  /** When the upstream counts as unhealthy. */
  public record Unhealthy(List<Integer> httpStatuses, int failures) {}

  /** When it counts as healthy again. */
  public record Healthy(List<Integer> httpStatuses, int successes) {}

  @Override
  public String name() {
    return "api-breaker";
  }

  @Override
  public int priority() {
    return 1005;
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
    var services = scope.services();
    Map<String, Breaker> states =
        services == null
            ? new ConcurrentHashMap<>()
            : services.shared("api-breaker:" + scope.owner(), ConcurrentHashMap::new);
    var headers = new ArrayList<Map.Entry<String, Template>>();
    if (conf.breakResponseHeaders() != null) {
      for (var h : conf.breakResponseHeaders()) {
        headers.add(Map.entry(h.key(), Template.of(h.value())));
      }
    }
    return new Instance(
        conf, states, List.copyOf(headers), () -> System.currentTimeMillis() / 1000);
  }

  /** One path's counters; written from any event loop, so atomic (never locked). */
  static final class Breaker {
    final AtomicInteger unhealthy = new AtomicInteger();
    final AtomicInteger healthy = new AtomicInteger();
    volatile long openedAt; // seconds; 0: never opened since the last reset
  }

  static final class Instance implements PluginInstance {
    private final Config conf;
    private final Map<String, Breaker> states;
    private final List<Map.Entry<String, Template>> headers;
    private final LongSupplier clock;

    Instance(
        Config conf,
        Map<String, Breaker> states,
        List<Map.Entry<String, Template>> headers,
        LongSupplier clock) {
      this.conf = conf;
      this.states = states;
      this.headers = headers;
      this.clock = clock;
    }

    private static String key(PluginContext ctx) {
      var host = ctx.vars().get("host");
      return (host == null ? "" : host) + ctx.vars().get("uri");
    }

    @Override
    public Outcome access(PluginContext ctx) {
      var b = states.get(key(ctx));
      return b != null && open(b, clock.getAsLong()) ? refusal(ctx) : Outcome.CONTINUE;
    }

    /** Whether {@code b} refuses requests at {@code now} (seconds). */
    boolean open(Breaker b, long now) {
      int count = b.unhealthy.get();
      long at = b.openedAt;
      if (count == 0 || at == 0 || now - at > conf.maxBreakerSec()) {
        return false;
      }
      int times =
          Math.max(1, (count + conf.unhealthy().failures() - 1) / conf.unhealthy().failures());
      long breakSeconds =
          times >= 31 ? conf.maxBreakerSec() : Math.min(1L << times, conf.maxBreakerSec());
      return at + breakSeconds >= now;
    }

    private Outcome refusal(PluginContext ctx) {
      int code = conf.breakResponseCode();
      if (conf.breakResponseBody() == null) {
        return Rejection.of(code, null);
      }
      var h = new DefaultHttpHeaders();
      for (var e : headers) {
        h.set(e.getKey(), e.getValue().render(ctx));
      }
      return Outcome.respond(code, h, conf.breakResponseBody().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void log(PluginContext ctx) {
      if (ctx.upstreamAddr() == null || ctx.status() == 0) {
        return; // not the upstream's answer
      }
      record(key(ctx), ctx.status(), clock.getAsLong());
    }

    /** Counts one upstream answer with {@code status} for {@code key} at {@code now} (seconds). */
    void record(String key, int status, long now) {
      if (conf.unhealthy().httpStatuses().contains(status)) {
        var b = states.get(key);
        if (b == null) {
          if (states.size() >= MAX_PATHS) {
            return;
          }
          b = states.computeIfAbsent(key, k -> new Breaker());
        }
        int count = b.unhealthy.incrementAndGet();
        b.healthy.set(0);
        if (count % conf.unhealthy().failures() == 0) {
          b.openedAt = now;
        }
        return;
      }
      if (!conf.healthy().httpStatuses().contains(status)) {
        return;
      }
      var b = states.get(key);
      if (b == null || b.unhealthy.get() == 0) {
        return;
      }
      if (b.healthy.incrementAndGet() >= conf.healthy().successes()) {
        states.remove(key, b);
      }
    }
  }
}
