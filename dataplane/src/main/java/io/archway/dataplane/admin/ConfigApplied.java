package io.archway.dataplane.admin;

import java.util.concurrent.CompletableFuture;

/**
 * When this node serves what the store holds at a revision: with {@code --etcd} a write is in etcd
 * before the dataplane's watch has brought it, so its answer waits for this (read-your-writes for a
 * client of one node). {@code server} hands it over, backed by the config snapshots it compiles;
 * the admin package knows nothing of them.
 */
@FunctionalInterface
public interface ConfigApplied {

  /**
   * Completes once this node's compiled config includes every change up to {@code revision}; at
   * once if it already does. Never completes exceptionally; it may never complete (a change the
   * watch skips moves nothing), so callers bound the wait. Completed on the config source's thread:
   * what depends on it must be short and never block.
   */
  CompletableFuture<Void> reached(long revision);

  /** The write is applied when its answer is ready (the standalone store compiles before). */
  ConfigApplied ON_ANSWER = revision -> CompletableFuture.completedFuture(null);
}
