package io.archway.dataplane.server;

import io.archway.dataplane.admin.ConfigApplied;
import io.archway.dataplane.config.ConfigSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The Admin API's {@link ConfigApplied} over the config holder: subscribed after the compiler, so a
 * snapshot seen here has been compiled and is served. Waiters are kept by revision and completed by
 * the first snapshot at or past it; nothing polls and nothing blocks.
 */
final class AppliedRevisions implements ConfigApplied, Consumer<ConfigSnapshot> {

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final Object lock = new Object();
  // Guarded by lock.
  private long applied;
  private final TreeMap<Long, List<CompletableFuture<Void>>> waiting = new TreeMap<>();

  /** {@code current}: the revision compiled when the Admin API starts. */
  AppliedRevisions(long current) {
    this.applied = current;
  }

  @Override
  public CompletableFuture<Void> reached(long revision) {
    synchronized (lock) {
      if (applied >= revision) {
        return DONE;
      }
      var f = new CompletableFuture<Void>();
      waiting.computeIfAbsent(revision, r -> new ArrayList<>(1)).add(f);
      return f;
    }
  }

  /** On the config source's thread, after the compiler: this snapshot is served. */
  @Override
  public void accept(ConfigSnapshot snapshot) {
    var done = new ArrayList<CompletableFuture<Void>>();
    synchronized (lock) {
      // The snapshot's own revision, not the highest seen: after etcd is restored from a backup
      // the revision goes back, and writes must wait for the watch again.
      applied = snapshot.revision();
      var head = waiting.headMap(applied, true);
      head.values().forEach(done::addAll);
      head.clear();
    }
    // Outside the lock: completing runs the answers' next steps (they hand over to a loop).
    done.forEach(f -> f.complete(null));
  }

  /** Writes still waiting (for tests and metrics). */
  int waiting() {
    synchronized (lock) {
      return waiting.values().stream().mapToInt(List::size).sum();
    }
  }
}
