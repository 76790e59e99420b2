package io.archway.model.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for the real servers tests start, and ports nobody listens on.
 *
 * <p>They are taken below the kernel's ephemeral range ({@code ip_local_port_range}), where no
 * outgoing connection gets its local port: a port the kernel hands out for bind(0) is in that
 * range, and between the test's pick and its server's bind any connection made meanwhile could take
 * it as its own (a server then failed to start with "Address already in use"). A port is handed out
 * once per process.
 */
public final class Ports {

  private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();
  private static final int[] RANGE = belowEphemeral();

  private Ports() {}

  /** A loopback port free now (bound and released): for a server to start on, or a dead peer. */
  public static int free() {
    if (RANGE != null) {
      var random = ThreadLocalRandom.current();
      for (int i = 0; i < 200; i++) {
        int port = RANGE[0] + random.nextInt(RANGE[1] - RANGE[0]);
        if (!GIVEN.contains(port) && bindable(port) && GIVEN.add(port)) {
          return port;
        }
      }
    }
    try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      GIVEN.add(s.getLocalPort());
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean bindable(int port) {
    try (var s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Up to 10,000 ports just below the ephemeral range, from 10,000 on; {@code null} when the range
   * is not known (not Linux) or leaves no room below it.
   */
  private static int[] belowEphemeral() {
    try {
      var bounds = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).strip();
      int low = Integer.parseInt(bounds.split("\\s+")[0]);
      int from = Math.max(10_000, low - 10_000);
      return low - from >= 1_000 ? new int[] {from, low} : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
