package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.RedisLink;

/**
 * The {@code redis_*} fields the rate limiters share with APISIX ({@code policy: redis}), and the
 * one way they become a link: the scope's shared link to that server.
 */
interface RedisPolicy {
  String redisHost();

  int redisPort();

  String redisUsername();

  String redisPassword();

  int redisDatabase();

  int redisTimeout();

  /** The link to the configured server, shared with every plugin that names the same one. */
  default RedisLink redisLink(PluginScope scope) {
    if (redisHost() == null) {
      throw new IllegalArgumentException("redis_host: missing (expected: with policy redis)");
    }
    return scope
        .services()
        .redis(
            new RedisLink.Settings(
                redisHost(),
                redisPort(),
                redisUsername(),
                redisPassword(),
                redisDatabase(),
                redisTimeout()));
  }
}
