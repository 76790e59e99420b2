package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;

/**
 * kafka-proxy: settings only (SASL/PLAIN credentials) for routes whose upstream is Kafka; it has no
 * request phase of its own.
 */
public final class KafkaProxyPlugin implements Plugin {

  @Override
  public String name() {
    return "kafka-proxy";
  }

  @Override
  public int priority() {
    return 508;
  }

  @Override
  public PluginInstance compile(ObjectNode conf, PluginScope scope) {
    return new PluginInstance() {};
  }
}
