package io.archway.dataplane.support;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;

/**
 * A connection that is ready some time after its connect: once its TLS handshake is done, or once
 * the server has answered a first command on it.
 */
public final class ChannelReady {

  /** What follows a successful connect; it completes (or fails) {@code ready}. */
  @FunctionalInterface
  public interface Step {
    void connected(Channel ch, ChannelPromise ready);
  }

  private ChannelReady() {}

  /**
   * A future of {@code connecting}'s channel, complete when {@code step} completes it; a failed
   * connect fails it with the connect's cause.
   */
  public static ChannelFuture after(ChannelFuture connecting, Step step) {
    var ready = connecting.channel().newPromise();
    connecting.addListener(
        (ChannelFutureListener)
            f -> {
              if (f.isSuccess()) {
                step.connected(f.channel(), ready);
              } else {
                ready.tryFailure(f.cause());
              }
            });
    return ready;
  }
}
