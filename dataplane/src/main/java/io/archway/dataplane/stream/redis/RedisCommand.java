package io.archway.dataplane.stream.redis;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

/**
 * One command from a client: its name (lower case), its first argument (the key, for most commands;
 * {@code ""} when there is none) and its bytes exactly as received, forwarded unchanged.
 */
public final class RedisCommand extends AbstractReferenceCounted {

  private final String name;
  private final String key;
  private final ByteBuf frame;
  private final long arrived;

  RedisCommand(String name, String key, ByteBuf frame, long arrived) {
    this.name = name;
    this.key = key;
    this.frame = frame;
    this.arrived = arrived;
  }

  public String name() {
    return name;
  }

  public String key() {
    return key;
  }

  /** The command's bytes; written on, they pass to the writer (one release in all). */
  public ByteBuf frame() {
    return frame;
  }

  /** {@link System#nanoTime()} when the command had been read whole. */
  public long arrived() {
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
