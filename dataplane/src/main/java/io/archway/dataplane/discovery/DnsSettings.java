package io.archway.dataplane.discovery;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * How DNS discovery resolves: {@code nameservers} (empty: the system's, {@code /etc/resolv.conf}),
 * the bounds of the interval between two resolutions of a name (its records' TTL, clamped), the
 * timeout of one query, and how long a compile waits for the first answer for a new name.
 */
public record DnsSettings(
    List<InetSocketAddress> nameservers,
    Duration minTtl,
    Duration maxTtl,
    Duration queryTimeout,
    Duration firstAnswerWait) {

  public static final DnsSettings SYSTEM =
      new DnsSettings(
          List.of(),
          Duration.ofSeconds(5),
          Duration.ofMinutes(5),
          Duration.ofSeconds(3),
          Duration.ofSeconds(2));

  public DnsSettings {
    nameservers = List.copyOf(nameservers);
    if (minTtl.isNegative() || maxTtl.compareTo(minTtl) < 0) {
      throw new IllegalArgumentException(
          "dns ttl bounds: " + minTtl + ".." + maxTtl + " (expected: 0 <= min <= max)");
    }
  }

  public DnsSettings withNameservers(List<InetSocketAddress> nameservers) {
    return new DnsSettings(nameservers, minTtl, maxTtl, queryTimeout, firstAnswerWait);
  }

  public DnsSettings withTtlBounds(Duration min, Duration max) {
    return new DnsSettings(nameservers, min, max, queryTimeout, firstAnswerWait);
  }
}
