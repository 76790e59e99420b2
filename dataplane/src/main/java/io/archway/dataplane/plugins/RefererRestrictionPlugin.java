package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * referer-restriction: lets in only the requests whose Referer's host is in {@code whitelist}, or
 * keeps out those whose host is in {@code blacklist} ({@code *.example.com} is any host ending in
 * {@code .example.com}); others get 403 with {@code message}. A request with no Referer, or one
 * whose host cannot be read, is refused unless {@code bypass_missing}.
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.RUNS)
public final class RefererRestrictionPlugin implements Plugin<RefererRestrictionPlugin.Config> {

  // scheme://host[:port][/path][?query], as APISIX reads a Referer; the host stops at ':', '/',
  // '?'.
  private static final Pattern URI =
      Pattern.compile("^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//([^:/?#]+)(?::\\d*)?(?:[/?#].*)?$");

  /** The configuration; schema {@code referer-restriction.json}. */
  public record Config(
      boolean bypassMissing, List<String> whitelist, List<String> blacklist, String message) {}

  @Override
  public String name() {
    return "referer-restriction";
  }

  @Override
  public int priority() {
    return 2990;
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
    boolean allow = conf.whitelist() != null;
    var hosts = Hosts.of(allow ? conf.whitelist() : conf.blacklist());
    return new Restriction(
        allow, hosts, conf.bypassMissing(), Outcome.message(403, conf.message()));
  }

  /** The host of a Referer value, lower-cased; {@code null} when it has none. */
  static String host(String referer) {
    if (referer == null) {
      return null;
    }
    var m = URI.matcher(referer.strip());
    return m.matches() ? m.group(1).toLowerCase(Locale.ROOT) : null;
  }

  /** Exact hosts, and suffixes from the {@code *.} patterns. */
  record Hosts(Set<String> exact, List<String> suffixes) {
    static Hosts of(List<String> patterns) {
      var exact = new HashSet<String>();
      var suffixes = new ArrayList<String>();
      for (var p : patterns) {
        var h = p.toLowerCase(Locale.ROOT);
        if (h.startsWith("*")) {
          suffixes.add(h.substring(1));
        } else {
          exact.add(h);
        }
      }
      return new Hosts(Set.copyOf(exact), List.copyOf(suffixes));
    }

    boolean contains(String host) {
      if (exact.contains(host)) {
        return true;
      }
      for (var s : suffixes) {
        if (host.endsWith(s)) {
          return true;
        }
      }
      return false;
    }
  }

  private record Restriction(
      boolean allow, Hosts hosts, boolean bypassMissing, Outcome.Respond refuse)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      var host = host(ctx.request().headers().get(HttpHeaderNames.REFERER));
      boolean block;
      if (host == null) {
        block = !bypassMissing;
      } else {
        block = hosts.contains(host) != allow;
      }
      return block ? refuse : Outcome.CONTINUE;
    }
  }
}
