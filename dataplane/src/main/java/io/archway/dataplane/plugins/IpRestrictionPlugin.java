package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.route.Cidr;
import java.util.ArrayList;
import java.util.List;

/**
 * ip-restriction: lets in only the client addresses in {@code whitelist}, or keeps out those in
 * {@code blacklist} (addresses or CIDR ranges, IPv4 and IPv6); others get {@code response_code}
 * (403) with {@code message}.
 */
public final class IpRestrictionPlugin implements Plugin {

  @Override
  public String name() {
    return "ip-restriction";
  }

  @Override
  public int priority() {
    return 3000;
  }

  @Override
  public PluginInstance compile(ObjectNode conf, PluginScope scope) {
    boolean allow = conf.has("whitelist");
    var ranges = new ArrayList<Cidr>();
    for (var c : Conf.strings(conf, allow ? "whitelist" : "blacklist")) {
      ranges.add(Cidr.parse(c));
    }
    var refuse =
        Outcome.message(
            Conf.integer(conf, "response_code", 403),
            Conf.text(conf, "message", "Your IP address is not allowed"));
    return new Restriction(allow, List.copyOf(ranges), refuse);
  }

  private record Restriction(boolean allow, List<Cidr> ranges, Outcome.Respond refuse)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      var addr = ctx.remoteAddress();
      boolean listed = false;
      if (addr != null) {
        for (var c : ranges) {
          if (c.contains(addr)) {
            listed = true;
            break;
          }
        }
      }
      return listed == allow ? Outcome.CONTINUE : refuse;
    }
  }
}
