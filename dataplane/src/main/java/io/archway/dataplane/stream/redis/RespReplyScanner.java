package io.archway.dataplane.stream.redis;

import io.netty.buffer.ByteBuf;

/**
 * Follows a Redis server's replies as they stream past, without holding them: each chunk is fed
 * once and forwarded untouched, and the scanner says how many top-level replies ended in it. It
 * knows RESP2 and RESP3 (maps, sets, attributes, pushes, doubles, big numbers, verbatim strings),
 * so {@code HELLO 3} connections are followed too. RESP3 pushes ({@code >}) are counted apart: they
 * answer no command.
 */
public final class RespReplyScanner {

  private static final int MAX_LINE = 64 * 1024;
  private static final int MAX_DEPTH = 128;

  private final StringBuilder line = new StringBuilder();
  private long skip; // bulk bytes (and their CRLF) still to pass
  private final long[] remaining = new long[MAX_DEPTH];
  private final boolean[] attribute = new boolean[MAX_DEPTH];
  private int depth;
  private boolean topIsPush;
  private int replies;
  private int pushes;

  /** Replies that ended in the chunks fed since the last call. */
  public int takeReplies() {
    int n = replies;
    replies = 0;
    return n;
  }

  /** Pushes that ended in the chunks fed since the last call. */
  public int takePushes() {
    int n = pushes;
    pushes = 0;
    return n;
  }

  /** Reads {@code buf}'s readable bytes without consuming them. */
  public void feed(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      if (skip > 0) {
        int n = (int) Math.min(skip, end - i);
        i += n;
        skip -= n;
        if (skip == 0) {
          completed();
        }
        continue;
      }
      int nl = buf.indexOf(i, end, (byte) '\n');
      int to = nl < 0 ? end : nl + 1;
      if (line.length() + (to - i) > MAX_LINE) {
        throw new RespException("reply line too long");
      }
      for (int j = i; j < to; j++) {
        line.append((char) (buf.getByte(j) & 0xff));
      }
      i = to;
      if (nl >= 0) {
        header();
        line.setLength(0);
      }
    }
  }

  private void header() {
    int len = line.length();
    if (len < 3 || line.charAt(len - 2) != '\r') {
      throw new RespException("reply line not ended by CRLF");
    }
    char type = line.charAt(0);
    if (depth == 0) {
      topIsPush = type == '>';
    }
    switch (type) {
      case '+', '-', ':', '_', ',', '#', '(' -> completed();
      case '$', '!', '=' -> {
        long n = number();
        if (n < 0) {
          completed(); // RESP2 null bulk string
        } else {
          skip = n + 2;
          if (skip == 0) {
            completed();
          }
        }
      }
      case '*', '~', '>' -> open(number(), false);
      case '%' -> open(number() * 2, false);
      case '|' -> open(number() * 2, true);
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

  private long number() {
    long v = 0;
    int end = line.length() - 2;
    int i = 1;
    boolean negative = i < end && line.charAt(i) == '-';
    if (negative) {
      i++;
    }
    if (i >= end || end - i > 19) {
      throw new RespException("bad length in reply");
    }
    for (; i < end; i++) {
      char c = line.charAt(i);
      if (c < '0' || c > '9') {
        throw new RespException("bad length in reply");
      }
      v = v * 10 + (c - '0');
    }
    return negative ? -v : v;
  }
}
