package io.archway.dataplane.plugin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * A body transformed as it streams (gzip's compression, gRPC-Web's framing and base64), piece by
 * piece, without holding the whole body: what {@link PluginInstance#bodyStream} gives for one
 * response, or what {@link PluginContext#requestBodyStream} sets for a request body. On the
 * request's event loop only. Each method is called in order: {@link #next} for every piece, then
 * exactly one of {@link #finish} (the body ended) or {@link #abort} (the body was cut short).
 */
public interface BodyStream {

  /**
   * Transforms one piece of the body.
   *
   * @param in the piece; this stream owns it from now on and releases it
   * @return what is sent for it (possibly empty), owned by the caller
   */
  ByteBuf next(ByteBuf in, ByteBufAllocator alloc);

  /** The body ended: what is left to send (a trailer), owned by the caller. */
  ByteBuf finish(ByteBufAllocator alloc);

  /**
   * The body ended with {@code trailers} (the HTTP trailer fields that follow it, possibly empty,
   * never read-only): what is left to send. A stream that carries trailers in the body itself
   * (gRPC-Web's trailer frame) encodes them here and removes them from {@code trailers}; what is
   * left in {@code trailers} is sent as trailer fields. By default, {@link
   * #finish(ByteBufAllocator)} and the trailers left as they are.
   */
  default ByteBuf finish(ByteBufAllocator alloc, HttpHeaders trailers) {
    return finish(alloc);
  }

  /** The response ends early: frees what the stream holds. */
  void abort();

  /** Runs {@code first}, then {@code second} on its output. */
  static BodyStream chain(BodyStream first, BodyStream second) {
    return new BodyStream() {
      @Override
      public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
        return second.next(first.next(in, alloc), alloc);
      }

      @Override
      public ByteBuf finish(ByteBufAllocator alloc) {
        return finish(alloc, new DefaultHttpHeaders());
      }

      @Override
      public ByteBuf finish(ByteBufAllocator alloc, HttpHeaders trailers) {
        ByteBuf rest;
        try {
          rest = first.finish(alloc, trailers);
        } catch (RuntimeException e) {
          second.abort();
          throw e;
        }
        var out = second.next(rest, alloc);
        try {
          var tail = second.finish(alloc, trailers);
          return alloc.compositeBuffer(2).addComponents(true, out, tail);
        } catch (RuntimeException e) {
          out.release();
          throw e;
        }
      }

      @Override
      public void abort() {
        try {
          first.abort();
        } finally {
          second.abort();
        }
      }
    };
  }
}
