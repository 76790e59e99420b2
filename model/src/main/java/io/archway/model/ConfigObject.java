package io.archway.model;

import java.util.Map;

/** An object stored under one key of the config: a route, an upstream, a consumer, … */
public sealed interface ConfigObject
    permits Route,
        Upstream,
        Service,
        Consumer,
        PluginConfig,
        GlobalRule,
        Ssl,
        StreamRoute,
        PluginFlow,
        PluginMetadata,
        Credential,
        ConsumerGroup,
        Proto,
        Secret,
        Listener {

  /** The id in the object's key ({@code username} for consumers, plugin name for metadata). */
  String id();

  /** {@code labels}, {@code null} when the object has none. */
  Map<String, String> labels();
}
