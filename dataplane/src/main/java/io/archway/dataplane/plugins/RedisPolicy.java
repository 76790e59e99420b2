package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.RedisLink;
import java.util.List;

/**
 * The {@code redis_*} fields the rate limiters share with APISIX ({@code policy: redis} and {@code
 * policy: redis-cluster}), and the one way they become a link: the scope's shared link to that
 * server or cluster.
 */
interface RedisPolicy {
  String policy();

  String redisHost();

  int redisPort();

  String redisUsername();

  String redisPassword();

  int redisDatabase();

  int redisTimeout();

  List<String> redisClusterNodes();

  String redisClusterName();

  boolean redisClusterSsl();

  boolean redisClusterSslVerify();

  /** Whether counts live in Redis (one server or a cluster) rather than in this dataplane. */
  default boolean inRedis() {
    return policy().equals("redis") || policy().equals("redis-cluster");
  }

  /**
   * The link to the configured server or cluster, shared with every plugin that names the same one.
   */
  default RedisLink redisLink(PluginScope scope) {
    if (policy().equals("redis-cluster")) {
      if (redisClusterNodes() == null || redisClusterNodes().isEmpty()) {
        throw new IllegalArgumentException(
            "redis_cluster_nodes: missing (expected: with policy redis-cluster, host:port of at"
                + " least one node)");
      }
      if (redisClusterName() == null) {
        throw new IllegalArgumentException(
            "redis_cluster_name: missing (expected: with policy redis-cluster)");
      }
      return scope
          .services()
          .redis(
              new RedisLink.ClusterSettings(
                  redisClusterNodes(),
                  redisClusterName(),
                  redisPassword(),
                  redisTimeout(),
                  redisClusterSsl(),
                  redisClusterSslVerify()));
    }
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
