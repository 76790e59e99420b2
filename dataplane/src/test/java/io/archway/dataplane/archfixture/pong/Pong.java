package io.archway.dataplane.archfixture.pong;

import io.archway.dataplane.archfixture.ping.Ping;

/** The other half of the package cycle made on purpose (see {@link Ping}). */
public final class Pong {

  private Pong() {}

  public static int serve() {
    return 0;
  }

  static int back() {
    return Ping.answer();
  }
}
