package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.StreamPlugin;
import io.archway.dataplane.plugin.StreamPluginInstance;
import io.archway.dataplane.plugin.StreamSession;
import io.archway.dataplane.route.Cidr;
import java.util.ArrayList;
import java.util.List;

/**
 * ip-restriction on stream routes: a client outside {@code whitelist}, or inside {@code blacklist},
 * has its connection closed before any upstream is connected (there is no status to send on a byte
 * stream; APISIX ends the session the same way).
 */
public final class StreamIpRestriction implements StreamPlugin<StreamIpRestriction.Config> {

  /** The configuration; schema {@code stream/ip-restriction.json}. */
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
  public StreamPluginInstance compile(Config conf, PluginScope scope) {
    boolean allow = conf.whitelist() != null;
    var ranges = new ArrayList<Cidr>();
    for (var c : allow ? conf.whitelist() : conf.blacklist()) {
      ranges.add(Cidr.parse(c));
    }
    return new Restriction(allow, List.copyOf(ranges));
  }

  private record Restriction(boolean allow, List<Cidr> ranges) implements StreamPluginInstance {

    @Override
    public Preread preread(StreamSession session) {
      var addr = session.remoteAddress();
      boolean listed = false;
      if (addr != null) {
        for (var c : ranges) {
          if (c.contains(addr)) {
            listed = true;
            break;
          }
        }
      }
      return listed == allow ? Preread.CONTINUE : Preread.CLOSE;
    }
  }
}
