package io.archway.dataplane.stream.redis;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import java.nio.charset.StandardCharsets;

/**
 * One command from a client: its name (lower case), its first argument (the key, for most commands;
 * {@code ""} when there is none) and its bytes exactly as received, forwarded unchanged. The key is
 * decoded only when asked for (by a fault rule for the command, or a logger), and only before the
 * bytes are written on.
 */
final class RedisCommand extends AbstractReferenceCounted {

  static final int MAX_KEY_COPY = 1024;

  private final CommandNames.Name name;
  private final ByteBuf frame;
  private final int keyOffset; // within the frame; -1 when there is no key
  private final int keyLength;
  private final long arrived;
  // What the frame is a slice of, and where in it the frame starts (null for a frame of its own):
  // commands side by side in one read can go on as one slice ({@link SessionCommands}).
  private final ByteBuf source;
  private final int sourceIndex;
  private String key;

  RedisCommand(
      CommandNames.Name name,
      ByteBuf frame,
      int keyOffset,
      int keyLength,
      long arrived,
      ByteBuf source,
      int sourceIndex) {
    this.name = name;
    this.frame = frame;
    this.keyOffset = keyOffset;
    this.keyLength = keyLength;
    this.arrived = arrived;
    this.source = source;
    this.sourceIndex = sourceIndex;
  }

  RedisCommand(CommandNames.Name name, String key, ByteBuf frame, long arrived) {
    this(name, frame, -1, 0, arrived, null, 0);
    this.key = key;
  }

  String name() {
    return name.name();
  }

  /** Whether the command changes or depends on its server connection's state. */
  boolean needsOwnConnection() {
    return name.needsOwnConnection();
  }

  /** Whether, on RESP2, messages that answer no command follow it. */
  boolean startsPushes() {
    return name.startsPushes();
  }

  /** Whether Redis closes the connection that sends it ({@code POST}, {@code Host:}). */
  boolean closes() {
    return name.closes();
  }

  boolean quits() {
    return name.quits();
  }

  String key() {
    if (key == null) {
      key =
          keyOffset < 0
              ? ""
              : frame.toString(
                  frame.readerIndex() + keyOffset,
                  Math.min(keyLength, MAX_KEY_COPY),
                  StandardCharsets.UTF_8);
    }
    return key;
  }

  /**
   * Argument {@code index} (0 is the name) as text, read from the frame; {@code null} when there is
   * none. For the few commands whose arguments the proxy acts on ({@code CLIENT PAUSE}): it parses
   * the frame again.
   */
  String arg(int index) {
    int i = frame.readerIndex();
    int end = frame.writerIndex();
    int cr = frame.indexOf(i, end, (byte) '\r');
    if (cr < 0 || frame.getByte(i) != '*') {
      return null;
    }
    int count = Integer.parseInt(frame.toString(i + 1, cr - i - 1, StandardCharsets.US_ASCII));
    i = cr + 2;
    for (int n = 0; n < count && i < end; n++) {
      cr = frame.indexOf(i, end, (byte) '\r');
      int len = Integer.parseInt(frame.toString(i + 1, cr - i - 1, StandardCharsets.US_ASCII));
      if (n == index) {
        return frame.toString(cr + 2, Math.min(len, MAX_KEY_COPY), StandardCharsets.UTF_8);
      }
      i = cr + 2 + len + 2;
    }
    return null;
  }

  /** The command's bytes; written on, they pass to the writer (one release in all). */
  ByteBuf frame() {
    return frame;
  }

  /**
   * The buffer the frame is a slice of (kept alive by the frame), or null when the frame is a
   * buffer of its own; compared by identity only.
   */
  ByteBuf source() {
    return source;
  }

  /** Where the frame starts in {@link #source}. */
  int sourceIndex() {
    return sourceIndex;
  }

  /** {@link System#nanoTime()} when the read that completed the command began to be decoded. */
  long arrived() {
    return arrived;
  }

  @Override
  protected void deallocate() {
    frame.release();
  }

  @Override
  public ReferenceCounted touch(Object hint) {
    frame.touch(hint);
    return this;
  }
}
