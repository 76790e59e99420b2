package io.archway.model.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Loopback ports for the real servers tests start, and ports nobody listens on. */
public final class Ports {

  private Ports() {}

  /** A loopback port free now (bound and released): for a server to start on, or a dead peer. */
  public static int free() {
    try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
