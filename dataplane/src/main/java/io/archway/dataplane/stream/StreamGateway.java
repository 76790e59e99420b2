package io.archway.dataplane.stream;

import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.stream.redis.RedisLinks;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.upstream.ConnectionPools;

/**
 * What every stream connection shares: the compiled config, the transport, limits, counters, the
 * shared Redis upstream connections, and the upstream TLS contexts ({@code scheme: tls}; {@code
 * null} where none are wired, and then such a route's connections are refused).
 */
public record StreamGateway(
    ConfigCompiler config,
    Transport transport,
    StreamSettings settings,
    StreamMetrics metrics,
    RedisLinks redisLinks,
    ConnectionPools pools) {

  public StreamGateway(
      ConfigCompiler config, Transport transport, StreamSettings settings, StreamMetrics metrics) {
    this(config, transport, settings, metrics, null);
  }

  public StreamGateway(
      ConfigCompiler config,
      Transport transport,
      StreamSettings settings,
      StreamMetrics metrics,
      ConnectionPools pools) {
    this(config, transport, settings, metrics, new RedisLinks(transport, metrics), pools);
  }
}
