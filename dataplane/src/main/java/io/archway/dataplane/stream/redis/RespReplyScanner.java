package io.archway.dataplane.stream.redis;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Follows a Redis server's replies as they stream past, without holding them: each chunk is fed
 * once and forwarded untouched, and the scanner says how many top-level replies ended in it. It
 * knows RESP2 and RESP3 (maps, sets, attributes, pushes, doubles, big numbers, verbatim strings),
 * so {@code HELLO 3} connections are followed too. RESP3 pushes ({@code >}) are counted apart: they
 * answer no command.
 */
final class RespReplyScanner {

  private static final int MAX_LINE = 64 * 1024;
  private static final int MAX_DEPTH = 128;

  // A header line split across chunks: its first part, kept until the rest comes.
  private final ByteBuf partial = Unpooled.buffer(64, MAX_LINE);
  private long skip; // bulk bytes (and their CRLF) still to pass
  private final long[] remaining = new long[MAX_DEPTH];
  private final boolean[] attribute = new boolean[MAX_DEPTH];
  private int depth;
  private boolean topIsPush;
  private int replies;
  private int pushes;

  /** Replies that ended in the chunks fed since the last call. */
  int takeReplies() {
    int n = replies;
    replies = 0;
    return n;
  }

  /** Pushes that ended in the chunks fed since the last call. */
  int takePushes() {
    int n = pushes;
    pushes = 0;
    return n;
  }

  /** Reads {@code buf}'s readable bytes without consuming them. */
  void feed(ByteBuf buf) {
    scan(buf, buf.readerIndex(), buf.writerIndex(), false);
  }

  /**
   * Reads {@code buf} from {@code from} to {@code to} until a top-level reply ends, and returns the
   * index just past that reply; -1 when none ended (everything up to {@code to} was read, and the
   * reply in progress goes on in the next chunk). Nothing is consumed.
   */
  int next(ByteBuf buf, int from, int to) {
    return scan(buf, from, to, true);
  }

  private int scan(ByteBuf buf, int from, int end, boolean stopAtReply) {
    int i = from;
    int before = replies;
    while (i < end) {
      if (skip > 0) {
        int n = (int) Math.min(skip, end - i);
        i += n;
        skip -= n;
        if (skip == 0) {
          completed();
        }
      } else {
        int nl = buf.indexOf(i, end, (byte) '\n');
        int to = nl < 0 ? end : nl + 1;
        if (partial.readableBytes() + (to - i) > MAX_LINE) {
          throw new RespException("reply line too long");
        }
        if (nl < 0) {
          partial.writeBytes(buf, i, to - i);
        } else if (partial.isReadable()) {
          partial.writeBytes(buf, i, to - i);
          header(partial, partial.readerIndex(), partial.writerIndex());
          partial.clear();
        } else {
          header(buf, i, to);
        }
        i = to;
      }
      if (stopAtReply && replies != before) {
        replies = before;
        return i;
      }
    }
    return -1;
  }

  /** The header line in {@code b} from {@code from} to {@code to} (past its LF). */
  private void header(ByteBuf b, int from, int to) {
    if (to - from < 3 || b.getByte(to - 2) != '\r') {
      throw new RespException("reply line not ended by CRLF");
    }
    char type = (char) (b.getByte(from) & 0xff);
    if (depth == 0) {
      topIsPush = type == '>';
    }
    switch (type) {
      case '+', '-', ':', '_', ',', '#', '(' -> completed();
      case '$', '!', '=' -> {
        long n = number(b, from + 1, to - 2);
        if (n < 0) {
          completed(); // RESP2 null bulk string
        } else {
          skip = n + 2;
        }
      }
      case '*', '~', '>' -> open(number(b, from + 1, to - 2), false);
      case '%' -> open(number(b, from + 1, to - 2) * 2, false);
      case '|' -> open(number(b, from + 1, to - 2) * 2, true);
      default -> throw new RespException("unknown reply type '" + type + "'");
    }
  }

  private void open(long elements, boolean isAttribute) {
    if (elements <= 0) {
      if (!isAttribute) {
        completed();
      }
      return;
    }
    if (depth == MAX_DEPTH) {
      throw new RespException("reply nested too deep");
    }
    remaining[depth] = elements;
    attribute[depth] = isAttribute;
    depth++;
  }

  /** An element ended: close the aggregates it finished, and count a top-level reply. */
  private void completed() {
    while (depth > 0) {
      if (--remaining[depth - 1] > 0) {
        return;
      }
      depth--;
      if (attribute[depth]) {
        return; // an attribute comes before the reply it describes, and is not one itself
      }
    }
    if (topIsPush) {
      pushes++;
    } else {
      replies++;
    }
  }

  private static long number(ByteBuf b, int from, int end) {
    long v = 0;
    int i = from;
    boolean negative = i < end && b.getByte(i) == '-';
    if (negative) {
      i++;
    }
    if (i >= end || end - i > 19) {
      throw new RespException("bad length in reply");
    }
    for (; i < end; i++) {
      byte c = b.getByte(i);
      if (c < '0' || c > '9') {
        throw new RespException("bad length in reply");
      }
      v = v * 10 + (c - '0');
    }
    return negative ? -v : v;
  }
}
