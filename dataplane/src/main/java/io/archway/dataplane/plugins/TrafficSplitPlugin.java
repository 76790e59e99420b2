package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.route.VarsMatcher;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Vars;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * traffic-split: the first rule whose {@code match} holds (any of its {@code vars} expressions; no
 * match: every request) spreads requests over its {@code weighted_upstreams} by weight, in a smooth
 * rotation: an entry with {@code upstream_id} sends to that upstream, one with an inline {@code
 * upstream} to it, one with neither to the route's own upstream.
 *
 * <p>Archway's extension (APISIX has none): an entry's {@code plugins} change the requests it takes
 * ({@code proxy-rewrite}: {@code uri}, {@code regex_uri}, {@code host}, {@code method}, {@code
 * headers}, applied once the entry is chosen, after the route's own rewrites) and the headers of
 * their responses ({@code response-rewrite: {headers}}, in the header filter). It is what a Gateway
 * API rule with several backendRefs needs for backendRef filters.
 */
@PluginTraits(category = Plugin.Category.TRAFFIC, dryRun = Plugin.DryRun.RUNS)
public final class TrafficSplitPlugin implements Plugin<TrafficSplitPlugin.Config> {

  private static final Logger log = LoggerFactory.getLogger(TrafficSplitPlugin.class);

  /** The configuration; schema {@code traffic-split.json}. */
  public record Config(List<Rule> rules) {}

  /** Where matching requests go. */
  public record Rule(List<Match> match, List<Weighted> weightedUpstreams) {}

  /** The rule applies when these expressions all hold. */
  public record Match(ArrayNode vars) {}

  /**
   * An upstream by id, inline, or (neither) the route's own, with its share and (Archway's
   * extension) the header changes of the requests it takes.
   */
  public record Weighted(
      JsonNode upstreamId, ObjectNode upstream, int weight, ObjectNode plugins) {}

  @Override
  public String name() {
    return "traffic-split";
  }

  @Override
  public int priority() {
    return 966;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.HEADER_FILTER);
  }

  @Override
  public boolean hasInlineUpstreams() {
    return true;
  }

  /** Each inline weighted upstream, keyed {@code <owner>#traffic-split/<rule>/<n>}. */
  @Override
  public Map<String, JsonNode> inlineUpstreams(ObjectNode conf, String owner) {
    var out = new LinkedHashMap<String, JsonNode>();
    var rules = conf.path("rules");
    for (int i = 0; i < rules.size(); i++) {
      var weighted = rules.get(i).path("weighted_upstreams");
      for (int j = 0; j < weighted.size(); j++) {
        var up = weighted.get(j).get("upstream");
        if (up != null && up.isObject()) {
          out.put(splitKey(owner, i, j), up);
        }
      }
    }
    return out;
  }

  /** The key of inline upstream {@code n} of rule {@code rule}. */
  static String splitKey(String owner, int rule, int n) {
    return owner + "#traffic-split/" + rule + "/" + n;
  }

  /**
   * {@code key == null}: the route's own upstream; {@code request}: the entry's proxy-rewrite, or
   * {@code null}; {@code response}: the entry's response header changes, or {@code null}.
   */
  private record Target(String key, int weight, PluginInstance request, HeaderOps response) {}

  /**
   * {@code sticky}: the entries, each with the key of the upstream it sends to (the route's own
   * included), when one of them may have {@code session_persistence}; else {@code null}.
   */
  private record Compiled(
      List<VarsMatcher> match, Target[] slots, AtomicLong turn, Sticky[] sticky) {}

  private record Sticky(Target target, String upstreamKey) {}

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var rules = new ArrayList<Compiled>();
    var list = conf.rules() == null ? List.<Rule>of() : conf.rules();
    for (int i = 0; i < list.size(); i++) {
      var r = list.get(i);
      var match = new ArrayList<VarsMatcher>();
      var m = r.match() == null ? List.<Match>of() : r.match();
      for (int j = 0; j < m.size(); j++) {
        if (m.get(j).vars() instanceof ArrayNode vars) {
          try {
            match.add(VarsMatcher.compile(Vars.parse(vars)));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                "rules[" + i + "].match[" + j + "].vars: " + e.getMessage());
          }
        }
      }
      var targets = new ArrayList<Target>();
      var sticky = new ArrayList<Sticky>();
      boolean maySessions = false;
      var weighted = r.weightedUpstreams() == null ? List.<Weighted>of() : r.weightedUpstreams();
      for (int j = 0; j < weighted.size(); j++) {
        var w = weighted.get(j);
        int weight = w.weight();
        String key = null;
        if (w.upstreamId() != null && !w.upstreamId().isNull()) {
          key = Keys.item(Kind.UPSTREAMS, w.upstreamId().asText());
        } else if (w.upstream() != null) {
          key = splitKey(scope.owner(), i, j);
        }
        var at = "rules[" + i + "].weighted_upstreams[" + j + "].plugins";
        if (weight > 0) {
          var t =
              new Target(
                  key,
                  weight,
                  rewrite(w.plugins(), scope, at),
                  headers(w.plugins(), "response-rewrite", at));
          targets.add(t);
          sticky.add(new Sticky(t, key != null ? key : scope.owner()));
          maySessions |=
              key != null && (w.upstream() == null || w.upstream().has("session_persistence"));
        }
      }
      rules.add(
          new Compiled(
              List.copyOf(match),
              slots(targets),
              new AtomicLong(),
              maySessions ? sticky.toArray(Sticky[]::new) : null));
    }
    return new Split(List.copyOf(rules));
  }

  /** An entry's proxy-rewrite, compiled as a route's, or {@code null} when it has none. */
  private static PluginInstance rewrite(ObjectNode plugins, PluginScope scope, String at) {
    if (plugins == null || !(plugins.get("proxy-rewrite") instanceof ObjectNode conf)) {
      return null;
    }
    return NestedPlugins.compile("proxy-rewrite", conf, scope, at + ".proxy-rewrite");
  }

  /** An entry's header changes for {@code plugin}, or {@code null} when it has none. */
  private static HeaderOps headers(ObjectNode plugins, String plugin, String at) {
    if (plugins == null) {
      return null;
    }
    for (var name : plugins.properties()) {
      if (!name.getKey().equals("proxy-rewrite") && !name.getKey().equals("response-rewrite")) {
        throw new IllegalArgumentException(
            at
                + "."
                + name.getKey()
                + ": not a plugin of a weighted upstream (expected: proxy-rewrite, or"
                + " response-rewrite with headers only)");
      }
    }
    var conf = plugins.get(plugin);
    if (conf == null) {
      return null;
    }
    var ops = HeaderOps.parse(conf.get("headers"), at + "." + plugin + ".headers");
    return ops.isEmpty() ? null : ops;
  }

  /** Weights laid out smoothly over one cycle (weighted round robin, interleaved). */
  private static Target[] slots(List<Target> targets) {
    int total = targets.stream().mapToInt(Target::weight).sum();
    if (total > 1000) {
      // Keep the cycle small: scale weights down, keeping every entry at least once.
      var scaled = new ArrayList<Target>();
      for (var t : targets) {
        scaled.add(
            new Target(
                t.key, Math.max(1, (int) ((long) t.weight * 1000 / total)), t.request, t.response));
      }
      targets = scaled;
      total = targets.stream().mapToInt(Target::weight).sum();
    }
    var out = new Target[total];
    var current = new int[targets.size()];
    for (int n = 0; n < total; n++) {
      int best = 0;
      for (int i = 0; i < targets.size(); i++) {
        current[i] += targets.get(i).weight;
        if (current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= total;
      out[n] = targets.get(best);
    }
    return out;
  }

  private record Split(List<Compiled> rules) implements PluginInstance {
    @Override
    public Outcome access(PluginContext ctx) {
      for (var r : rules) {
        if (!r.match.isEmpty() && r.match.stream().noneMatch(m -> m.matches(ctx))) {
          continue;
        }
        if (r.slots.length == 0) {
          return Outcome.CONTINUE;
        }
        var t = r.sticky == null ? null : sessionTarget(r.sticky, ctx);
        if (t == null) {
          t = r.slots[(int) (r.turn.getAndIncrement() % r.slots.length)];
        }
        if (t.key != null) {
          var up = ctx.upstream(t.key);
          if (up == null) {
            log.warn(
                "route {}: traffic-split: {} does not exist; using the route's",
                ctx.routeId(),
                t.key);
          } else {
            ctx.upstreamOverride(up);
          }
        }
        if (t.request != null) {
          t.request.rewrite(ctx);
        }
        if (t.response != null) {
          ctx.state(this, t.response);
        }
        return Outcome.CONTINUE;
      }
      return Outcome.CONTINUE;
    }

    /**
     * The entry whose upstream holds the request's session ({@code session_persistence}), so that a
     * session sticks to its node across the split; {@code null} when none does.
     */
    private static Target sessionTarget(Sticky[] sticky, PluginContext ctx) {
      for (var s : sticky) {
        var up = ctx.upstream(s.upstreamKey());
        if (up != null && up.holdsSession(ctx.vars())) {
          return s.target();
        }
      }
      return null;
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      HeaderOps changes = ctx.state(this);
      if (changes != null) {
        changes.apply(response.headers(), ctx);
      }
    }
  }
}
