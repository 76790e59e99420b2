package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.upstream.NodeState;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * ai-proxy-multi: ai-proxy over several LLM instances. The instances of the highest {@code
 * priority} take the requests, spread by {@code weight} (a smooth weighted rotation, or with {@code
 * balancer.algorithm: chash} by the hash of {@code balancer.key}); lower priorities are used only
 * when a fallback moves on. {@code fallback_strategy} {@code http_429} / {@code http_5xx} sends a
 * request that an instance answered 429 / 5xx (or could not be reached: the gateway's 502/504) to
 * the next instance, in priority order, each instance at most once; {@code
 * instance_health_and_rate_limiting} passes over instances whose upstream (from their {@code
 * checks}) has no healthy node.
 */
@PluginTraits(category = Plugin.Category.AI)
public final class AiProxyMultiPlugin implements Plugin<AiProxyMultiPlugin.Config> {

  /** The configuration; schema {@code ai-proxy-multi.json}. */
  public record Config(
      Balancer balancer,
      List<Instance> instances,
      AiProxyPlugin.Logging logging,
      JsonNode fallbackStrategy,
      int timeout,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool,
      boolean sslVerify) {}

  /** How requests are spread over the instances of one priority. */
  public record Balancer(String algorithm, String hashOn, String key) {}

  /** One LLM instance. */
  public record Instance(
      String name,
      String provider,
      ObjectNode providerConf,
      int priority,
      int weight,
      AiProxyPlugin.Auth auth,
      ObjectNode options,
      AiProxyPlugin.EndpointOverride override,
      ObjectNode checks) {}

  @Override
  public String name() {
    return "ai-proxy-multi";
  }

  @Override
  public int priority() {
    return 1041;
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
  public Set<String> results() {
    return new AiProxyPlugin().results();
  }

  @Override
  public boolean hasInlineUpstreams() {
    return true;
  }

  /** Each instance's endpoint, keyed {@code <owner>#ai-proxy-multi/<n>}. */
  @Override
  public Map<String, JsonNode> inlineUpstreams(ObjectNode conf, String owner) {
    var out = new LinkedHashMap<String, JsonNode>();
    var instances = conf.path("instances");
    for (int i = 0; i < instances.size(); i++) {
      var up = AiProviders.upstreamOf(instances.get(i), conf);
      if (up != null) {
        out.put(key(owner, i), up);
      }
    }
    return out;
  }

  static String key(String owner, int n) {
    return owner + "#ai-proxy-multi/" + n;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var groups = new TreeMap<Integer, List<Member>>(Comparator.reverseOrder());
    var names = new java.util.HashSet<String>();
    for (int i = 0; i < conf.instances().size(); i++) {
      var in = conf.instances().get(i);
      var field = "instances[" + i + "].";
      if (!names.add(in.name())) {
        throw new IllegalArgumentException(
            field + "name: \"" + in.name() + "\" (expected: a name no other instance has)");
      }
      AiProxyPlugin.checkAuth(in.auth().gcp(), in.auth().aws(), field);
      var endpoint =
          AiProviders.endpoint(
              in.provider(),
              in.override() == null ? null : in.override().endpoint(),
              in.providerConf(),
              field);
      var target =
          new LlmCall.Target(
              in.name(),
              in.provider(),
              key(scope.owner(), i),
              endpoint,
              in.auth().header(),
              in.auth().query(),
              in.options());
      groups
          .computeIfAbsent(in.priority(), p -> new ArrayList<>())
          .add(new Member(target, in.weight()));
    }
    var list = new ArrayList<Group>();
    groups.values().forEach(g -> list.add(Group.of(g)));
    var b = conf.balancer();
    boolean chash = b != null && "chash".equals(b.algorithm());
    Template hashKey = null;
    if (chash) {
      hashKey = hashKey(b);
    }
    var logging =
        conf.logging() == null
            ? LlmCall.Logging.of(false, false)
            : LlmCall.Logging.of(conf.logging().summaries(), conf.logging().payloads());
    return new Multi(List.copyOf(list), hashKey, fallback(conf.fallbackStrategy()), logging);
  }

  /** What {@code balancer.key} names, as a template of variables. */
  private static Template hashKey(Balancer b) {
    var on = b.hashOn() == null ? "vars" : b.hashOn();
    var key = b.key();
    if (!on.equals("consumer") && (key == null || key.isEmpty())) {
      throw new IllegalArgumentException(
          "balancer.key: missing (expected: the key to hash on when hash_on is " + on + ")");
    }
    return switch (on) {
      case "consumer" -> Template.of("$consumer_name");
      case "header" ->
          Template.of("$http_" + key.toLowerCase(java.util.Locale.ROOT).replace('-', '_'));
      case "cookie" -> Template.of("$cookie_" + key);
      case "vars_combinations" -> Template.of(key);
      default -> Template.of("$" + key);
    };
  }

  /** {@code fallback_strategy}: which answers move on, and whether health is looked at. */
  record Fallback(boolean on429, boolean on5xx, boolean health, boolean rateLimiting) {}

  static Fallback fallback(JsonNode strategy) {
    if (strategy == null || strategy.isNull()) {
      return new Fallback(false, false, false, false);
    }
    var names = new java.util.HashSet<String>();
    if (strategy.isTextual()) {
      names.add(strategy.asText());
    } else {
      strategy.forEach(n -> names.add(n.asText()));
    }
    return new Fallback(
        names.contains("http_429"),
        names.contains("http_5xx"),
        names.contains("instance_health_and_rate_limiting"),
        names.contains("rate_limiting") || names.contains("instance_health_and_rate_limiting"));
  }

  private record Member(LlmCall.Target target, int weight) {}

  /** The instances of one priority, and their rotation. */
  private record Group(List<Member> members, int[] slots, AtomicLong turn) {
    static Group of(List<Member> members) {
      var weights = new int[members.size()];
      int total = 0;
      for (int i = 0; i < weights.length; i++) {
        weights[i] = members.get(i).weight();
        total += weights[i];
      }
      if (total == 0) {
        // All at weight 0: taken in turn, as equals.
        java.util.Arrays.fill(weights, 1);
        total = weights.length;
      }
      if (total > 1000) {
        int scaled = 0;
        for (int i = 0; i < weights.length; i++) {
          weights[i] = weights[i] == 0 ? 0 : Math.max(1, (int) ((long) weights[i] * 1000 / total));
          scaled += weights[i];
        }
        total = scaled;
      }
      // Smooth weighted round robin laid out over one cycle.
      var slots = new int[total];
      var current = new int[weights.length];
      for (int s = 0; s < total; s++) {
        int best = -1;
        for (int i = 0; i < weights.length; i++) {
          current[i] += weights[i];
          if (weights[i] > 0 && (best < 0 || current[i] > current[best])) {
            best = i;
          }
        }
        current[best] -= total;
        slots[s] = best;
      }
      return new Group(List.copyOf(members), slots, new AtomicLong());
    }

    /** The member this request starts with: the next in the rotation, or by the hash. */
    int first(String hash) {
      if (hash != null) {
        int h = hash.hashCode() * 0x9E3779B9;
        return slots[Math.floorMod(h, slots.length)];
      }
      return slots[(int) Math.floorMod(turn.getAndIncrement(), (long) slots.length)];
    }
  }

  private static final class Multi implements PluginInstance {
    private final List<Group> groups;
    private final Template hashKey;
    private final Fallback fallback;
    private final LlmCall.Logging logging;

    Multi(List<Group> groups, Template hashKey, Fallback fallback, LlmCall.Logging logging) {
      this.groups = groups;
      this.hashKey = hashKey;
      this.fallback = fallback;
      this.logging = logging;
    }

    /**
     * The order this request tries the instances in: each priority, highest first, starting with
     * the balancer's choice, then the rest of the group by weight.
     */
    private List<LlmCall.Target> order(PluginContext ctx) {
      var hash = hashKey == null ? null : hashKey.render(ctx);
      var out = new ArrayList<LlmCall.Target>();
      for (var g : groups) {
        int first = g.first(hash);
        out.add(g.members().get(first).target());
        var rest = new ArrayList<Member>(g.members());
        rest.remove(first);
        rest.sort(Comparator.comparingInt(Member::weight).reversed());
        rest.forEach(m -> out.add(m.target()));
      }
      if (fallback.health()) {
        var healthy = new ArrayList<LlmCall.Target>();
        for (var t : out) {
          var up = ctx.upstream(t.upstreamKey());
          if (up != null && up.nodes().stream().anyMatch(NodeState::healthy)) {
            healthy.add(t);
          }
        }
        if (!healthy.isEmpty()) {
          return healthy;
        }
      }
      return out;
    }

    @Override
    public Outcome access(PluginContext ctx) {
      return ctx.withRequestBody(
          LlmCall.MAX_BODY,
          LlmCall.BODY_TIMEOUT_MILLIS,
          body -> {
            var parsed = LlmCall.parse(ctx, body, logging);
            if (parsed instanceof Outcome.Respond r) {
              return r;
            }
            var call = (LlmCall) parsed;
            var order = order(ctx);
            ctx.state(this, call);
            var refused = call.sendTo(order.get(0));
            if (refused != null) {
              return refused;
            }
            var next = new int[] {1};
            if (order.size() > 1 && fallback.rateLimiting()) {
              ctx.attribute(
                  LlmCall.NEXT_INSTANCE,
                  () -> {
                    while (next[0] < order.size()) {
                      if (call.sendTo(order.get(next[0]++)) == null) {
                        return true;
                      }
                    }
                    return false;
                  });
            }
            if (order.size() > 1 && (fallback.on429() || fallback.on5xx())) {
              ctx.fallback(
                  status -> {
                    boolean moves =
                        status == 429 ? fallback.on429() : status >= 500 && fallback.on5xx();
                    while (moves && next[0] < order.size()) {
                      if (call.sendTo(order.get(next[0]++)) == null) {
                        return true;
                      }
                    }
                    return false;
                  });
            }
            return Outcome.CONTINUE;
          });
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      LlmCall call = ctx.state(this);
      if (call != null && call.target() != null) {
        ctx.state(this, new AiProxyPlugin.Tapping(call, call.tap(response)));
      }
    }

    @Override
    public BodyStream bodyStream(PluginContext ctx) {
      return ctx.state(this) instanceof AiProxyPlugin.Tapping t ? t.tap() : null;
    }
  }
}
