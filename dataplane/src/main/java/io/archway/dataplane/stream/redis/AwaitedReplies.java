package io.archway.dataplane.stream.redis;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.config.RedisProtocol;
import java.util.ArrayDeque;

/**
 * The commands of one {@link RedisSession} that are still owed a reply, oldest first: replies come
 * back in the order commands went out, so each reply ends the oldest one, which is then timed for
 * the route's latency histogram and offered to its loggers ({@link CommandLog}).
 *
 * <p>After a command that turns a RESP2 connection into a stream of pushes ({@code SUBSCRIBE},
 * {@code MONITOR}, ...) replies no longer answer commands, so on a connection of its own matching
 * stops there ({@link #unmatched}); a shared link never carries such commands.
 */
final class AwaitedReplies {

  /** What is kept of a command until its reply: the key only when a logger may want it. */
  record Pending(String name, String key, long arrived) {}

  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final CompiledStream route;
  private final RedisProtocol protocol;
  private final CommandLog log;
  private boolean unmatched;

  AwaitedReplies(CompiledStream route, CommandLog log) {
    this.route = route;
    this.protocol = route.redis();
    this.log = log;
  }

  /** {@code c} went out on the shared link. */
  void sentOnLink(RedisCommand c) {
    pending.add(pending(c));
  }

  /** {@code c} went out on the session's own connection. */
  void sentOnOwn(RedisCommand c) {
    if (!unmatched) {
      pending.add(pending(c));
      unmatched = c.startsPushes();
    }
  }

  private Pending pending(RedisCommand c) {
    return new Pending(c.name(), protocol.loggers().isEmpty() ? "" : c.key(), c.arrived());
  }

  /** Whether replies are no longer matched to commands (after pushes began, or bad replies). */
  boolean unmatched() {
    return unmatched;
  }

  /** The server sent something that is not RESP: it is passed on, but no longer matched. */
  void stopMatching() {
    unmatched = true;
    pending.clear();
  }

  /** Whether nothing more is owed that the session must wait for. */
  boolean settled() {
    return pending.isEmpty() || unmatched;
  }

  boolean isEmpty() {
    return pending.isEmpty();
  }

  int size() {
    return pending.size();
  }

  /** Forgets every command owed a reply, and tells how many there were. */
  int clear() {
    int n = pending.size();
    pending.clear();
    return n;
  }

  /** {@code replies} replies came in: their commands are timed and logged. */
  void answered(int replies) {
    if (replies == 0) {
      return;
    }
    long now = System.nanoTime();
    for (int i = 0; i < replies; i++) {
      var p = pending.poll();
      if (p == null) {
        return;
      }
      long nanos = now - p.arrived();
      route.stats().command(p.name()).observe(nanos);
      if (!protocol.loggers().isEmpty()) {
        log.log(p, nanos);
      }
    }
  }
}
