package io.archway.dataplane.stream.redis;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Splits a client's bytes into {@link RedisCommand}s exactly where redis-server (7.0, {@code
 * processMultibulkBuffer} and {@code processInlineBuffer}) splits them, and refuses exactly what it
 * refuses, with its error text: a server behind a shared link must never see a boundary the proxy
 * did not see.
 *
 * <ul>
 *   <li>RESP arrays of bulk strings (what every client library sends, RESP2 and RESP3 alike). As in
 *       Redis, a header line ends at its first {@code \r} and the byte after it is skipped unseen,
 *       and a bulk string is followed by two bytes that are skipped unseen; numbers are read as
 *       Redis's {@code string2ll} reads them (no sign on counts but {@code -}, no leading zeros).
 *       Those bytes are forwarded unchanged, and Redis reads them the same way.
 *   <li>Inline commands ({@code PING\r\n} as typed into telnet, or ended by a bare {@code \n} as
 *       {@code redis-cli --pipe} may send them), split as Redis's {@code sdssplitargs} splits them
 *       (quotes, {@code \x..} escapes). An inline command is forwarded as the RESP array it means,
 *       so the server never has to parse a line the proxy parsed.
 * </ul>
 *
 * Nothing is copied out of a RESP array: the name is looked up in {@link CommandNames}, the key is
 * decoded only if asked for, and the command's bytes are a slice of what was read. Lengths are
 * checked before anything is allocated for them. After the first error nothing more is decoded: the
 * commands before it have been passed on, and the session answers them before the error.
 *
 * <p>It stays one class over the usual size on purpose: it is one state machine over one buffer
 * (multibulk, bulk and inline states sharing the cursor and the scratch array), and reading it
 * against {@code processMultibulkBuffer} and {@code processInlineBuffer} side by side is how it is
 * checked.
 */
final class RespCommandDecoder extends ByteToMessageDecoder {

  /** Redis's {@code PROTO_INLINE_MAX_SIZE}: an inline command or a header line at most. */
  static final int MAX_INLINE = 64 * 1024;

  private static final long INCOMPLETE = Long.MIN_VALUE;

  private final long maxBulk;
  private final byte[] scratch = new byte[32];
  private int headerLength; // of the bulk string header read last
  // A command seen whole up to its header but not its last byte: wait until this many bytes are in.
  private long needed;
  private boolean failed;
  private final long maxCommand;
  // An array not yet whole: its element count, the first element not yet whole and where it starts
  // (from the array's first byte), and what was read of it so far. partCount 0: none.
  private long partCount;
  private long partIndex;
  private int partOffset;
  private CommandNames.Name partName;
  private int partKeyAt;
  private int partKeyLength;
  private BooleanSupplier room = () -> true;
  private boolean holding;
  private boolean reading;
  private ChannelHandlerContext ctx;

  /** {@code maxBulk} 0 (or above what a buffer can hold) means as much as a buffer can hold. */
  RespCommandDecoder(long maxBulk) {
    long most = Integer.MAX_VALUE - 1024;
    this.maxBulk = maxBulk <= 0 || maxBulk > most ? most : maxBulk;
    // Redis's client-query-buffer-limit is 1 GB; a command may be one bulk string at its limit
    // and then some.
    this.maxCommand = Math.min(most, Math.max(this.maxBulk + MAX_INLINE, 1L << 30));
  }

  /**
   * Decodes only while {@code room} says the session can take commands; what arrives meanwhile
   * stays here as bytes until {@link #decodeHeld} (see {@link #holding}).
   */
  void gate(BooleanSupplier room) {
    this.room = room;
  }

  /**
   * Whether bytes that may hold commands wait here because the session had no room when they came.
   * A transport may deliver what was never asked for: io_uring reads a connection whose peer closed
   * or half-closed to its end, whatever the reader asked. Decoded at once, a flood of pipelined
   * commands would go upstream past the session's limits and hold its event loop (every other
   * client on it) until done; kept as bytes, it costs its size and waits its turn.
   */
  boolean holding() {
    return holding;
  }

