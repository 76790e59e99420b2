package io.archway.dataplane.stream.redis;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.support.Histogram;

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

  /** A command answered, for the loggers: the key only when a logger may want it. */
  record Pending(String name, String key, long arrived) {}

  // A ring of the commands owed a reply, oldest at head, in parallel arrays: no object per command.
  private String[] names = new String[16];
  private String[] keys = new String[16];
  private long[] arrivals = new long[16];
  private int head;
  private int count;
  private final CompiledStream route;
  private final CommandLog log;
  private final boolean logs; // the route has loggers: keys are kept, answered commands logged
  private boolean unmatched;

  AwaitedReplies(CompiledStream route, CommandLog log) {
    this.route = route;
    this.log = log;
    this.logs = !route.redis().loggers().isEmpty();
  }

  /** {@code c} went out on the shared link. */
  void sentOnLink(RedisCommand c) {
    add(c);
  }

  /** {@code c} went out on the session's own connection. */
  void sentOnOwn(RedisCommand c) {
    if (!unmatched) {
      add(c);
      unmatched = c.startsPushes();
    }
  }

  private void add(RedisCommand c) {
    if (count == names.length) {
      grow();
    }
    int at = (head + count) & (names.length - 1);
    names[at] = c.name();
    keys[at] = logs ? c.key() : "";
    arrivals[at] = c.arrived();
    count++;
  }

  private void grow() {
    int n = names.length;
    var newNames = new String[n * 2];
    var newKeys = new String[n * 2];
    var newArrivals = new long[n * 2];
    for (int i = 0; i < n; i++) {
      int from = (head + i) & (n - 1);
      newNames[i] = names[from];
      newKeys[i] = keys[from];
      newArrivals[i] = arrivals[from];
    }
    names = newNames;
    keys = newKeys;
    arrivals = newArrivals;
    head = 0;
  }

  /** Whether replies are no longer matched to commands (after pushes began, or bad replies). */
  boolean unmatched() {
    return unmatched;
  }

  /** The server sent something that is not RESP: it is passed on, but no longer matched. */
  void stopMatching() {
    unmatched = true;
    clear();
  }

  /** Whether nothing more is owed that the session must wait for. */
  boolean settled() {
    return count == 0 || unmatched;
  }

  boolean isEmpty() {
    return count == 0;
  }

  int size() {
    return count;
  }

  /** Forgets every command owed a reply, and tells how many there were. */
  int clear() {
    int n = count;
    for (int i = 0; i < n; i++) {
      int at = (head + i) & (names.length - 1);
      names[at] = null;
      keys[at] = null;
    }
    head = 0;
    count = 0;
    return n;
  }

  /** {@code replies} replies came in: their commands are timed and logged. */
  void answered(int replies) {
    if (replies == 0) {
      return;
    }
    long now = System.nanoTime();
    var stats = route.stats();
    int mask = names.length - 1;
    String last = null; // names are shared Strings (CommandNames): runs of one command look up once
    Histogram histogram = null;
    for (int i = 0; i < replies && count > 0; i++) {
      var name = names[head];
      var key = keys[head];
      long nanos = now - arrivals[head];
      names[head] = null;
      keys[head] = null;
      head = (head + 1) & mask;
      count--;
      if (name != last) {
        last = name;
        histogram = stats.command(name);
      }
      histogram.observe(nanos);
      if (logs) {
        log.log(new Pending(name, key, now - nanos), nanos);
      }
    }
  }
}
