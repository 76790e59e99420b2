package io.archway.dataplane.plugins;

import com.google.re2j.Pattern;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.UserRegex;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * ua-restriction: lets in only the User-Agents that match one of {@code allowlist}, or keeps out
 * those that match one of {@code denylist} (regular expressions, searched anywhere in the value,
 * trimmed); others get 403 with {@code message}. A request with no User-Agent is refused unless
 * {@code bypass_missing}. With several User-Agent fields, one allowed is enough for the allowlist,
 * one denied is enough for the denylist (APISIX 3.x).
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.RUNS)
public final class UaRestrictionPlugin implements Plugin<UaRestrictionPlugin.Config> {

  /** The configuration; schema {@code ua-restriction.json}. */
  public record Config(
      boolean bypassMissing, List<String> allowlist, List<String> denylist, String message) {}

  @Override
  public String name() {
    return "ua-restriction";
  }

  @Override
  public int priority() {
    return 2999;
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
    boolean allow = conf.allowlist() != null;
    var rules =
        compileAll(allow ? conf.allowlist() : conf.denylist(), allow ? "allowlist" : "denylist");
    return new Restriction(
        allow, rules, conf.bypassMissing(), Outcome.message(403, conf.message()));
  }

  static List<Pattern> compileAll(List<String> rules, String field) {
    return UserRegex.compileAll(field, rules, 0);
  }

  /** Whether {@code value} (trimmed) matches one of {@code rules}. */
  static boolean matches(List<Pattern> rules, String value) {
    var v = value.strip();
    for (var p : rules) {
      if (p.matcher(v).find()) {
        return true;
      }
    }
    return false;
  }

  private record Restriction(
      boolean allow, List<Pattern> rules, boolean bypassMissing, Outcome.Respond refuse)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      var agents = ctx.request().headers().getAll(HttpHeaderNames.USER_AGENT);
      if (agents.isEmpty()) {
        return bypassMissing ? Outcome.CONTINUE : refuse;
      }
      boolean passed = !allow;
      for (var a : agents) {
        if (matches(rules, a)) {
          passed = allow;
          break;
        }
      }
      return passed ? Outcome.CONTINUE : refuse;
    }
  }
}
