package io.archway.dataplane.stream;

import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.stream.redis.RedisLinks;
import io.archway.dataplane.support.Transport;

/**
 * What every stream connection shares: the compiled config, the transport, limits, counters, and
 * the shared Redis upstream connections.
 */
public record StreamGateway(
    ConfigCompiler config,
    Transport transport,
    StreamSettings settings,
    StreamMetrics metrics,
    RedisLinks redisLinks) {

  public StreamGateway(
      ConfigCompiler config, Transport transport, StreamSettings settings, StreamMetrics metrics) {
    this(config, transport, settings, metrics, new RedisLinks(transport, metrics));
  }
}
