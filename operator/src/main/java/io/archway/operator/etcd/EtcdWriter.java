package io.archway.operator.etcd;

import io.archway.model.Keys.Key;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.operator.translate.Translation;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies what a resource translated to: puts the items whose content changed, deletes the keys it
 * owned before and no longer wants. Which keys each resource owns is read from etcd once at
 * start-up (their labels) and kept up to date here, so a reconcile costs one read per key it
 * writes, never a scan of the prefix.
 *
 * <p>Called from reconciler threads; the framework never runs two reconciles of one resource at
 * once, so each owner's entry has one writer at a time.
 */
public final class EtcdWriter {

  private static final Logger LOG = LoggerFactory.getLogger(EtcdWriter.class);

  /** What one {@link #apply} did. */
  public record Applied(int created, int updated, int unchanged, int deleted, List<String> keys) {}

  private final EtcdConfigSink sink;
  private final Map<String, Set<Key>> owned = new ConcurrentHashMap<>();
  private final AtomicLong puts = new AtomicLong();
  private final Supplier<Predicate<Owner>> existing;
  private volatile boolean loaded;
  private volatile boolean fenced;
  // The incarnations (owner and uid) known to be gone, and since when (System.nanoTime()): their
  // keys were removed by the start-up resync or by deleted(), and a reconcile that read the
  // resource before it went must not write them again. Forgotten after GONE_FOR.
  private final java.util.LinkedHashMap<String, Long> gone = new java.util.LinkedHashMap<>();
  private final AtomicLong deletes = new AtomicLong();
  private volatile java.util.concurrent.ScheduledExecutorService deleter;

  /**
   * How long a gone incarnation is remembered: far longer than a reconcile that read it before it
   * went can take to reach its write.
   */
  static final java.time.Duration GONE_FOR = java.time.Duration.ofMinutes(10);

  /**
   * @param existing answers whether a key's owner still exists; asked once, at the first write, to
   *     remove the keys of resources deleted while no operator ran
   */
  public EtcdWriter(EtcdConfigSink sink, Supplier<Predicate<Owner>> existing) {
    this.sink = sink;
    this.existing = existing;
  }

  /**
   * Before the first write, from one read of every Archway-managed key: removes the keys of
   * resources deleted while no operator ran, and records which keys each remaining resource owns.
   * Which resources exist is asked after etcd is read, so a resource created meanwhile is in the
   * answer and keeps its keys; keys without Archway's label are never looked at. Throws while etcd
   * is unreachable, so the reconcile that asked is retried.
   */
  private synchronized void ensureLoaded() throws Exception {
    if (loaded) {
      return;
    }
    long start = System.nanoTime();
    var items = sink.listManaged();
    var exists = existing.get();
    var removed = new TreeSet<String>();
    owned.clear();
    for (var item : items) {
      if (exists.test(item.owner())) {
        owned
            .computeIfAbsent(ownerKey(item.owner()), k -> ConcurrentHashMap.newKeySet())
            .add(item.key());
      } else {
        checkNotFenced();
        markGone(item.owner());
        if (sink.delete(item.key().kind(), item.key().id(), item.owner())) {
          deletes.incrementAndGet();
        }
        removed.add(item.owner().toString());
      }
    }
    if (!removed.isEmpty()) {
      LOG.info(
          "removed the etcd keys of {} resource(s) deleted meanwhile: {}", removed.size(), removed);
    }
    LOG.info(
        "{} Archway-managed etcd key(s) read, {} resource(s) owning them, in {} ms",
        items.size(),
        owned.size(),
        (System.nanoTime() - start) / 1_000_000);
    loaded = true;
  }

  /**
   * Refuses every write from now on: a replica that lost its Lease must not write next to the new
   * leader, not even the reconciles it has in flight (each write checks first).
   */
  public void fence() {
    fenced = true;
  }

  public boolean fenced() {
    return fenced;
  }

  private void checkNotFenced() {
    if (fenced) {
      throw new IllegalStateException("not the leader any more: not writing to etcd");
    }
  }

  public Applied apply(Owner owner, List<Translation.Item> items) throws Exception {
    checkNotFenced();
    ensureLoaded();
    var before = owned.computeIfAbsent(ownerKey(owner), k -> ConcurrentHashMap.newKeySet());
    // One apply or deletion of a name at a time (the framework runs one reconcile of a resource at
    // a time, but a deletion reported by the informer runs beside it).
    synchronized (before) {
      if (isGone(owner)) {
        // A reconcile that read the resource before it went: the resource is gone (without a
        // finalizer to say so), its keys were removed, and must not come back. The same name
        // created again has another uid and is written.
        LOG.debug("{}: deleted meanwhile; not written", owner);
        return new Applied(0, 0, 0, deleteIncarnation(owner, before), List.of());
      }
      return write(owner, items, before);
    }
  }

