package io.archway.dataplane.server;

/**
 * Where the dataplane stops taking more work, so that past it new work is refused at once instead
 * of slowing down everyone already served (as Envoy's overload manager and nginx's {@code
 * worker_connections} do).
 *
 * @param maxConnections {@code max_connections}: most client connections open at once on each
 *     traffic listener (HTTP, HTTPS, stream and {@code listeners} objects; not the status or admin
 *     ports); one more is closed as soon as it is accepted ({@code 0}: no limit)
 * @param memoryHighWater fraction of the heap (in use after the last GC) or of the direct memory
 *     limit past which the dataplane sheds: new requests get 503 with {@code Retry-After}, new
 *     connections are closed at once, and {@code /readyz} answers 503 ({@code 0}: never)
 * @param memoryLowWater fraction below which (heap and direct memory both) shedding stops
 */
public record OverloadSettings(int maxConnections, double memoryHighWater, double memoryLowWater) {

  /** Most connections per listener by default: far past a pod's usual share, far below fds. */
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

  public static final OverloadSettings DEFAULTS =
      new OverloadSettings(DEFAULT_MAX_CONNECTIONS, 0.90, 0.80);

  public OverloadSettings {
    if (maxConnections < 0) {
      throw new IllegalArgumentException(
          "max_connections: " + maxConnections + " (expected: >= 0, 0 for no limit)");
    }
    if (memoryHighWater < 0 || memoryHighWater > 1) {
      throw new IllegalArgumentException(
          "memory_high_water: " + memoryHighWater + " (expected: 0..1, 0 for never)");
    }
    if (memoryHighWater > 0 && (memoryLowWater <= 0 || memoryLowWater >= memoryHighWater)) {
      throw new IllegalArgumentException(
          "memory_low_water: "
              + memoryLowWater
              + " (expected: above 0 and below memory_high_water "
              + memoryHighWater
              + ")");
    }
  }

  public OverloadSettings withMaxConnections(int n) {
    return new OverloadSettings(n, memoryHighWater, memoryLowWater);
  }

  public OverloadSettings withMemory(double high, double low) {
    return new OverloadSettings(maxConnections, high, low);
  }
}
