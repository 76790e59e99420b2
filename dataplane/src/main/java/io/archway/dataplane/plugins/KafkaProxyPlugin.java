package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.exchange.UpstreamCredentials;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;

/**
 * kafka-proxy: the SASL/PLAIN credentials a pub-sub route uses at its Kafka brokers. Its access
 * phase hands them to the pub-sub route handler as a typed attribute of the exchange ({@link
 * UpstreamCredentials}), which loggers cannot read.
 */
public final class KafkaProxyPlugin implements Plugin {

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

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int priority() {
    return 508;
  }

  @Override
  public PluginInstance compile(ObjectNode conf, PluginScope scope) {
    var sasl = conf.path("sasl");
    if (!sasl.isObject()) {
      return new Sasl(null, null);
    }
    return new Sasl(sasl.path("username").asText(), sasl.path("password").asText());
  }
}
