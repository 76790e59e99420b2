package io.archway.dataplane.http;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpRequest;

/**
 * The HTTP/2 side of a listener, as the server wires it in: this adapter finds out that a
 * connection speaks HTTP/2 (ALPN {@code h2}, the h2c preface, an {@code Upgrade: h2c} request) and
 * hands the connection over; it never serves HTTP/2 itself.
 */
public interface Http2Handoff {

  /**
   * The connection speaks HTTP/2 from its first byte (ALPN chose {@code h2}, or the client sent the
   * connection preface): adds the HTTP/2 handlers at the end of {@code p}. What was read so far
   * follows them.
   */
  void start(ChannelPipeline p);

  /** Whether an {@code Upgrade: h2c} request's {@code HTTP2-Settings} can be taken. */
  boolean acceptsUpgrade(HttpRequest upgrade);

  /**
   * The {@code 101} went out: adds the HTTP/2 handlers at the end of {@code p} and serves {@code
   * upgrade} (a request without a body) as stream 1.
   */
  void upgrade(ChannelPipeline p, HttpRequest upgrade);
}
