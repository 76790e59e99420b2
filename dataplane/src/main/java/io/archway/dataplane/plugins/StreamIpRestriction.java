package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.StreamPlugin;
import io.archway.dataplane.plugin.StreamPluginInstance;
import io.archway.dataplane.plugin.StreamSession;
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
    return new Restriction(IpRestrictionPlugin.Listed.of(conf.whitelist(), conf.blacklist()));
  }

  private record Restriction(IpRestrictionPlugin.Listed listed) implements StreamPluginInstance {

    @Override
    public Preread preread(StreamSession session) {
      return listed.admits(session.remoteAddress()) ? Preread.CONTINUE : Preread.CLOSE;
    }
  }
}
