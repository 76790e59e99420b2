package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.route.Cidr;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * ip-restriction: lets in only the client addresses in {@code whitelist}, or keeps out those in
 * {@code blacklist} (addresses or CIDR ranges, IPv4 and IPv6); others get {@code response_code}
 * (403) with {@code message}.
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.RUNS)
public final class IpRestrictionPlugin implements Plugin<IpRestrictionPlugin.Config> {

  /** The configuration; schema {@code ip-restriction.json}. */
  public record Config(
      List<String> whitelist, List<String> blacklist, String message, int responseCode) {}

  @Override
  public String name() {
    return "ip-restriction";
  }

  @Override
  public int priority() {
    return 3000;
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
    var refuse = Outcome.message(conf.responseCode(), conf.message());
    return new Restriction(Listed.of(conf.whitelist(), conf.blacklist()), refuse);
  }

  /**
   * The addresses of a whitelist ({@code allow}) or a blacklist, and whether a client passes: the
   * rule of the HTTP and the stream plugin alike. An unknown address is in no list.
   */
  record Listed(boolean allow, List<Cidr> ranges) {

    static Listed of(List<String> whitelist, List<String> blacklist) {
      boolean allow = whitelist != null;
      var ranges = new ArrayList<Cidr>();
      for (var c : allow ? whitelist : blacklist) {
        ranges.add(Cidr.parse(c));
      }
      return new Listed(allow, List.copyOf(ranges));
    }

    boolean admits(java.net.InetAddress addr) {
      boolean listed = false;
      if (addr != null) {
        for (var c : ranges) {
          if (c.contains(addr)) {
            listed = true;
            break;
          }
        }
      }
      return listed == allow;
    }
  }

  private record Restriction(Listed listed, Outcome.Respond refuse) implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      return listed.admits(ctx.remoteAddress()) ? Outcome.CONTINUE : refuse;
    }
  }
}
