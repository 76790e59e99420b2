package io.archway.dataplane.exchange;

import io.archway.dataplane.route.Peer;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;

/**
 * The client side of one request, as a protocol adapter gives it to the pipeline: an HTTP/1.1
 * connection (one request at a time) or an HTTP/2 stream. The pipeline pulls the request body from
 * it and writes the response to it, and never sees how either is framed on the wire. Everything is
 * called on {@link #eventLoop()} only.
 *
 * <p>What the adapter feeds back (body pieces, writability, the client leaving) goes to the {@link
 * Exchange}'s listener.
 */
public interface Downstream {

  /** The loop the request runs on: its timers, its upstream connections, hand-backs from I/O. */
  EventLoop eventLoop();

  ByteBufAllocator alloc();

  /** Who is asking: address, the listener's port and scheme. */
  Peer peer();

  /**
   * The protocol the request came in, as the access log prints it: {@code HTTP/1.1}, {@code
   * HTTP/1.0}, {@code HTTP/2.0}.
   */
  String protocol();

  /** The timer of the request's exchanges (one per connection, so a request schedules nothing). */
  ExchangeTimer timer();

  /**
   * Asks for the next piece of the request body; it comes to {@link Exchange.Listener#onContent}
   * (now, or when the client sends it). One piece per call: the body is read only as fast as it is
   * taken.
   */
  void pullBody();

  /**
   * The request expects {@code 100 Continue} and its body is now wanted: send the interim answer.
   */
  void sendContinue();

  /**
   * Writes a response message: the head ({@code HttpResponse}), body pieces, and last a {@code
   * LastHttpContent} (with trailers, if any), which is flushed and ends the response. A {@code
   * FullHttpResponse} is a whole response. Nothing else is flushed until {@link #flush()}.
   */
  void write(HttpObject msg);

  void flush();

  /** Whether the client takes what is written; {@link Exchange.Listener#onWritable} says when. */
  boolean isWritable();

  /** Whether the client's connection stays open after this response. */
  boolean keepAlive();

  /** The connection closes once this response is written (the rest of the request is unsafe). */
  void closeAfterResponse();

  /** Ends the request at once: closes an HTTP/1.1 connection, resets an HTTP/2 stream. */
  void close();

  /**
   * The response is over. {@code reusable}: it went out whole, and the client may send the next
   * request.
   */
  void exchangeDone(boolean reusable);

  /**
   * Whether a request for {@code path} may go on as far as TLS is concerned: mTLS with {@code
   * skip_mtls_uri_regex} asks for a client certificate without requiring one, so requests outside
   * those paths need one to have been shown.
   */
  boolean clientCertificateAdmits(String path);

  /**
   * The connection under the request, for route handlers that take it over after an upgrade
   * (WebSocket, pub-sub); {@code null} where the protocol cannot hand one over (an HTTP/2 stream).
   * A handler that takes it calls {@link #upgraded()}.
   */
  ChannelHandlerContext connection();

  /** The connection now belongs to an upgrade's handler: the adapter stops serving it. */
  void upgraded();
}
