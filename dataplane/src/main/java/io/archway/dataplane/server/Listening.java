package io.archway.dataplane.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;

/** Waits for a listener's bind, and says which listener and port failed when it does. */
final class Listening {

  private Listening() {}

  /**
   * The bound channel of {@code binding}, the listener called {@code what} on {@code address:port};
   * a failed bind ("Address already in use", say) names the listener and its port, as nginx's
   * {@code bind() to 0.0.0.0:80 failed} does.
   */
  static Channel bound(ChannelFuture binding, String what, String address, int port)
      throws InterruptedException {
    return bound(binding, "the " + what + " listener", address, port, "");
  }

  /**
   * As {@link #bound(ChannelFuture, String, String, int)}, for a listener whose failure names it as
   * {@code who} and ends with {@code advice} (what to do instead; empty for none).
   */
  static Channel bound(ChannelFuture binding, String who, String address, int port, String advice)
      throws InterruptedException {
    binding.await();
    if (!binding.isSuccess()) {
      throw new IllegalStateException(
          who
              + " cannot listen on "
              + address
              + ":"
              + port
              + " ("
              + binding.cause().getMessage()
              + ")"
              + advice,
          binding.cause());
    }
    return binding.channel();
  }
}