  /** Decodes what was held, now that the session has room; not from within a read. */
  void decodeHeld() {
    if (!holding || reading || ctx == null || ctx.isRemoved()) {
      return;
    }
    try {
      channelRead(ctx, Unpooled.EMPTY_BUFFER);
    } catch (Exception e) {
      ctx.fireExceptionCaught(e);
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    this.ctx = ctx;
    super.handlerAdded(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    reading = true;
    try {
      super.channelRead(ctx, msg);
    } finally {
      reading = false;
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (holding) {
      // Held: no read for more (the decoder would ask for one when nothing came out of it).
      discardSomeReadBytes();
      ctx.fireChannelReadComplete();
      return;
    }
    super.channelReadComplete(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (holding && evt instanceof ChannelInputShutdownEvent) {
      // The client half-closed with commands held: they stay for the session (the decoder would
      // decode them now, past the session's room, and drop what it could not).
      ctx.fireUserEventTriggered(evt);
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    holding = !room.getAsBoolean();
    if (holding) {
      return;
    }
    long now = System.nanoTime();
    while (in.isReadable()) {
      if (in.readableBytes() < needed) {
        return;
      }
      needed = 0;
      int before = in.readerIndex();
      RedisCommand cmd;
      try {
        cmd = parse(in, now);
      } catch (RespException e) {
        failed = true;
        in.skipBytes(in.readableBytes());
        throw e;
      }
      if (cmd != null) {
        out.add(cmd);
      } else if (in.readerIndex() == before) {
        return; // not all there yet
      }
      // else an empty command was skipped: go on with what follows
    }
  }

  /**
   * One command from {@code in}, consuming it; {@code null} when it is not all there yet (nothing
   * consumed) or was empty (skipped, as Redis does).
   */
  RedisCommand parse(ByteBuf in, long now) {
    int start = in.readerIndex();
    if (in.getByte(start) != '*') {
      return inline(in, start, now);
    }
    long count;
    long i;
    int pos;
    CommandNames.Name name;
    int keyAt;
    int keyLength;
    if (partCount > 0) {
      // An array begun in an earlier read: go on from its first element not yet whole, so a long
      // array arriving in many reads is scanned once.
      count = partCount;
      i = partIndex;
      pos = start + partOffset;
      name = partName;
      keyAt = partKeyAt;
      keyLength = partKeyLength;
    } else {
      int cr = headerEnd(in, start, "too big mbulk count string");
      if (cr < 0) {
        return null;
      }
      count = string2ll(in, start + 1, cr);
      if (count == INCOMPLETE || count > Integer.MAX_VALUE) {
        throw new RespException("invalid multibulk length");
      }
      pos = cr + 2;
      if (count <= 0) {
        in.readerIndex(pos);
        return null;
      }
      i = 0;
      name = null;
      keyAt = -1;
      keyLength = 0;
    }
    for (; i < count; i++) {
      if (pos - start > maxCommand) {
        throw new RespException("too big command (above the query buffer limit)");
      }
      long len = pos >= in.writerIndex() ? INCOMPLETE : bulkHeader(in, pos);
      long end = len == INCOMPLETE ? 0 : pos + headerLength + len + 2; // 2 bytes skipped unseen
      if (len == INCOMPLETE || end > in.writerIndex()) {
        if (end - start > maxCommand) {
          throw new RespException("too big command (above the query buffer limit)");
        }
        needed = end == 0 ? 0 : end - start;
        partCount = count;
        partIndex = i;
        partOffset = pos - start;
        partName = name;
        partKeyAt = keyAt;
        partKeyLength = keyLength;
        return null;
      }
      int data = pos + headerLength;
      if (i == 0) {
        name = lookupName(in, data, (int) len);
      } else if (i == 1) {
        keyAt = data - start;
        keyLength = (int) len;
      }
      pos = (int) end;
    }
    partCount = 0;
    partName = null;
    int length = pos - start;
    in.skipBytes(length);
    return new RedisCommand(name, in.retain(), start, length, keyAt, keyLength, now);
  }

  /**
   * The index of the {@code \r} ending the header line at {@code from}, once the byte after it is
   * in too; -1 when not all read; a protocol error when there is none in Redis's inline limit.
   */
  private static int headerEnd(ByteBuf in, int from, String tooBig) {
    int limit = Math.min(in.writerIndex(), from + MAX_INLINE + 1);
    int cr = in.indexOf(from, limit, (byte) '\r');
    if (cr < 0) {
      if (in.writerIndex() - from > MAX_INLINE) {
        throw new RespException(tooBig);
      }
      return -1;
    }
    return cr + 1 < in.writerIndex() ? cr : -1;
  }

  /**
   * The length in the bulk string header {@code $<length>\r?} at {@code pos}, copied up to its
   * {@code \r} into {@link #scratch}, which also says how long the header is ({@link
   * #headerLength}); {@link #INCOMPLETE} when it is not all there.
   */
  private long bulkHeader(ByteBuf in, int pos) {
    int n = Math.min(scratch.length, in.writerIndex() - pos);
    int cr = 0;
    while (cr < n && (scratch[cr] = in.getByte(pos + cr)) != '\r') {
      cr++;
    }
    if (cr >= n - 1) { // no \r, or not the byte after it: a long header, or not all there
      int at = headerEnd(in, pos, "too big bulk count string");
      if (at < 0) {
        return INCOMPLETE;
      }
      if (scratch[0] != '$') {
        throw new RespException("expected '$', got '" + shown(scratch[0]) + "'");
      }
      if (at - pos >= scratch.length) {
        throw new RespException("invalid bulk length"); // more digits than any valid length
      }
      cr = at - pos;
    }
    if (scratch[0] != '$') {
      throw new RespException("expected '$', got '" + shown(scratch[0]) + "'");
    }
    long v = string2ll(scratch, 1, cr);
    if (v == INCOMPLETE || v < 0 || v > maxBulk) {
      throw new RespException("invalid bulk length");
    }
    headerLength = cr + 2;
    return v;
  }

  /** The command name at {@code from}: copied once, then looked up without allocating. */
  private CommandNames.Name lookupName(ByteBuf in, int from, int length) {
    if (length > scratch.length) {
      return CommandNames.of(
          in.toString(from, Math.min(length, 64), StandardCharsets.ISO_8859_1)
              .toLowerCase(java.util.Locale.ROOT));
    }
    copy(in, from, length);
    return CommandNames.lookup(scratch, length);
  }

  /**
   * An inline command: one line up to {@code \n} (a {@code \r} before it is dropped), split into
   * words as Redis splits them, and forwarded as a RESP array.
   */
  private RedisCommand inline(ByteBuf in, int start, long now) {
    int limit = Math.min(in.writerIndex(), start + MAX_INLINE + 1);
    int lf = in.indexOf(start, limit, (byte) '\n');
    if (lf < 0) {
      if (in.writerIndex() - start > MAX_INLINE) {
        throw new RespException("too big inline request");
      }
      return null;
    }
    int end = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
    var line = new byte[end - start];
    in.getBytes(start, line);
    var words = splitArgs(line);
    if (words == null) {
      throw new RespException("unbalanced quotes in request");
    }
    in.readerIndex(lf + 1);
    if (words.isEmpty()) {
      return null;
    }
    var frame = in.alloc().buffer(line.length + 16 * words.size());
    frame
        .writeByte('*')
        .writeCharSequence(Integer.toString(words.size()), StandardCharsets.US_ASCII);
    frame.writeShort(('\r' << 8) | '\n');
    for (var w : words) {
      frame.writeByte('$').writeCharSequence(Integer.toString(w.length), StandardCharsets.US_ASCII);
      frame.writeShort(('\r' << 8) | '\n').writeBytes(w).writeShort(('\r' << 8) | '\n');
    }
    var first = words.get(0);
    var name =
        first.length <= scratch.length
            ? CommandNames.lookup(first, first.length)
            : CommandNames.of(
                new String(first, 0, Math.min(first.length, 64), StandardCharsets.ISO_8859_1)
                    .toLowerCase(java.util.Locale.ROOT));
    var key = words.size() > 1 ? new String(words.get(1), StandardCharsets.UTF_8) : "";
    return new RedisCommand(name, key, frame, now);
  }

  /**
   * Redis's {@code sdssplitargs}: words separated by blanks, {@code "..."} with backslash escapes
   * ({@code \n \r \t \b \a \xHH}), {@code '...'} with {@code \'}; a closing quote must be followed
   * by a blank or the end. {@code null} for unbalanced quotes.
   */
  static List<byte[]> splitArgs(byte[] line) {
    var args = new ArrayList<byte[]>();
    int p = 0;
    int n = line.length;
    while (true) {
      while (p < n && line[p] != 0 && isSpace(line[p])) {
        p++;
      }
      if (p >= n || line[p] == 0) {
        return args;
      }
      var current = new ByteArrayOutputStream();
      boolean inq = false;
      boolean insq = false;
      boolean done = false;
      while (!done) {
        int c = p < n ? line[p] : 0;
        int next = p + 1 < n ? line[p + 1] : 0;
        if (inq) {
          if (c == '\\'
              && next == 'x'
              && p + 3 < n
              && hex(line[p + 2]) >= 0
              && hex(line[p + 3]) >= 0) {
            current.write(hex(line[p + 2]) * 16 + hex(line[p + 3]));
            p += 3;
          } else if (c == '\\' && next != 0) {
            p++;
            current.write(
                switch (next) {
                  case 'n' -> '\n';
                  case 'r' -> '\r';
                  case 't' -> '\t';
                  case 'b' -> '\b';
                  case 'a' -> 7;
                  default -> next;
                });
          } else if (c == '"') {
            if (next != 0 && !isSpace((byte) next)) {
              return null;
            }
            done = true;
          } else if (c == 0) {
            return null;
          } else {
            current.write(c);
          }
        } else if (insq) {
          if (c == '\\' && next == '\'') {
            p++;
            current.write('\'');
          } else if (c == '\'') {
            if (next != 0 && !isSpace((byte) next)) {
              return null;
            }
            done = true;
          } else if (c == 0) {
            return null;
          } else {
            current.write(c);
          }
        } else {
          switch (c) {
            case ' ', '\n', '\r', '\t', 0 -> done = true;
            case '"' -> inq = true;
            case '\'' -> insq = true;
            default -> current.write(c);
          }
        }
        if (p < n && line[p] != 0) {
          p++;
        }
      }
      args.add(current.toByteArray());
    }
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == 0x0b || b == '\f';
  }

  private static int hex(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    return -1;
  }

  /**
   * Redis's {@code string2ll} on {@code in[from, to)}: an optional {@code -}, then digits without a
   * leading zero (or a lone {@code 0}), at most 20 characters, within a long; {@link #INCOMPLETE}
   * when it is none of that.
   */
  private long string2ll(ByteBuf in, int from, int to) {
    int len = to - from;
    if (len <= 0 || len > 20) {
      return INCOMPLETE;
    }
    copy(in, from, len);
    return string2ll(scratch, 0, len);
  }

  /**
   * {@code in[from, from + length)} into {@link #scratch}, a byte at a time: {@code getBytes} into
   * an array makes a {@code ByteBuffer} view of a direct buffer per call when Netty runs without
   * {@code sun.misc.Unsafe} (the default on newer JDKs), an allocation per header read.
   */
  private void copy(ByteBuf in, int from, int length) {
    for (int i = 0; i < length; i++) {
      scratch[i] = in.getByte(from + i);
    }
  }

  private static long string2ll(byte[] b, int from, int to) {
    int len = to - from;
    if (len <= 0 || len > 20) {
      return INCOMPLETE;
    }
    if (len == 1 && b[from] == '0') {
      return 0;
    }
    int i = from;
    boolean negative = b[i] == '-';
    if (negative && ++i == to) {
      return INCOMPLETE;
    }
    if (b[i] < '1' || b[i] > '9') {
      return INCOMPLETE;
    }
    long v = 0;
    for (; i < to; i++) {
      if (b[i] < '0' || b[i] > '9') {
        return INCOMPLETE;
      }
      int d = b[i] - '0';
      if (v > (Long.MAX_VALUE - d) / 10) {
        return INCOMPLETE;
      }
      v = v * 10 + d;
    }
    return negative ? -v : v;
  }

  /** A byte as Redis prints it in an error line: as is, but no line break. */
  private static String shown(byte b) {
    return b == '\r' || b == '\n' ? " " : String.valueOf((char) (b & 0xff));
  }
}
