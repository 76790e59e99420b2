package io.archway.dataplane.archfixture.ping;

import io.archway.dataplane.archfixture.pong.Pong;

/** Half of a package cycle made on purpose: ArchitectureTest shows its rules catch it. */
public final class Ping {

  private Ping() {}

  public static int answer() {
    return Pong.serve() + 1;
  }
}
