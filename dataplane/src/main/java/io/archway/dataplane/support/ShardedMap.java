package io.archway.dataplane.support;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An immutable map made of shards (by the key's hash), each a small hash map: an {@link Editor}
 * makes a new map that copies only the shards its changes touch and shares every other one with
 * this map. A change of one key in a map of 100,000 copies one shard of about a hundred entries and
 * the array of shard references, not the whole map, and the old map stays as it was for whoever
 * still reads it. The number of shards follows the size (about 64 entries each), doubling or
 * halving when an edit takes the size far from that.
 *
 * <p>Reads cost a hash lookup in one shard. Views ({@link #entrySet}, {@link #keySet}, {@link
 * #values}) are read-only.
 */
public final class ShardedMap<K, V> extends AbstractMap<K, V> {

  private static final int PER_SHARD = 64;
  private static final ShardedMap<?, ?> EMPTY = new ShardedMap<>(newShards(0), 0, 0);

  // Never mutated once the map is built (an editor copies a shard before it writes to it).
  private final HashMap<K, V>[] shards;
  private final int bits;
  private final int size;
  private Set<Entry<K, V>> entries;

  private ShardedMap(HashMap<K, V>[] shards, int bits, int size) {
    this.shards = shards;
    this.bits = bits;
    this.size = size;
  }

  @SuppressWarnings("unchecked")
  public static <K, V> ShardedMap<K, V> empty() {
    return (ShardedMap<K, V>) EMPTY;
  }

  /** A map with the entries of {@code from}; a sharded map is returned as it is. */
  public static <K, V> ShardedMap<K, V> copyOf(Map<? extends K, ? extends V> from) {
    if (from instanceof ShardedMap<?, ?>) {
      @SuppressWarnings("unchecked")
      var same = (ShardedMap<K, V>) from;
      return same;
    }
    if (from.isEmpty()) {
      return empty();
    }
    int bits = bitsFor(from.size());
    HashMap<K, V>[] shards = newShards(bits);
    from.forEach((k, v) -> shard(shards, bits, k).put(k, v));
    return new ShardedMap<>(shards, bits, from.size());
  }

  /** An editor whose {@link Editor#build} is this map with the edits applied. */
  public Editor<K, V> edit() {
    return new Editor<>(this);
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public boolean isEmpty() {
    return size == 0;
  }

  @Override
  public V get(Object key) {
    return size == 0 ? null : shards[index(bits, key)].get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return size != 0 && shards[index(bits, key)].containsKey(key);
  }

  @Override
  public V getOrDefault(Object key, V fallback) {
    var v = get(key);
    return v != null || containsKey(key) ? v : fallback;
  }

  @Override
  public void forEach(BiConsumer<? super K, ? super V> action) {
    for (var s : shards) {
      s.forEach(action);
    }
  }

  @Override
  public Set<Entry<K, V>> entrySet() {
    if (entries == null) {
      entries =
          new AbstractSet<>() {
            @Override
            public Iterator<Entry<K, V>> iterator() {
              return new Entries<>(shards);
            }

            @Override
            public int size() {
              return size;
            }
          };
    }
    return entries;
  }

  /** Makes a new map from a base map: shards are copied when first written to, once each. */
  public static final class Editor<K, V> {

    private final HashMap<K, V>[] shards;
    private final int bits;
    private final boolean[] copied;
    private int size;
    private boolean built;

    private Editor(ShardedMap<K, V> base) {
      this.shards = base.shards.clone();
      this.bits = base.bits;
      this.copied = new boolean[shards.length];
      this.size = base.size;
    }

    public V get(Object key) {
      return shards[index(bits, key)].get(key);
    }

    public Editor<K, V> put(K key, V value) {
      var s = writable(index(bits, key));
      if (!s.containsKey(key)) {
        size++;
      }
      s.put(key, value);
      return this;
    }

    public Editor<K, V> remove(Object key) {
      int i = index(bits, key);
      if (shards[i].containsKey(key)) {
        writable(i).remove(key);
        size--;
      }
      return this;
    }

    /** The edited map; the editor is spent. */
    public ShardedMap<K, V> build() {
      if (built) {
        throw new IllegalStateException("already built");
      }
      built = true;
      if (size == 0) {
        return empty();
      }
      int want = bitsFor(size);
      if (want > bits + 1 || want < bits - 1) {
        // Far from PER_SHARD entries a shard: reshard once (amortized over the edits that grew it).
        HashMap<K, V>[] next = newShards(want);
        for (var s : shards) {
          s.forEach((k, v) -> shard(next, want, k).put(k, v));
        }
        return new ShardedMap<>(next, want, size);
      }
      return new ShardedMap<>(shards, bits, size);
    }

    private HashMap<K, V> writable(int i) {
      if (built) {
        throw new IllegalStateException("already built");
      }
      if (!copied[i]) {
        shards[i] = new HashMap<>(shards[i]);
        copied[i] = true;
      }
      return shards[i];
    }
  }

  private static int bitsFor(int size) {
    int shards = Math.max(1, size / PER_SHARD);
    return 31 - Integer.numberOfLeadingZeros(shards);
  }

  @SuppressWarnings("unchecked")
  private static <K, V> HashMap<K, V>[] newShards(int bits) {
    HashMap<K, V>[] out = new HashMap[1 << bits];
    for (int i = 0; i < out.length; i++) {
      out[i] = new HashMap<>();
    }
    return out;
  }

  private static <K, V> HashMap<K, V> shard(HashMap<K, V>[] shards, int bits, Object key) {
    return shards[index(bits, key)];
  }

  // The high bits of a multiplicative hash: independent of the low bits each shard's HashMap uses.
  private static int index(int bits, Object key) {
    if (bits == 0) {
      return 0;
    }
    int h = key == null ? 0 : key.hashCode();
    return (h * 0x9E3779B9) >>> (32 - bits);
  }

  private static final class Entries<K, V> implements Iterator<Entry<K, V>> {
    private final HashMap<K, V>[] shards;
    private int next;
    private Iterator<Entry<K, V>> current = Collections.emptyIterator();

    Entries(HashMap<K, V>[] shards) {
      this.shards = shards;
    }

    @Override
    public boolean hasNext() {
      while (!current.hasNext()) {
        if (next == shards.length) {
          return false;
        }
        current = Collections.unmodifiableMap(shards[next++]).entrySet().iterator();
      }
      return true;
    }

    @Override
    public Entry<K, V> next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return current.next();
    }
  }
}
