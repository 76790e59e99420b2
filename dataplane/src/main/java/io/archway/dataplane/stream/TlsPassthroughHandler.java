package io.archway.dataplane.stream;

import io.archway.dataplane.tls.ClientHello;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.util.concurrent.Future;

/**
 * The front of a TLS passthrough listener's connection: reads the ClientHello without terminating
 * TLS (Netty's {@link SslClientHelloHandler} gathers it across records; {@link ClientHello} reads
 * its server name), then hands the connection to a {@link StreamHandler} that picks the stream
 * route by that name. The bytes read so far are not consumed: they go on to the new handler, which
 * replays them to the upstream before relaying raw bytes. Not TLS, or no route for the name:
 * closed.
 */
final class TlsPassthroughHandler extends SslClientHelloHandler<String> {

  /** Stands for "no server name" in a succeeded lookup (a future's value cannot be null here). */
  private static final String NONE = "";

  private final StreamGateway gateway;

  TlsPassthroughHandler(StreamGateway gateway) {
    super(16 * 1024);
    this.gateway = gateway;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    ctx.read(); // AUTO_READ is off on stream listeners
    super.channelActive(ctx);
  }

  @Override
  protected Future<String> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
    if (clientHello == null) {
      return ctx.executor().newFailedFuture(new IllegalArgumentException("not a TLS ClientHello"));
    }
    var name = ClientHello.parse(clientHello).serverName();
    return ctx.executor().newSucceededFuture(name == null ? NONE : name);
  }

  @Override
  protected void onLookupComplete(ChannelHandlerContext ctx, Future<String> future) {
    if (!future.isSuccess()) {
      gateway.metrics().error("not_tls");
      ctx.close();
      return;
    }
    var name = future.getNow();
    ctx.pipeline()
        .replace(this, "stream", new StreamHandler(gateway, name.isEmpty() ? null : name, true));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    gateway.metrics().error("not_tls");
    ctx.close();
  }
}
