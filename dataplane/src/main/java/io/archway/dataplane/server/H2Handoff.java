package io.archway.dataplane.server;

import io.archway.dataplane.http.Http2Handoff;
import io.archway.dataplane.http2.Http2Server;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpRequest;

/**
 * How the HTTP/1.1 adapter hands a connection to the HTTP/2 adapter (after ALPN, the h2c preface or
 * an {@code Upgrade: h2c}): the two adapters do not know each other, so the wiring joins them.
 */
final class H2Handoff implements Http2Handoff {
  private final Http2Server h2;

  H2Handoff(Http2Server h2) {
    this.h2 = h2;
  }

  @Override
  public void start(ChannelPipeline p) {
    h2.start(p);
  }

  @Override
  public boolean acceptsUpgrade(HttpRequest upgrade) {
    return h2.acceptsUpgrade(upgrade);
  }

  @Override
  public void upgrade(ChannelPipeline p, HttpRequest upgrade) {
    h2.upgrade(p, upgrade);
  }
}
