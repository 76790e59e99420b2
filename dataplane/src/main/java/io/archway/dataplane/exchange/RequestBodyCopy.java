package io.archway.dataplane.exchange;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A copy of the request body, up to a bound, for the log phase ({@code include_req_body} of the
 * loggers): a plugin puts one on the exchange before the request goes upstream, and the proxy
 * copies each piece of the body into it as the piece passes. The body still streams; only the copy
 * is kept, and only up to {@code max} bytes.
 */
public final class RequestBodyCopy {

  /** Where the exchange keeps it. */
  public static final Exchange.Key<RequestBodyCopy> KEY = new Exchange.Key<>("request-body-copy");

  private final int max;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private long seen;
  private boolean ended;

  public RequestBodyCopy(int max) {
    this.max = max;
  }

  public int max() {
    return max;
  }

  /**
   * Copies what fits of {@code piece}, leaving its reader index where it was; {@code last}: the
   * body ends with it.
   */
  public void add(ByteBuf piece, boolean last) {
    add(piece);
    ended |= last;
  }

  /** Copies what fits of {@code piece}, leaving its reader index where it was. */
  public void add(ByteBuf piece) {
    seen += piece.readableBytes();
    int n = Math.min(piece.readableBytes(), max - bytes.size());
    if (n > 0) {
      var b = new byte[n];
      piece.getBytes(piece.readerIndex(), b);
      bytes.writeBytes(b);
    }
  }

  /**
   * The whole body, or {@code null} while its end has not passed or when it was larger than the
   * bound (proxy-mirror sends a body only whole).
   */
  public byte[] whole() {
    return ended && seen <= max ? bytes.toByteArray() : null;
  }

  /** The body as text, or {@code null} when none was seen. */
  public String text() {
    return bytes.size() == 0 ? null : bytes.toString(StandardCharsets.UTF_8);
  }
}
