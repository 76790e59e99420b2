package io.archway.dataplane.pipeline;

import io.archway.dataplane.plugin.BodyStream;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * One piece of a body through a plugin's {@link BodyStream}, the same way for the request on its
 * way to the node (grpc-web's base64) and the response on its way to the client (gzip, grpc-web's
 * trailer frame).
 */
final class BodyStreams {

  private BodyStreams() {}

  /**
   * {@code content} through {@code stream}: the piece it makes, and with the last piece the
   * stream's end, which gets a copy of the trailers it may change (gRPC-Web turns them into body
   * bytes) and is ended exactly once, by {@code finish} or, if that throws, by {@code abort}.
   * {@code content} is released whatever happens.
   */
  static HttpContent through(BodyStream stream, HttpContent content, ByteBufAllocator alloc) {
    boolean last = content instanceof LastHttpContent;
    var in = content.content().retain();
    var trailers =
        last ? new DefaultHttpHeaders().set(((LastHttpContent) content).trailingHeaders()) : null;
    content.release();
    try {
      if (!last) {
        return new DefaultHttpContent(stream.next(in, alloc));
      }
      var out = alloc.compositeBuffer(2);
      try {
        out.addComponent(true, stream.next(in, alloc));
        out.addComponent(true, stream.finish(alloc, trailers));
      } catch (RuntimeException e) {
        out.release();
        throw e;
      }
      var end = new DefaultLastHttpContent(out);
      end.trailingHeaders().set(trailers);
      return end;
    } catch (RuntimeException e) {
      if (last) {
        stream.abort();
      }
      throw e;
    }
  }
}