  private Applied write(Owner owner, List<Translation.Item> items, Set<Key> before)
      throws Exception {
    int created = 0;
    int updated = 0;
    int unchanged = 0;
    var wanted = new HashSet<Key>();
    var keys = new TreeSet<String>();
    for (var item : items) {
      var key = new Key(item.kind(), item.object().id());
      wanted.add(key);
      keys.add(key.toString());
      checkNotFenced();
      switch (sink.putIfChanged(item.kind(), item.object(), owner)) {
        case CREATED -> created++;
        case UPDATED -> updated++;
        case UNCHANGED -> unchanged++;
      }
      before.add(key);
      puts.incrementAndGet();
    }
    int deleted = 0;
    for (var key : List.copyOf(before)) {
      if (!wanted.contains(key)) {
        checkNotFenced();
        if (sink.delete(key.kind(), key.id(), owner)) {
          deleted++;
          deletes.incrementAndGet();
        }
        before.remove(key);
      }
    }
    return new Applied(created, updated, unchanged, deleted, List.copyOf(keys));
  }

  /** Deletes every key {@code owner} has; returns how many. */
  public int deleteAll(Owner owner) throws Exception {
    return apply(owner, List.of()).deleted();
  }

  /**
   * The informer reported that resource gone (this incarnation: {@code owner} with its uid). Its
   * finalizer may never have run (deleted before it was added, taken off by hand, or dropped by a
   * replace), and a reconcile that read it before it went may still be writing: its keys are
   * deleted once that reconcile is done (they share the name's lock), and any later write of this
   * incarnation is refused. Only keys that still carry this uid are deleted: the same name created
   * again keeps what it wrote. Runs on the writer's own thread, retried with backoff while etcd
   * fails; returns at once.
   *
   * <p>Before this writer's first write nothing is deleted here: the start-up resync at that write
   * asks the API server, after this, and removes the keys then. A standby replica never writes.
   */
  public void deleted(Owner owner) {
    markGone(owner);
    deleteLater(owner, 0);
  }

  private void deleteLater(Owner owner, long delayMillis) {
    deleter()
        .schedule(
            () -> {
              synchronized (this) {
                // The resource is already gone from the API server: a resync yet to come sees it.
                if (!loaded || fenced) {
                  return;
                }
              }
              var keys = owned.get(ownerKey(owner));
              if (keys == null) {
                return;
              }
              try {
                int n;
                synchronized (keys) {
                  n = deleteIncarnation(owner, keys);
                }
                if (n > 0) {
                  LOG.info("{} (uid {}) gone: {} etcd key(s) deleted", owner, owner.uid(), n);
                }
              } catch (Exception e) {
                long next = Math.min(30_000, Math.max(500, delayMillis * 2));
                LOG.warn(
                    "{} gone, its etcd keys not deleted yet ({}); retrying in {} ms",
                    owner,
                    e.getMessage(),
                    next);
                deleteLater(owner, next);
              }
            },
            delayMillis,
            java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private java.util.concurrent.ScheduledExecutorService deleter() {
    var d = deleter;
    if (d == null) {
      synchronized (this) {
        d = deleter;
        if (d == null) {
          d =
              java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                  r -> {
                    var t = new Thread(r, "archway-etcd-deletes");
                    t.setDaemon(true);
                    return t;
                  });
          deleter = d;
        }
      }
    }
    return d;
  }

  /** Deletes the keys of {@code keys} that this incarnation wrote; the caller holds the lock. */
  private int deleteIncarnation(Owner owner, Set<Key> keys) throws Exception {
    int deleted = 0;
    for (var key : List.copyOf(keys)) {
      checkNotFenced();
      if (sink.deleteIncarnation(key.kind(), key.id(), owner)) {
        deleted++;
        deletes.incrementAndGet();
        keys.remove(key);
      } else if (sink.get(key.kind(), key.id()).isEmpty()) {
        keys.remove(key);
      }
    }
    return deleted;
  }

  private void markGone(Owner owner) {
    long now = System.nanoTime();
    synchronized (gone) {
      for (var it = gone.values().iterator(); it.hasNext(); ) {
        if (now - it.next() > GONE_FOR.toNanos()) {
          it.remove();
        } else {
          break;
        }
      }
      gone.remove(incarnation(owner));
      gone.put(incarnation(owner), now);
    }
  }

  private boolean isGone(Owner owner) {
    synchronized (gone) {
      return gone.containsKey(incarnation(owner));
    }
  }

  /** Stops the thread that deletes the keys of resources reported gone. */
  public void close() {
    var d = deleter;
    if (d != null) {
      d.shutdownNow();
    }
  }

  public long puts() {
    return puts.get();
  }

  public long deletes() {
    return deletes.get();
  }

  private static String incarnation(Owner o) {
    return ownerKey(o) + "/" + o.uid();
  }

  private static String ownerKey(Owner o) {
    return o.kind() + "/" + o.namespace() + "/" + o.name();
  }
}
