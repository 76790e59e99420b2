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
  // The owners (with their uid) whose keys the start-up resync removed: their resources are gone.
  private final Set<String> gone = ConcurrentHashMap.newKeySet();
  private final AtomicLong deletes = new AtomicLong();

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
        gone.add(incarnation(item.owner()));
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
    if (!items.isEmpty() && gone.contains(incarnation(owner))) {
      // A reconcile that read the resource before it went, and waited for the read above: the
      // resource is gone (without a finalizer to say so), its keys were just removed, and must not
      // come back. The same name created again has another uid and is written.
      LOG.debug("{}: deleted meanwhile; not written", owner);
      return new Applied(0, 0, 0, 0, List.of());
    }
    var before = owned.computeIfAbsent(ownerKey(owner), k -> ConcurrentHashMap.newKeySet());
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
