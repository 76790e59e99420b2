package io.archway.dataplane.plugin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * A response body transformed as it streams (gzip's compression), piece by piece, without holding
 * the whole body: what {@link PluginInstance#bodyStream} gives for one response. On the request's
 * event loop only. Each method is called in order: {@link #next} for every piece, then exactly one
 * of {@link #finish} (the body ended) or {@link #abort} (the response was cut short).
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
        ByteBuf rest;
        try {
          rest = first.finish(alloc);
        } catch (RuntimeException e) {
          second.abort();
          throw e;
        }
        var out = second.next(rest, alloc);
        try {
          var tail = second.finish(alloc);
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
