package io.archway.dataplane.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * On a traffic listener's server channel (each has one, put there by {@code Servers#guarded}),
 * ahead of Netty's acceptor: each accepted connection is counted while it is open; one past {@code
 * max_connections}, or any while {@link Overload} sheds, is closed at once, before it is registered
 * on a worker loop (it costs no handler, no buffer, no timer), as Envoy's connection limit does.
 * The client sees its connection closed (or reset, if its request was already sent), at once: never
 * a hang. Connections already admitted are served as before. Runs on the one accept loop, so the
 * check and the count cannot race.
 */
final class ConnectionLimit extends ChannelInboundHandlerAdapter {

  private final Overload overload;
  private final int max;
  private final AtomicInteger open = new AtomicInteger();

  ConnectionLimit(Overload overload) {
    this.overload = overload;
    this.max = overload.settings().maxConnections();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Channel child) {
      Overload.Reason reason =
          overload.shedding()
              ? Overload.Reason.MEMORY
              : max > 0 && open.get() >= max ? Overload.Reason.MAX_CONNECTIONS : null;
      if (reason != null) {
        child.unsafe().closeForcibly();
        overload.refused(reason, port(ctx));
        return;
      }
      open.incrementAndGet();
      child.closeFuture().addListener(f -> open.decrementAndGet());
    }
    ctx.fireChannelRead(msg);
  }

  /** Connections open on this listener. */
  int open() {
    return open.get();
  }

  private static int port(ChannelHandlerContext ctx) {
    return ctx.channel().localAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
  }
}
