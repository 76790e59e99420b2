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
    binding.await();
    if (!binding.isSuccess()) {
      throw new IllegalStateException(
          "the "
              + what
              + " listener cannot listen on "
              + address
              + ":"
              + port
              + " ("
              + binding.cause().getMessage()
              + ")",
          binding.cause());
    }
    return binding.channel();
  }
}
