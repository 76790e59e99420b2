package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Where the Admin API reads and writes the gateway's objects: etcd, with compare-and-swap on each
 * key's modification revision ({@code EtcdAdminStore}), or the standalone config held in memory and
 * optionally written back to its file ({@code StandaloneAdminStore}). The API above it is the same
 * for both (issue 22). Every call completes off the event loop that asked; the caller hands the
 * result back to its loop.
 *
 * <p>Keys are prefix-less item keys as {@link io.archway.model.Keys#item} spells them ({@code
 * routes/1}, {@code plugin_metadata/http-logger}, {@code consumers/jack/credentials/c1}); values
 * are the objects' JSON with APISIX's field names, already validated by the caller.
 */
interface AdminStore extends AutoCloseable {

  /**
   * One stored object and its revisions: {@code modifiedIndex} is what a later write passes as
   * {@code expected} to guard against lost updates (APISIX's {@code modifiedIndex}); {@code
   * createdIndex} is the revision that created it.
   */
  record Stored(String key, ObjectNode value, long createdIndex, long modifiedIndex) {}

  /** Any revision: the write does not guard. */
  long ANY = -1;

  /** The write must create: no object may be at the key. */
  long ABSENT = 0;

  /** The object at {@code key}, or empty. */
  CompletionStage<Optional<Stored>> get(String key);

  /** Every object whose key starts with {@code dir} ({@code routes/}), sorted by key. */
  CompletionStage<List<Stored>> list(String dir);

  /**
   * Writes {@code value} at {@code key} if the object there is at revision {@code expected} ({@link
   * #ANY}: whatever is there; {@link #ABSENT}: nothing may be). Fails with {@link Conflict} when
   * the revision does not match, or when the key belongs to someone else (an operator-owned key).
   */
  CompletionStage<Stored> put(String key, ObjectNode value, long expected);

  /**
   * Deletes the object at {@code key} under the same guard; completes with whether one was there.
   */
  CompletionStage<Boolean> delete(String key, long expected);

  /**
   * {@link #delete}, completing with the revision of the delete ({@code 0}: nothing was there), the
   * revision the dataplane serves the delete at. By default the store's revision just after it.
   */
  default CompletionStage<Long> deleteAt(String key, long expected) {
    return delete(key, expected).thenApply(deleted -> deleted ? revision() : 0L);
  }

  /** The store's current revision (etcd's header revision, or the standalone config's counter). */
  long revision();

  /** A write refused because the object changed meanwhile or is not the Admin API's to change. */
  final class Conflict extends RuntimeException {
    Conflict(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  void close();
}
