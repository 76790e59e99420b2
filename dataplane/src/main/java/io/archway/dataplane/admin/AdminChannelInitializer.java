package io.archway.dataplane.admin;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin port's pipeline: Netty's HTTP/1.1 codec and a whole-body aggregator (the Admin API is
 * not the data path: bodies are small JSON documents, bounded, and a larger one gets 413), then
 * {@link AdminHandler}.
 */
final class AdminChannelInitializer extends ChannelInitializer<SocketChannel> {

  /** The largest request body: a whole standalone config fits, a runaway upload does not. */
  static final int MAX_BODY = 10 << 20;

  private static final Logger log = LoggerFactory.getLogger(AdminChannelInitializer.class);

  private final AdminHandler handler;
  private final AdminMetrics metrics;

  AdminChannelInitializer(AdminHandler handler, AdminMetrics metrics) {
    this.handler = handler;
    this.metrics = metrics;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    addTo(ch.pipeline());
  }

  /** The admin steps, at the end of {@code p} (also on a data-port connection taken over). */
  void addTo(io.netty.channel.ChannelPipeline p) {
    p.addLast("idle", new ReadTimeoutHandler(120))
        .addLast("codec", new HttpServerCodec(8192, 16384, 8192))
        .addLast("aggregator", new Aggregator(metrics))
        .addLast("admin", handler);
  }

  /** Netty's aggregator (it answers 413), with the refusal counted and logged. */
  private static final class Aggregator extends HttpObjectAggregator {
    private final AdminMetrics metrics;

    Aggregator(AdminMetrics metrics) {
      super(MAX_BODY);
      this.metrics = metrics;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized)
        throws Exception {
      if (oversized instanceof HttpRequest req) {
        var path = new QueryStringDecoder(req.uri()).path();
        metrics.count(AdminMetrics.resource(path), req.method().name(), 413);
        log.warn(
            "admin: {} {} from {} refused: body over {} bytes",
            req.method(),
            path,
            ctx.channel().remoteAddress(),
            MAX_BODY);
      }
      super.handleOversizedMessage(ctx, oversized);
    }
  }
}
