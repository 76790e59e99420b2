package io.archway.dataplane.stream;

import java.time.Duration;
import java.util.List;

/**
 * The stream listeners (TCP and UDP) and their limits.
 *
 * @param ports TCP listener ports; stream routes match them by {@code server_port} (none: no TCP
 *     stream listener)
 * @param idleTimeout a stream with no bytes either way for this long is closed
 * @param maxBulkBytes the largest Redis bulk string accepted from a client; a longer length is
 *     refused before anything is allocated for it
 * @param udpPorts UDP listener ports (APISIX's {@code stream_proxy.udp}); stream routes match them
 *     by {@code server_port} too
 * @param udpIdleTimeout a UDP session (one client address) with no datagram either way for this
 *     long is ended and its upstream channel closed
 */
public record StreamSettings(
    List<Integer> ports,
    Duration idleTimeout,
    long maxBulkBytes,
    List<Integer> udpPorts,
    Duration udpIdleTimeout) {

  public static final StreamSettings DEFAULTS =
      new StreamSettings(
          List.of(), Duration.ofMinutes(10), 512L * 1024 * 1024, List.of(), Duration.ofSeconds(60));

  public StreamSettings {
    ports = List.copyOf(ports);
    udpPorts = List.copyOf(udpPorts);
  }

  public StreamSettings(List<Integer> ports, Duration idleTimeout, long maxBulkBytes) {
    this(ports, idleTimeout, maxBulkBytes, DEFAULTS.udpPorts, DEFAULTS.udpIdleTimeout);
  }

  public StreamSettings withPorts(List<Integer> ports) {
    return new StreamSettings(ports, idleTimeout, maxBulkBytes, udpPorts, udpIdleTimeout);
  }

  public StreamSettings withIdleTimeout(Duration idleTimeout) {
    return new StreamSettings(ports, idleTimeout, maxBulkBytes, udpPorts, udpIdleTimeout);
  }

  public StreamSettings withMaxBulkBytes(long maxBulkBytes) {
    return new StreamSettings(ports, idleTimeout, maxBulkBytes, udpPorts, udpIdleTimeout);
  }

  public StreamSettings withUdpPorts(List<Integer> udpPorts) {
    return new StreamSettings(ports, idleTimeout, maxBulkBytes, udpPorts, udpIdleTimeout);
  }

  public StreamSettings withUdpIdleTimeout(Duration udpIdleTimeout) {
    return new StreamSettings(ports, idleTimeout, maxBulkBytes, udpPorts, udpIdleTimeout);
  }
}
