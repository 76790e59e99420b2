package io.archway.model.source;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every key under the prefix and its mod revision, as the source followed them up to its revision:
 * valid or not, known kind or not. Held against what etcd says it held at that revision, it tells
 * whether etcd's history is still the one the source followed (it is not after a restore from a
 * snapshot that was then written past the source's revision). Owned by the source's loop thread.
 */
final class KeyRevisions {

  private final Map<ByteSequence, Long> byKey = new HashMap<>();

  /** After a full read: exactly these keys. */
  void replaceAll(List<KeyValue> kvs) {
    byKey.clear();
    kvs.forEach(this::put);
  }

  void put(KeyValue kv) {
    byKey.put(kv.getKey(), kv.getModRevision());
  }

  void delete(KeyValue kv) {
    byKey.remove(kv.getKey());
  }

  /**
   * Whether {@code kvs}, every key etcd held under the prefix at the source's revision (values not
   * needed), are exactly the keys followed, each at the same mod revision.
   */
  boolean matches(List<KeyValue> kvs) {
    if (kvs.size() != byKey.size()) {
      return false;
    }
    for (var kv : kvs) {
      var followed = byKey.get(kv.getKey());
      if (followed == null || followed != kv.getModRevision()) {
        return false;
      }
    }
    return true;
  }

  int size() {
    return byKey.size();
  }
}
