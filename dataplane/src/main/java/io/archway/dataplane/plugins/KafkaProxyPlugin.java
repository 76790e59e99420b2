package io.archway.dataplane.plugins;

import io.archway.dataplane.exchange.UpstreamCredentials;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.Set;

/**
 * kafka-proxy: the SASL/PLAIN credentials a pub-sub route uses at its Kafka brokers. Its access
 * phase hands them to the pub-sub route handler as a typed attribute of the exchange ({@link
 * UpstreamCredentials}), which loggers cannot read.
 */
@PluginTraits(category = Plugin.Category.OTHER, dryRun = Plugin.DryRun.RUNS)
public final class KafkaProxyPlugin implements Plugin<KafkaProxyPlugin.Config> {

  public static final String NAME = "kafka-proxy";

  /** {@code sasl{username, password}}, both {@code null} when the plugin names none. */
  public record Sasl(String username, String password) implements PluginInstance {
    @Override
    public Outcome access(PluginContext ctx) {
      if (username != null) {
        ctx.attribute(UpstreamCredentials.KEY, new UpstreamCredentials(username, password));
      }
      return Outcome.CONTINUE;
    }

    @Override
    public String toString() {
      return "Sasl[username=" + username + "]";
    }
  }

  /** The configuration; schema {@code kafka-proxy.json}. */
  public record Config(Credentials sasl) {}

  /** SASL/PLAIN credentials as written. */
  public record Credentials(String username, String password) {
    @Override
    public String toString() {
      return "Credentials[username=" + username + "]";
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int priority() {
    return 508;
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
    var sasl = conf.sasl();
    if (sasl == null) {
      return new Sasl(null, null);
    }
    return new Sasl(sasl.username(), sasl.password());
  }
}
