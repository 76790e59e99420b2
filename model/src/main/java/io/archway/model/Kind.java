package io.archway.model;

import java.util.Optional;
import java.util.function.BiFunction;

/** The kinds of config object, each with its directory under the prefix, as APISIX 3.x has them. */
public enum Kind {
  ROUTES("routes", Route.class, Route::read),
  UPSTREAMS("upstreams", Upstream.class, Upstream::read),
  SERVICES("services", Service.class, Service::read),
  CONSUMERS("consumers", Consumer.class, Consumer::read),
  PLUGIN_CONFIGS("plugin_configs", PluginConfig.class, PluginConfig::read),
  GLOBAL_RULES("global_rules", GlobalRule.class, GlobalRule::read),
  SSLS("ssls", Ssl.class, Ssl::read),
  STREAM_ROUTES("stream_routes", StreamRoute.class, StreamRoute::read),
  PLUGIN_METADATA("plugin_metadata", PluginMetadata.class, PluginMetadata::read),
  /** Archway's own directory: plugin DAGs (PluginFlow). */
  PLUGIN_FLOWS("plugin_flows", PluginFlow.class, PluginFlow::read),
  /**
   * A consumer's credentials (APISIX 3.x): stored under the consumer, {@code
   * consumers/<username>/credentials/<id>}; the id is {@code <username>/credentials/<id>}. The
   * directory name {@code credentials} is the standalone file's section and how metrics name them.
   */
  CREDENTIALS("credentials", Credential.class, Credential::read),
  /** Plugins shared by the consumers naming the group in {@code group_id}. */
  CONSUMER_GROUPS("consumer_groups", ConsumerGroup.class, ConsumerGroup::read),
  /** Protobuf definitions for grpc-transcode ({@code proto_id}). */
  PROTOS("protos", Proto.class, Proto::read),
  /**
   * Secret managers ({@code $secret://} references): ids {@code <manager>/<id>}, keys {@code
   * secrets/vault/1}.
   */
  SECRETS("secrets", Secret.class, Secret::read),
  /**
   * Archway's own directory: ports the dataplane opens from configuration (Gateway API listeners;
   * APISIX has none).
   */
  LISTENERS("listeners", Listener.class, Listener::read);

  private final String dir;
  private final Class<? extends ConfigObject> type;
  private final BiFunction<Fields, String, ? extends ConfigObject> reader;

  Kind(
      String dir,
      Class<? extends ConfigObject> type,
      BiFunction<Fields, String, ? extends ConfigObject> reader) {
    this.dir = dir;
    this.type = type;
    this.reader = reader;
  }

  /** The directory name in etcd and the top-level key in the standalone file. */
  public String dir() {
    return dir;
  }

  /**
   * The directory its keys are under: {@link #dir()}, except for credentials, which are under their
   * consumer's key ({@code consumers/jack/credentials/c1}, the id being {@code
   * jack/credentials/c1}).
   */
  public String keyDir() {
    return this == CREDENTIALS ? CONSUMERS.dir : dir;
  }

  public Class<? extends ConfigObject> type() {
    return type;
  }

  /** The field that holds the object's id ({@code username} for consumers). */
  public String idField() {
    return this == CONSUMERS ? "username" : "id";
  }

  BiFunction<Fields, String, ? extends ConfigObject> reader() {
    return reader;
  }

  public static Optional<Kind> ofDir(String dir) {
    for (var k : values()) {
      if (k.dir.equals(dir)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
