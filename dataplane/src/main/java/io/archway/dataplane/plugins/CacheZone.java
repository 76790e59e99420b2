package io.archway.dataplane.plugins;

import java.util.concurrent.CompletionStage;

/**
 * A proxy-cache zone, in memory ({@link CacheStore}) or on disk ({@link DiskCacheStore}): what
 * routes naming the same {@code cache_zone} share.
 */
interface CacheZone {

  /**
   * The entry kept under {@code key}, or {@code null}; already complete when it can be told without
   * I/O (always in memory; on disk when the key is not in the index).
   */
  CompletionStage<CacheStore.Entry> lookup(String key);

  /** Keeps a response (replacing what the key held). */
  void put(String key, CacheStore.Entry entry);

  /** Forgets {@code key}; whether something was kept under it. */
  boolean purge(String key);

  /** The largest body kept; a longer response is not stored. */
  int maxEntry();
}
