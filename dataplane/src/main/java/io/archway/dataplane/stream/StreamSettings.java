package io.archway.dataplane.stream;

import java.time.Duration;
import java.util.List;

/**
 * The TCP (stream) listeners and their limits.
 *
 * @param ports listener ports; stream routes match them by {@code server_port} (none: no stream
 *     listener)
 * @param idleTimeout a stream with no bytes either way for this long is closed
 * @param maxBulkBytes the largest Redis bulk string accepted from a client; a longer length is
 *     refused before anything is allocated for it
 */
public record StreamSettings(List<Integer> ports, Duration idleTimeout, long maxBulkBytes) {

  public static final StreamSettings DEFAULTS =
      new StreamSettings(List.of(), Duration.ofMinutes(10), 512L * 1024 * 1024);

  public StreamSettings {
    ports = List.copyOf(ports);
  }

  public StreamSettings withPorts(List<Integer> ports) {
    return new StreamSettings(ports, idleTimeout, maxBulkBytes);
  }

  public StreamSettings withIdleTimeout(Duration idleTimeout) {
    return new StreamSettings(ports, idleTimeout, maxBulkBytes);
  }

  public StreamSettings withMaxBulkBytes(long maxBulkBytes) {
    return new StreamSettings(ports, idleTimeout, maxBulkBytes);
  }
}
