package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ai-rate-limiting: limits the LLM tokens an AI instance (ai-proxy's provider, ai-proxy-multi's
 * instance) may use per window, counted after each response from its usage ({@code limit_strategy}:
 * total, prompt or completion tokens, {@link LlmCall}). A request is refused ({@code
 * rejected_code}, default 503) while its instance's window has no token left; the tokens of a
 * response are counted in the log phase, so the request that crosses the limit is served, as in
 * APISIX. Instances named in {@code instances} have their own limit; the others share the plugin's
 * {@code limit} (one window for all of them). Headers {@code X-AI-RateLimit-Limit-<name>}, {@code
 * -Remaining-<name>}, {@code -Reset-<name>}. Counters are local to the process ({@code policy:
 * local}); they outlive reloads while the configuration stays the same.
 */
@PluginTraits(category = Plugin.Category.AI)
public final class AiRateLimitingPlugin implements Plugin<AiRateLimitingPlugin.Config> {

  /** The configuration; schema {@code ai-rate-limiting.json}. */
  public record Config(
      Integer limit,
      Integer timeWindow,
      boolean showLimitQuotaHeader,
      String limitStrategy,
      List<InstanceLimit> instances,
      int rejectedCode,
      String rejectedMsg,
      String policy) {}

  /** One instance's own limit. */
  public record InstanceLimit(String name, int limit, int timeWindow) {}

  /** The key the instances without a limit of their own share. */
  static final String GLOBAL = "ai-rate-limiting#global";

  @Override
  public String name() {
    return "ai-rate-limiting";
  }

  @Override
  public int priority() {
    return 1030;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.LOG);
  }

  private record Limit(String key, long limit, long windowMillis) {}

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    if ((conf.limit() == null) != (conf.timeWindow() == null)) {
      throw new IllegalArgumentException(
          "limit and time_window go together (expected: both or neither)");
    }
    if (conf.limit() == null && (conf.instances() == null || conf.instances().isEmpty())) {
      throw new IllegalArgumentException(
          "expected limit and time_window, or instances (a limit per instance)");
    }
    var own = new HashMap<String, Limit>();
    if (conf.instances() != null) {
      for (var i : conf.instances()) {
        own.put(i.name(), new Limit(i.name(), i.limit(), i.timeWindow() * 1000L));
      }
    }
    var shared =
        conf.limit() == null ? null : new Limit(GLOBAL, conf.limit(), conf.timeWindow() * 1000L);
    // Windows outlive reloads of the same configuration, as limit-count's.
    var windows =
        scope
            .services()
            .shared("ai-rate-limiting:" + scope.owner() + ":" + conf.hashCode(), Windows::new);
    var body =
        conf.rejectedMsg() == null
            ? Outcome.errorBody(conf.rejectedCode())
            : Outcome.errorBody(conf.rejectedMsg());
    return new Limiter(
        Map.copyOf(own),
        shared,
        windows,
        conf.limitStrategy(),
        conf.showLimitQuotaHeader(),
        conf.rejectedCode(),
        body);
  }

  /** Token windows by key: what was used, and when the window ends. */
  static final class Windows {
    private record Window(long end, long used) {}

    private final Map<String, Window> byKey = new ConcurrentHashMap<>();

    /** {used, ms left} of the key's current window, without counting. */
    long[] peek(String key, long windowMillis) {
      long now = System.currentTimeMillis();
      var w = byKey.get(key);
      if (w == null || w.end <= now) {
        return new long[] {0, windowMillis};
      }
      return new long[] {w.used, w.end - now};
    }

    /** Counts {@code tokens} in the key's window. */
    void add(String key, long windowMillis, long tokens) {
      long now = System.currentTimeMillis();
      byKey.compute(
          key,
          (k, old) ->
              old == null || old.end <= now
                  ? new Window(now + windowMillis, tokens)
                  : new Window(old.end, old.used + tokens));
    }
  }

  private record Limiter(
      Map<String, Limit> own,
      Limit shared,
      Windows windows,
      String strategy,
      boolean headers,
      int rejectedCode,
      byte[] rejectedBody)
      implements PluginInstance {

    private Limit limitOf(String instance) {
      var l = own.get(instance);
      return l != null ? l : shared;
    }

    @Override
    public Outcome access(PluginContext ctx) {
      while (true) {
        var instance = ctx.attribute(LlmCall.INSTANCE);
        if (instance == null) {
          return Outcome.CONTINUE; // no AI instance picked on this route
        }
        var l = limitOf(instance);
        if (l == null) {
          return Outcome.CONTINUE;
        }
        var w = windows.peek(l.key(), l.windowMillis());
        long remaining = Math.max(0, l.limit() - w[0]);
        if (headers) {
          var h = ctx.responseHeaders();
          h.set("X-AI-RateLimit-Limit-" + instance, l.limit());
          h.set("X-AI-RateLimit-Remaining-" + instance, remaining);
          h.set("X-AI-RateLimit-Reset-" + instance, (w[1] + 999) / 1000);
        }
        if (remaining > 0) {
          return Outcome.CONTINUE;
        }
        // Spent: ai-proxy-multi moves on when its fallback strategy says so, else refused.
        var next = ctx.attribute(LlmCall.NEXT_INSTANCE);
        if (next == null || !next.getAsBoolean()) {
          ctx.state(this, Boolean.TRUE);
          var h = new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
          return Outcome.respond(rejectedCode, h, rejectedBody);
        }
      }
    }

    @Override
    public void log(PluginContext ctx) {
      var instance = ctx.attribute(LlmCall.INSTANCE);
      if (instance == null || ctx.state(this) != null) {
        return; // refused here: nothing was used
      }
      var l = limitOf(instance);
      if (l == null) {
        return;
      }
      var used = ctx.get("llm_" + strategy);
      long tokens = used == null ? 0 : Long.parseLong(used);
      if (tokens > 0) {
        windows.add(l.key(), l.windowMillis(), tokens);
      }
    }
  }
}
