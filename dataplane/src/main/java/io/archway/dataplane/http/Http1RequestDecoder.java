package io.archway.dataplane.http;

import io.archway.dataplane.exchange.HttpSyntax;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * A strict HTTP/1.1 request decoder (RFC 9112): it emits Netty's {@link HttpRequest}, {@link
 * io.netty.handler.codec.http.HttpContent} and {@link LastHttpContent}, and refuses what Netty's
 * lenient decoder lets through. Anything it cannot read one way only ends the connection: the
 * request (or, mid-body, the last content) comes out with a failed {@link DecoderResult} holding a
 * {@link RequestRejected}, and every byte after it is dropped.
 *
 * <ul>
 *   <li>Request line: {@code METHOD SP target SP HTTP/1.x}, single spaces; methods are upper-case
 *       letters, {@code -} and {@code _} (as nginx); the target has no control character, space or
 *       DEL; {@code HTTP/1.0} or {@code HTTP/1.1} (a higher minor is read as 1.1), another major is
 *       505. Longer than {@code maxUriLength}: 414.
 *   <li>Header lines: a token, a colon with nothing before it, a value without control characters
 *       (tab aside) or DEL; leading spaces and tabs and trailing spaces are not part of the value.
 *       A line that starts with white space (obs-fold) is 400. More than {@code maxHeaderSize}
 *       bytes or {@value #MAX_HEADERS} fields: 431.
 *   <li>Lines end with CRLF; a bare LF is read as CRLF (RFC 9112 §2.2 allows it, nginx does it), a
 *       bare CR is 400.
 *   <li>Bodies: framed by {@link RequestFraming}; chunk sizes are hex digits that fit in 60 bits,
 *       extensions are checked and dropped, the CRLF after chunk data is required, trailer fields
 *       are read like header fields and dropped (they are never forwarded).
 * </ul>
 *
 * <p>It is longer than our other classes on purpose: it is one state machine over one buffer
 * (request line, fields, body, chunks, trailers), and each state's rules sit beside the others so
 * that one can check that no input is read two ways; split, the states would share their cursor and
 * limits through fields of another object on the hottest path.
 */
final class Http1RequestDecoder extends ByteToMessageDecoder {

  static final int MAX_HEADERS = HttpSettings.MAX_HEADERS;
  // A chunk-size line with its extensions.
  private static final int MAX_CHUNK_LINE = 4096;
  private static final HttpHeadersFactory HEADERS =
      DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  private enum State {
    REQUEST_LINE,
    HEADERS,
    FIXED,
    CHUNK_SIZE,
    CHUNK_DATA,
    CHUNK_END,
    TRAILERS,
    FAILED
  }

  private final int maxRequestLine;
  private final int maxHeaderSize;
  private final Consumer<HttpMethod> requests;

  private State state = State.REQUEST_LINE;
  // Bytes of the current line already searched for its LF, so a slow client costs no rescans.
  private int scanned;
  private HttpMethod method;
  private HttpVersion version;
  private String target;
  private HttpHeaders headers;
  private int headerBytes;
  private int headerCount;
  private long remaining;

  /**
   * @param requests told the method of each request emitted, failed ones included (the response
   *     encoder needs to know which answers are to HEAD)
   */
  Http1RequestDecoder(int maxRequestLine, int maxHeaderSize, Consumer<HttpMethod> requests) {
    this.maxRequestLine = maxRequestLine;
    this.maxHeaderSize = maxHeaderSize;
    this.requests = requests;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    try {
      while (in.isReadable() && step(in, out)) {
        // one step at a time until one needs more bytes
      }
    } catch (RequestRejected e) {
      fail(in, out, e);
    }
  }

  /** Runs the current state once; false when it needs more bytes. */
  private boolean step(ByteBuf in, List<Object> out) {
    switch (state) {
      case REQUEST_LINE -> {
        int lf = lineEnd(in, maxRequestLine, 414, "uri_too_long");
        if (lf < 0) {
          return false;
        }
        int start = in.readerIndex();
        int end = contentEnd(in, start, lf);
        in.readerIndex(lf + 1);
        if (end > start) {
          requestLine(in, start, end);
          headers = HEADERS.newHeaders();
          headerBytes = 0;
          headerCount = 0;
          state = State.HEADERS;
        }
        // else: empty lines before a request are skipped (RFC 9112 §2.2)
        return true;
      }
      case HEADERS, TRAILERS -> {
        boolean trailers = state == State.TRAILERS;
        int lf = lineEnd(in, maxHeaderSize - headerBytes, 431, "headers_too_large");
        if (lf < 0) {
          return false;
        }
        int start = in.readerIndex();
        int end = contentEnd(in, start, lf);
        headerBytes += lf + 1 - start;
        in.readerIndex(lf + 1);
        if (end > start) {
          if (++headerCount > MAX_HEADERS) {
            throw new RequestRejected(431, "headers_too_large", "too many header fields");
          }
          field(in, start, end, trailers ? null : headers);
        } else if (trailers) {
          out.add(LastHttpContent.EMPTY_LAST_CONTENT);
          state = State.REQUEST_LINE;
        } else {
          head(out);
        }
        return true;
      }
      case FIXED -> {
        int n = (int) Math.min(remaining, in.readableBytes());
        remaining -= n;
        if (remaining == 0) {
          out.add(new DefaultLastHttpContent(in.readRetainedSlice(n)));
          state = State.REQUEST_LINE;
        } else {
          out.add(new DefaultHttpContent(in.readRetainedSlice(n)));
        }
        return true;
      }
      case CHUNK_SIZE -> {
        int lf = lineEnd(in, MAX_CHUNK_LINE, 400, "bad_request");
        if (lf < 0) {
          return false;
        }
        int start = in.readerIndex();
        int end = contentEnd(in, start, lf);
        in.readerIndex(lf + 1);
        remaining = chunkSize(in, start, end);
        if (remaining == 0) {
          headerBytes = 0;
          headerCount = 0;
          state = State.TRAILERS;
        } else {
          state = State.CHUNK_DATA;
        }
        return true;
      }
      case CHUNK_DATA -> {
        int n = (int) Math.min(remaining, in.readableBytes());
        remaining -= n;
        out.add(new DefaultHttpContent(in.readRetainedSlice(n)));
        if (remaining == 0) {
          state = State.CHUNK_END;
        }
        return true;
      }
      case CHUNK_END -> {
        int i = in.readerIndex();
        byte b = in.getByte(i);
        if (b == '\n') {
          in.skipBytes(1);
        } else if (b == '\r') {
          if (in.readableBytes() < 2) {
            return false;
          }
          if (in.getByte(i + 1) != '\n') {
            throw RequestRejected.malformed("no CRLF after chunk data");
          }
          in.skipBytes(2);
        } else {
          throw RequestRejected.malformed("no CRLF after chunk data");
        }
        state = State.CHUNK_SIZE;
        return true;
      }
      case FAILED -> {
        in.skipBytes(in.readableBytes());
        return false;
      }
    }
    return false;
  }

  /**
   * The index of the LF that ends the line at the reader index, or -1 while it has not arrived; a
   * line longer than {@code limit} is refused with {@code status}.
   */
  private int lineEnd(ByteBuf in, int limit, int status, String error) {
    int from = in.readerIndex();
    int to = in.writerIndex();
    int lf = in.indexOf(from + scanned, to, (byte) '\n');
    if (lf < 0) {
      scanned = to - from;
      if (scanned > limit) {
        throw new RequestRejected(status, error, "line longer than " + limit);
      }
      return -1;
    }
    scanned = 0;
    if (lf - from > limit) {
      throw new RequestRejected(status, error, "line longer than " + limit);
    }
    return lf;
  }

  /** Where a line's content ends: before its LF, and before a CR right in front of it. */
  private static int contentEnd(ByteBuf in, int start, int lf) {
    return lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
  }

  private void requestLine(ByteBuf in, int start, int end) {
    int i = start;
    while (i < end && in.getByte(i) != ' ') {
      byte b = in.getByte(i);
      if (!HttpSyntax.methodChar(b)) {
        throw RequestRejected.malformed("method");
      }
      i++;
    }
    if (i == start || i == end || i - start > HttpSyntax.MAX_METHOD_LENGTH) {
      throw RequestRejected.malformed("method");
    }
    method = method(in, start, i - start);
    int t = ++i;
    i = in.forEachByte(t, end - t, NOT_TARGET);
    if (i < 0 || in.getByte(i) != ' ') {
      throw RequestRejected.malformed(i < 0 ? "request line" : "request target");
    }
    if (i == t) {
      throw RequestRejected.malformed("request line");
    }
    target = in.toString(t, i - t, StandardCharsets.ISO_8859_1);
    version = version(in, i + 1, end);
  }

  private static final byte[] HTTP_SLASH = {'H', 'T', 'T', 'P', '/'};

  private static HttpVersion version(ByteBuf in, int i, int end) {
    if (end - i != 8) {
      throw RequestRejected.malformed("version");
    }
    for (int k = 0; k < 5; k++) {
      if (in.getByte(i + k) != HTTP_SLASH[k]) {
        throw RequestRejected.malformed("version");
      }
    }
    byte major = in.getByte(i + 5);
    byte minor = in.getByte(i + 7);
    if (major < '0' || major > '9' || in.getByte(i + 6) != '.' || minor < '0' || minor > '9') {
      throw RequestRejected.malformed("version");
    }
    if (major != '1') {
      throw new RequestRejected(505, "version_not_supported", "HTTP/" + (char) major);
    }
    return minor == '0' ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
  }

  private static final HttpMethod[] COMMON = {
    HttpMethod.GET,
    HttpMethod.POST,
    HttpMethod.PUT,
    HttpMethod.HEAD,
    HttpMethod.DELETE,
    HttpMethod.PATCH,
    HttpMethod.OPTIONS
  };

  private static HttpMethod method(ByteBuf in, int start, int len) {
    for (var m : COMMON) {
      var name = m.asciiName();
      if (name.length() == len && equalsAt(in, start, name)) {
        return m;
      }
    }
    return HttpMethod.valueOf(in.toString(start, len, StandardCharsets.US_ASCII));
  }

  private static boolean equalsAt(ByteBuf in, int start, AsciiString s) {
    for (int k = 0; k < s.length(); k++) {
      if (in.getByte(start + k) != s.byteAt(k)) {
        return false;
      }
    }
    return true;
  }

  /** One field line; added to {@code into}, or only checked when it is null (a trailer). */
  private static void field(ByteBuf in, int start, int end, HttpHeaders into) {
    byte first = in.getByte(start);
    if (first == ' ' || first == '\t') {
      throw RequestRejected.malformed("obs-fold or white space before a field line");
    }
    int i = in.forEachByte(start, end - start, NOT_TCHAR);
    if (i < 0 || in.getByte(i) != ':') {
      throw RequestRejected.malformed(i < 0 ? "field line without a colon" : "field name");
    }
    if (i == start) {
      throw RequestRejected.malformed("field line without a name and colon");
    }
    int nameEnd = i;
    int v = i + 1;
    while (v < end && isBlank(in.getByte(v))) {
      v++;
    }
    int ve = end;
    // Trailing spaces go; a trailing tab stays part of the value, as nginx reads it (so
    // "chunked<TAB>" is not chunked, and "5<TAB>" not a length, to nginx and to us alike).
    while (ve > v && in.getByte(ve - 1) == ' ') {
      ve--;
    }
    if (ve > v && in.forEachByte(v, ve - v, NOT_FIELD_VALUE) >= 0) {
      throw RequestRejected.malformed("control character in a field value");
    }
    if (into != null) {
      into.add(
          KnownNames.of(in, start, nameEnd - start),
          in.toString(v, ve - v, StandardCharsets.ISO_8859_1));
    }
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t';
  }

  /** The head is whole: frame the request and emit it. */
  private void head(List<Object> out) {
    var request = new DefaultHttpRequest(version, method, target, headers);
    headers = null;
    var framing = RequestFraming.check(method, version == HttpVersion.HTTP_1_0, request.headers());
    requests.accept(method);
    out.add(request);
    switch (framing.body()) {
      case NONE -> {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        state = State.REQUEST_LINE;
      }
      case FIXED -> {
        remaining = framing.length();
        state = State.FIXED;
      }
      case CHUNKED -> state = State.CHUNK_SIZE;
    }
  }

  private static long chunkSize(ByteBuf in, int start, int end) {
    long size = 0;
    int i = start;
    for (; i < end; i++) {
      int d = Character.digit(in.getByte(i), 16);
      if (d < 0) {
        break;
      }
      if (size > (1L << 56)) {
        throw RequestRejected.malformed("chunk size too large");
      }
      size = (size << 4) | d;
    }
    if (i == start) {
      throw RequestRejected.malformed("chunk size");
    }
    if (i < end) {
      // chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): checked for control characters
      // and dropped.
      while (i < end && isBlank(in.getByte(i))) {
        i++;
      }
      if (i == end || in.getByte(i) != ';') {
        throw RequestRejected.malformed("chunk size");
      }
      for (; i < end; i++) {
        int b = in.getByte(i) & 0xff;
        if ((b < 0x20 && b != '\t') || b == 0x7f) {
          throw RequestRejected.malformed("chunk extension");
        }
      }
    }
    return size;
  }

  // Byte classes, looked up per byte (a branchy test per character cost a fifth of a decode);
  // HttpSyntax defines them.
  private static final boolean[] TCHAR = new boolean[256];
  private static final boolean[] TARGET = new boolean[256];
  private static final boolean[] FIELD_VALUE = new boolean[256];

  static {
    for (int c = 0; c < 256; c++) {
      TCHAR[c] = HttpSyntax.tchar(c);
      TARGET[c] = HttpSyntax.targetChar(c);
      FIELD_VALUE[c] = HttpSyntax.fieldValueChar(c);
    }
  }

  // forEachByte stops at the first byte for which these return false.
  private static final ByteProcessor NOT_TCHAR = b -> TCHAR[b & 0xff];
  private static final ByteProcessor NOT_FIELD_VALUE = b -> FIELD_VALUE[b & 0xff];
  private static final ByteProcessor NOT_TARGET = b -> TARGET[b & 0xff];

  private void fail(ByteBuf in, List<Object> out, RequestRejected e) {
    boolean inHead = state == State.REQUEST_LINE || state == State.HEADERS;
    state = State.FAILED;
    headers = null;
    in.skipBytes(in.readableBytes());
    if (inHead) {
      var request =
          new DefaultHttpRequest(
              version == null ? HttpVersion.HTTP_1_1 : version,
              method == null ? HttpMethod.GET : method,
              target == null ? "/" : target,
              HEADERS.newHeaders());
      request.setDecoderResult(DecoderResult.failure(e));
      requests.accept(request.method());
      out.add(request);
    } else {
      var last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
      last.setDecoderResult(DecoderResult.failure(e));
      out.add(last);
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (in.isReadable()) {
      decode(ctx, in, out);
    }
    // A body cut short by the client closing: nothing more to emit, the connection is gone.
  }

  /** Field names that most requests carry, shared instead of copied out of every request. */
  static final class KnownNames {
    private KnownNames() {}

    private static final AsciiString[] NAMES = {
      HttpHeaderNames.HOST,
      HttpHeaderNames.USER_AGENT,
      HttpHeaderNames.ACCEPT,
      HttpHeaderNames.ACCEPT_ENCODING,
      HttpHeaderNames.ACCEPT_LANGUAGE,
      HttpHeaderNames.CONNECTION,
      HttpHeaderNames.CONTENT_LENGTH,
      HttpHeaderNames.CONTENT_TYPE,
      HttpHeaderNames.TRANSFER_ENCODING,
      HttpHeaderNames.AUTHORIZATION,
      HttpHeaderNames.COOKIE,
      HttpHeaderNames.UPGRADE,
      HttpHeaderNames.ORIGIN,
      HttpHeaderNames.REFERER,
      HttpHeaderNames.CACHE_CONTROL,
      HttpHeaderNames.EXPECT,
      AsciiString.cached("apikey"),
      AsciiString.cached("x-forwarded-for"),
      AsciiString.cached("x-request-id"),
    };

    static AsciiString of(ByteBuf in, int start, int len) {
      for (var name : NAMES) {
        if (name.length() == len && equalsIgnoreCaseAt(in, start, name)) {
          return name;
        }
      }
      var bytes = new byte[len];
      in.getBytes(start, bytes);
      return new AsciiString(bytes, false);
    }

    private static boolean equalsIgnoreCaseAt(ByteBuf in, int start, AsciiString lower) {
      for (int k = 0; k < lower.length(); k++) {
        int b = in.getByte(start + k);
        if (b >= 'A' && b <= 'Z') {
          b += 'a' - 'A';
        }
        if (b != lower.byteAt(k)) {
          return false;
        }
      }
      return true;
    }
  }
}
