package io.archway.dataplane.config;

import io.archway.dataplane.support.ShardedMap;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigItem;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The config in force: every valid item, by kind and id, at one revision. Immutable; a request
 * keeps the snapshot it started with. Each kind's items are a {@link ShardedMap}: a change makes
 * the next snapshot by copying the shards it touches only, so a put costs the same at 100,000
 * routes as at ten. The router and plugin chains compiled from it join here as the HTTP data plane
 * lands.
 */
public final class ConfigSnapshot {

  // Before EMPTY: its constructor takes a serial.
  private static final AtomicLong SERIALS = new AtomicLong();
  private static final ConfigSnapshot EMPTY = new ConfigSnapshot(new EnumMap<>(Kind.class), 0);

  private final Map<Kind, Map<String, ConfigItem>> byKind;
  private final long revision;
  // Which snapshot this one was made from by with(), and the ids that changed, by kind: lets the
  // compiler visit only what changed. -1 and null when made from a whole state.
  private final long serial = SERIALS.incrementAndGet();
  private final long baseSerial;
  private final Map<Kind, Set<String>> changedIds;

  private ConfigSnapshot(Map<Kind, Map<String, ConfigItem>> byKind, long revision) {
    this(byKind, revision, -1, null);
  }

  private ConfigSnapshot(
      Map<Kind, Map<String, ConfigItem>> byKind,
      long revision,
      long baseSerial,
      Map<Kind, Set<String>> changedIds) {
    this.byKind = byKind;
    this.revision = revision;
    this.baseSerial = baseSerial;
    this.changedIds = changedIds;
  }

  /**
   * The ids put or deleted, by kind, if this snapshot was made from {@code base} by {@link
   * #with(Map, Map, long)}; otherwise {@code null} (unknown: everything may have changed).
   */
  Map<Kind, Set<String>> changesSince(ConfigSnapshot base) {
    return base != null && changedIds != null && baseSerial == base.serial ? changedIds : null;
  }

  public static ConfigSnapshot empty() {
    return EMPTY;
  }

  static ConfigSnapshot of(Map<Key, ConfigItem> items, long revision) {
    var byKind = new EnumMap<Kind, Map<String, ConfigItem>>(Kind.class);
    items.forEach((k, v) -> byKind.computeIfAbsent(k.kind(), x -> new HashMap<>()).put(k.id(), v));
    byKind.replaceAll((k, m) -> ShardedMap.copyOf(m));
    return new ConfigSnapshot(byKind, revision);
  }

  /**
   * A new snapshot with {@code changes} applied in order (a later change of an id wins), recording
   * the ids that changed ({@link #changesSince}). Costs the changes, not the items held.
   */
  ConfigSnapshot withChanges(List<ConfigChange> changes, long revision) {
    var editors = new EnumMap<Kind, ShardedMap.Editor<String, ConfigItem>>(Kind.class);
    var ids = new EnumMap<Kind, Set<String>>(Kind.class);
    for (var c : changes) {
      var kind = c.key().kind();
      var id = c.key().id();
      ids.computeIfAbsent(kind, k -> new HashSet<>()).add(id);
      var editor = editors.computeIfAbsent(kind, k -> ShardedMap.copyOf(items(k)).edit());
      switch (c) {
        case ConfigChange.Put p -> editor.put(id, p.item());
        case ConfigChange.Delete d -> editor.remove(id);
      }
    }
    var byKind = new EnumMap<>(this.byKind);
    editors.forEach(
        (k, e) -> {
          var m = e.build();
          if (m.isEmpty()) {
            byKind.remove(k);
          } else {
            byKind.put(k, m);
          }
        });
    return new ConfigSnapshot(byKind, revision, serial, ids);
  }

  /**
   * A new snapshot with {@code changed} kinds replaced by these whole maps; the other kinds' maps
   * are shared.
   */
  ConfigSnapshot with(Map<Kind, Map<String, ConfigItem>> changed, long revision) {
    return with(changed, null, revision);
  }

  /** As {@link #with(Map, long)}, recording the ids that changed ({@link #changesSince}). */
  ConfigSnapshot with(
      Map<Kind, Map<String, ConfigItem>> changed, Map<Kind, Set<String>> ids, long revision) {
    var byKind = new EnumMap<>(this.byKind);
    changed.forEach(
        (k, m) -> {
          if (m.isEmpty()) {
            byKind.remove(k);
          } else {
            byKind.put(k, ShardedMap.copyOf(m));
          }
        });
    return ids == null
        ? new ConfigSnapshot(byKind, revision)
        : new ConfigSnapshot(byKind, revision, serial, ids);
  }

  public long revision() {
    return revision;
  }

  /** The items of one kind, by id. */
  public Map<String, ConfigItem> items(Kind kind) {
    return byKind.getOrDefault(kind, Map.of());
  }

  public int count(Kind kind) {
    return items(kind).size();
  }

  public int size() {
    return byKind.values().stream().mapToInt(Map::size).sum();
  }
}
