package io.archway.dataplane.admin;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;

/**
 * The admin port's pipeline: Netty's HTTP/1.1 codec and a whole-body aggregator (the Admin API is
 * not the data path: bodies are small JSON documents, bounded, and a larger one gets 413), then
 * {@link AdminHandler}.
 */
final class AdminChannelInitializer extends ChannelInitializer<SocketChannel> {

  /** The largest request body: a whole standalone config fits, a runaway upload does not. */
  static final int MAX_BODY = 10 << 20;

  private final AdminHandler handler;

  AdminChannelInitializer(AdminHandler handler) {
    this.handler = handler;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ch.pipeline()
        .addLast("idle", new ReadTimeoutHandler(120))
        .addLast("codec", new HttpServerCodec(8192, 16384, 8192))
        .addLast("aggregator", new HttpObjectAggregator(MAX_BODY))
        .addLast("admin", handler);
  }
}
