package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import java.util.EnumSet;
import java.util.Set;

/**
 * kafka-proxy: the SASL/PLAIN credentials a pub-sub route uses at its Kafka brokers. It has no
 * request phase; the pub-sub session reads {@link Sasl} from the route's chain when it opens.
 */
public final class KafkaProxyPlugin implements Plugin<KafkaProxyPlugin.Config> {

  public static final String NAME = "kafka-proxy";

  /** {@code sasl{username, password}}, both {@code null} when the plugin names none. */
  public record Sasl(String username, String password) implements PluginInstance {
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
    return EnumSet.noneOf(Phase.class);
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
