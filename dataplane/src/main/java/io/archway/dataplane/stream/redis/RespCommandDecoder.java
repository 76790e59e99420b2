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

  private final long maxBulk;
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
      if (in.getByte(pos) != '$') {
        throw new RespException("expected '$', got '" + printable(in.getByte(pos)) + "'");
      }
      int e = lineEnd(in, pos, 32);
      if (e < 0) {
        return null;
      }
      long len = number(in, pos + 1, e, "invalid bulk length");
      if (len < 0 || len > maxBulk) {
        throw new RespException("invalid bulk length");
      }
      int data = e + 2;
      long end = data + len + 2;
      if (end > in.writerIndex()) {
        needed = end - start;
        return null;
      }
      if (in.getByte((int) (end - 2)) != '\r' || in.getByte((int) (end - 1)) != '\n') {
        throw new RespException("bulk string not followed by CRLF");
      }
      if (i == 0) {
        name = CommandNames.lookup(in, data, (int) len);
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
