package io.archway.dataplane.stream.redis;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Splits a client's bytes into {@link RedisCommand}s: RESP arrays of bulk strings (what every
 * client library sends, in RESP2 and RESP3 alike) and inline commands ({@code PING\r\n}, as typed
 * into telnet). Nothing is copied out: the name is looked up in {@link CommandNames}, the key is
 * decoded only if asked for, and the command's bytes are a slice of what was read, forwarded
 * unchanged. Lengths are checked before anything is allocated for them: a bulk string above {@code
 * maxBulk} or an array above a million elements is a protocol error, as Redis itself has it.
 */
public final class RespCommandDecoder extends ByteToMessageDecoder {

  static final int MAX_INLINE = 64 * 1024;
  static final int MAX_ARRAY = 1024 * 1024;

  private static final short CRLF = ('\r' << 8) | '\n';
  private static final long INCOMPLETE = -1;

  private final long maxBulk;
  private final byte[] scratch = new byte[32];
  private int headerLength; // of the bulk string header read last
  // A command seen whole up to its header but not its last byte: wait until this many bytes are in.
  private long needed;

  /** {@code maxBulk} 0 (or above what a buffer can hold) means as much as a buffer can hold. */
  public RespCommandDecoder(long maxBulk) {
    long most = Integer.MAX_VALUE - 1024;
    this.maxBulk = maxBulk <= 0 || maxBulk > most ? most : maxBulk;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    long now = System.nanoTime();
    while (in.isReadable()) {
      if (in.readableBytes() < needed) {
        return;
      }
      needed = 0;
      int before = in.readerIndex();
      var cmd = parse(in, now);
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
    int eol = lineEnd(in, start, MAX_INLINE);
    if (eol < 0) {
      return null;
    }
    long count = number(in, start + 1, eol, "invalid multibulk length");
    if (count > MAX_ARRAY) {
      throw new RespException("invalid multibulk length");
    }
    int pos = eol + 2;
    if (count <= 0) {
      in.readerIndex(pos);
      return null;
    }
    CommandNames.Name name = null;
    int keyAt = -1;
    int keyLength = 0;
    for (long i = 0; i < count; i++) {
      if (pos >= in.writerIndex()) {
        return null;
      }
      long len = bulkHeader(in, pos);
      if (len == INCOMPLETE) {
        return null;
      }
      int data = pos + headerLength;
      long end = data + len + 2;
      if (end > in.writerIndex()) {
        needed = end - start;
        return null;
      }
      if (in.getShort((int) (end - 2)) != CRLF) {
        throw new RespException("bulk string not followed by CRLF");
      }
      if (i == 0) {
        name = lookupName(in, data, (int) len);
      } else if (i == 1) {
        keyAt = data - start;
        keyLength = (int) len;
      }
      pos = (int) end;
    }
    int length = pos - start;
    var frame = in.readRetainedSlice(length);
    return new RedisCommand(name, frame, keyAt, keyLength, now);
  }

  /**
   * The length in the bulk string header {@code $<length>\r\n} at {@code pos}, read with one copy
   * into {@link #scratch}, which also says how long the header is ({@link #headerLength}); {@link
   * #INCOMPLETE} when it is not all there.
   */
  private long bulkHeader(ByteBuf in, int pos) {
    int n = Math.min(scratch.length, in.writerIndex() - pos);
    in.getBytes(pos, scratch, 0, n);
    if (scratch[0] != '$') {
      throw new RespException("expected '$', got '" + printable(scratch[0]) + "'");
    }
    int lf = 1;
    while (lf < n && scratch[lf] != '\n') {
      lf++;
    }
    if (lf == n) {
      if (n == scratch.length) {
        throw new RespException("too big length");
      }
      return INCOMPLETE;
    }
    if (scratch[lf - 1] != '\r') {
      throw new RespException("line not ended by CRLF");
    }
    int to = lf - 1;
    if (to == 1 || to - 1 > 19) {
      throw new RespException("invalid bulk length");
    }
    long v = 0;
    for (int i = 1; i < to; i++) {
      byte b = scratch[i];
      if (b < '0' || b > '9') {
        throw new RespException("invalid bulk length"); // negative lengths included
      }
      v = v * 10 + (b - '0');
    }
    if (v > maxBulk) {
      throw new RespException("invalid bulk length");
    }
    headerLength = lf + 1;
    return v;
  }

  /** The command name at {@code from}: copied once, then looked up without allocating. */
  private CommandNames.Name lookupName(ByteBuf in, int from, int length) {
    if (length > scratch.length) {
      return CommandNames.of(
          in.toString(from, Math.min(length, 64), StandardCharsets.ISO_8859_1)
              .toLowerCase(java.util.Locale.ROOT));
    }
    in.getBytes(from, scratch, 0, length);
    return CommandNames.lookup(scratch, length);
  }

  private RedisCommand inline(ByteBuf in, int start, long now) {
    int eol = lineEnd(in, start, MAX_INLINE);
    if (eol < 0) {
      if (in.readableBytes() > MAX_INLINE) {
        throw new RespException("too big inline request");
      }
      return null;
    }
    var line = in.toString(start, eol - start, StandardCharsets.UTF_8).strip();
    if (line.isEmpty()) {
      in.readerIndex(eol + 2);
      return null;
    }
    var words = line.split("\\s+");
    var frame = in.readRetainedSlice(eol + 2 - start);
    return new RedisCommand(
        CommandNames.lookup(words[0]), words.length > 1 ? words[1] : "", frame, now);
  }

  /** The index of the {@code \r} ending the line at {@code from}, or -1 when not all read. */
  private static int lineEnd(ByteBuf in, int from, int max) {
    int limit = Math.min(in.writerIndex(), from + max);
    int cr = in.indexOf(from, limit, (byte) '\n');
    if (cr < 0) {
      if (limit - from >= max) {
        throw new RespException("too big " + (max == MAX_INLINE ? "inline request" : "length"));
      }
      return -1;
    }
    if (cr == from || in.getByte(cr - 1) != '\r') {
      throw new RespException("line not ended by CRLF");
    }
    return cr - 1;
  }

  private static long number(ByteBuf in, int from, int to, String error) {
    if (from >= to || to - from > 19) {
      throw new RespException(error);
    }
    boolean negative = in.getByte(from) == '-';
    int i = negative ? from + 1 : from;
    if (i >= to) {
      throw new RespException(error);
    }
    long v = 0;
    for (; i < to; i++) {
      byte b = in.getByte(i);
      if (b < '0' || b > '9') {
        throw new RespException(error);
      }
      v = v * 10 + (b - '0');
    }
    return negative ? -v : v;
  }

  private static String printable(byte b) {
    return b >= 32 && b < 127 ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
  }
}
