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
  // The command's bytes are source[sourceIndex, sourceIndex + length): the buffer it was read in,
  // held by this command (one reference, released with it), not a slice of its own. Commands side
  // by
  // side in one read go on as one slice of it ({@link SessionCommands}).
  private final ByteBuf source;
  private final int sourceIndex;
  private final int length;
  private final int keyOffset; // within the command's bytes; -1 when there is no key
  private final int keyLength;
  private final long arrived;
  private String key;

  /**
   * A command of {@code length} bytes at {@code sourceIndex} in {@code source}, holding one
   * reference to {@code source} that it passes on.
   */
  RedisCommand(
      CommandNames.Name name,
      ByteBuf source,
      int sourceIndex,
      int length,
      int keyOffset,
      int keyLength,
      long arrived) {
    this.name = name;
    this.source = source;
    this.sourceIndex = sourceIndex;
    this.length = length;
    this.keyOffset = keyOffset;
    this.keyLength = keyLength;
    this.arrived = arrived;
  }

  /** A command whose bytes are all of {@code frame} (its reference passed on). */
  RedisCommand(CommandNames.Name name, String key, ByteBuf frame, long arrived) {
    this(name, frame, frame.readerIndex(), frame.readableBytes(), -1, 0, arrived);
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
              : source.toString(
                  sourceIndex + keyOffset,
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
    var frame = source;
    int i = sourceIndex;
    int end = sourceIndex + length;
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

  /** The command's bytes, a view that holds no reference of its own. */
  ByteBuf frame() {
    return source.slice(sourceIndex, length);
  }

  /** The command's bytes as a slice holding a reference of its own, for the writer to release. */
  ByteBuf retainedFrame() {
    return source.retainedSlice(sourceIndex, length);
  }

  /**
   * The buffer the command was read in (its bytes are at {@link #sourceIndex}); compared by
   * identity.
   */
  ByteBuf source() {
    return source;
  }

  /** Where the command starts in {@link #source}. */
  int sourceIndex() {
    return sourceIndex;
  }

  /** How many bytes the command has. */
  int length() {
    return length;
  }

  /** {@link System#nanoTime()} when the read that completed the command began to be decoded. */
  long arrived() {
    return arrived;
  }

  @Override
  protected void deallocate() {
    source.release();
  }

  @Override
  public ReferenceCounted touch(Object hint) {
    source.touch(hint);
    return this;
  }
}
