package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.StreamPlugin;
import io.archway.dataplane.plugin.StreamPluginInstance;
import io.archway.dataplane.plugin.StreamSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * mqtt-proxy (stream routes only): reads the client's CONNECT before the upstream is connected
 * ({@link MqttConnect}), closes the connection when it is malformed or its protocol name or level
 * is not the configured one, and sets {@code mqtt_client_id} so that an upstream of {@code type:
 * chash}, {@code key: mqtt_client_id} sends one client id always to the same broker (an empty id
 * falls back to the client's address, as APISIX does). The CONNECT itself goes to the broker
 * untouched.
 */
public final class StreamMqttProxy implements StreamPlugin<StreamMqttProxy.Config> {

  private static final Logger log = LoggerFactory.getLogger(StreamMqttProxy.class);

  /** The configuration; schema {@code stream/mqtt-proxy.json}. */
  public record Config(String protocolName, int protocolLevel) {}

  @Override
  public String name() {
    return "mqtt-proxy";
  }

  @Override
  public int priority() {
    return 1000;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public StreamPluginInstance compile(Config conf, PluginScope scope) {
    return new Proxy(conf.protocolName(), conf.protocolLevel());
  }

  private record Proxy(String name, int level) implements StreamPluginInstance {

    @Override
    public Preread preread(StreamSession s) {
      var connect = MqttConnect.parse(s.preread());
      if (connect.more()) {
        return Preread.MORE;
      }
      if (connect.malformed()) {
        log.debug("mqtt-proxy: route {}: malformed CONNECT from {}", s.routeId(), s.remoteAddr());
        return Preread.CLOSE;
      }
      if (!connect.protocolName().equals(name) || connect.protocolLevel() != level) {
        log.debug(
            "mqtt-proxy: route {}: {} level {} (expected: {} level {})",
            s.routeId(),
            connect.protocolName(),
            connect.protocolLevel(),
            name,
            level);
        return Preread.CLOSE;
      }
      if (!connect.clientId().isEmpty()) {
        s.set("mqtt_client_id", connect.clientId());
      }
      return Preread.CONTINUE;
    }
  }
}
