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
    loaded = true;
  }

  public Applied apply(Owner owner, List<Translation.Item> items) throws Exception {
    ensureLoaded();
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

  private static String ownerKey(Owner o) {
    return o.kind() + "/" + o.namespace() + "/" + o.name();
  }
}
