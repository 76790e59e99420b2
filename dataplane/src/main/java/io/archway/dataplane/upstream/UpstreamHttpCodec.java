package io.archway.dataplane.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The codec of a connection to a node: Netty's response decoder and request encoder, paired as
 * Netty's {@code HttpClientCodec} pairs them (each response is matched with its request's method: a
 * HEAD answer has no body, a {@code 200} to CONNECT turns the connection into a tunnel), with one
 * difference: the header names, versions and reasons nodes send most are taken from a table of
 * constants when their bytes match one exactly, instead of a new {@link AsciiString} or {@code
 * String} copied for each. The bytes are the same (the case too), and the decoder's checks (token
 * characters, lengths, framing) run on every header as before. And a head whose whole body (framed
 * by Content-Length) came in the same read goes on as one {@link FullHttpResponse}, as an HTTP/2
 * node's answers can: the decoder cut it into the same two pieces first.
 */
final class UpstreamHttpCodec
    extends CombinedChannelDuplexHandler<UpstreamHttpCodec.Decoder, UpstreamHttpCodec.Encoder> {

  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
  private final int maxChunkSize;
  private boolean tunnel; // a CONNECT was answered 200: bytes pass on undecoded

  UpstreamHttpCodec(int maxInitialLineLength, int maxHeaderSize, int maxChunkSize) {
    this.maxChunkSize = maxChunkSize;
    init(
        new Decoder(
            new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLineLength)
                .setMaxHeaderSize(maxHeaderSize)
                .setMaxChunkSize(maxChunkSize)),
        new Encoder());
  }

  /** Notes each request's method, for the decoder to know how its answer is framed. */
  final class Encoder extends HttpRequestEncoder {
    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out)
        throws Exception {
      if (msg instanceof HttpRequest r) {
        methods.offer(r.method());
      }
      super.encode(ctx, msg, out);
    }
  }

  /** Netty's response decoder, with the names and words nodes send most as constants. */
  final class Decoder extends HttpResponseDecoder {
    Decoder(HttpDecoderConfig config) {
      super(config);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
        throws Exception {
      if (tunnel) {
        int readable = actualReadableBytes();
        if (readable > 0) {
          out.add(in.readBytes(readable));
        }
        return;
      }
      int before = out.size();
      super.decode(ctx, in, out);
      if (out.size() == before + 1
          && out.get(before) instanceof HttpResponse head
          && !(head instanceof FullHttpResponse)
          && wholeBodyRead(head, in)) {
        // The body is read already: the head and the body go on as one message (one trip through
        // the proxy and one write to the client instead of two of each).
        super.decode(ctx, in, out);
        if (out.size() == before + 2 && out.get(before + 1) instanceof LastHttpContent body) {
          out.set(
              before,
              new DefaultFullHttpResponse(
                  head.protocolVersion(),
                  head.status(),
                  body.content(),
                  head.headers(),
                  body.trailingHeaders()));
          out.remove(before + 1);
        }
      }
    }

    /**
     * Whether all of a head's body, framed by Content-Length and short enough to come as one piece,
     * is in the buffer (a head without a body, or a failed one, came with its end already).
     */
    private boolean wholeBodyRead(HttpResponse head, ByteBuf in) {
      if (head.decoderResult().isFailure()
          || head.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
        return false;
      }
      long length = HttpUtil.getContentLength(head, -1L);
      return length > 0 && length <= maxChunkSize && in.readableBytes() >= length;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      var status = ((HttpResponse) msg).status();
      if (status.codeClass() == HttpStatusClass.INFORMATIONAL) {
        return super.isContentAlwaysEmpty(msg); // not paired with a request: a final answer follows
      }
      var method = methods.poll();
      if (HttpMethod.HEAD.equals(method)) {
        return true;
      }
      if (status.code() == 200 && HttpMethod.CONNECT.equals(method)) {
        tunnel = true;
        methods.clear();
        return true;
      }
      return super.isContentAlwaysEmpty(msg);
    }

    @Override
    protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
      var known = KnownWords.NAMES.find(sb, start, length);
      return known != null ? known : super.splitHeaderName(sb, start, length);
    }

    @Override
    protected String splitFirstWordInitialLine(byte[] sb, int start, int length) {
      var known = KnownWords.LINE.find(sb, start, length);
      return known != null ? known.toString() : super.splitFirstWordInitialLine(sb, start, length);
    }

    @Override
    protected String splitSecondWordInitialLine(byte[] sb, int start, int length) {
      var known = KnownWords.LINE.find(sb, start, length);
      return known != null ? known.toString() : super.splitSecondWordInitialLine(sb, start, length);
    }

    @Override
    protected String splitThirdWordInitialLine(byte[] sb, int start, int length) {
      var known = KnownWords.LINE.find(sb, start, length);
      return known != null ? known.toString() : super.splitThirdWordInitialLine(sb, start, length);
    }
  }
}
