package io.archway.dataplane.config;

import io.archway.dataplane.plugin.StreamChain;
import io.archway.dataplane.route.Cidr;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.archway.model.StreamRoute;
import java.net.InetAddress;

/**
 * A stream route compiled for connections: its match (listener port, client range, server address),
 * its upstream (inline, or by key among the config's upstreams), its Redis protocol, if any, and
 * its stream plugins.
 */
public record CompiledStream(
    String id,
    StreamRoute route,
    UpstreamRuntime upstream,
    String upstreamKey,
    Integer serverPort,
    Cidr remote,
    Cidr server,
    RedisProtocol redis,
    StreamChain plugins,
    StreamMetrics.RouteStats stats) {

  public boolean matches(int port, InetAddress client, InetAddress local) {
    return (serverPort == null || serverPort == port)
        && (remote == null || remote.contains(client))
        && (server == null || server.contains(local));
  }

  /** How many conditions the route has; more specific routes are tried first. */
  int specificity() {
    return (serverPort == null ? 0 : 1) + (remote == null ? 0 : 1) + (server == null ? 0 : 1);
  }
}
