package io.archway.operator.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The host and path claims of every resource that may hold one (ApisixRoutes, Ingresses), indexed
 * by host, path and discriminator, so that a conflict check looks up only the keys of the checked
 * resource's own claims instead of recomputing every rival's. In the operator it is kept in step
 * with the controllers' caches (each add, update and delete of a route, and each change of the
 * HTTPRoutePolicies that tell an Ingress's claims apart); offline ({@code validate}, {@code
 * translate}) it is filled once from the files given.
 *
 * <p>A resource being deleted holds no claims; a deleted one is forgotten. Thread-safe: updates
 * come from the informers' threads, checks from the reconcilers'.
 */
public final class ClaimIndex {

  private record Key(String host, String path, String discriminator) {
    static Key of(Claim c) {
      return new Key(c.host(), c.path(), c.discriminator());
    }
  }

  /** A resource as last seen, and its claims. */
  private record Holder(HasMetadata resource, List<Claim> claims) {}

  /**
   * Which of several older rivals a check names: ApisixRoutes before Ingresses (as the rivals were
   * listed), then the oldest, the one whose claim it is; the same whatever order they were seen in.
   */
  private static final Comparator<HasMetadata> NAMED_FIRST =
      Comparator.comparingInt((HasMetadata r) -> r.getKind().equals("ApisixRoute") ? 0 : 1)
          .thenComparing(Conflicts.AGE);

  private final Refs refs;
  private final Map<String, Holder> holders = new HashMap<>();
  private final Map<Key, Set<String>> byKey = new HashMap<>();

  /** Claims computed with the policies {@code refs} hold (may be null: none). */
  public ClaimIndex(Refs refs) {
    this.refs = refs;
  }

  /** An index of {@code resources}, in their order. */
  public static ClaimIndex of(Iterable<? extends HasMetadata> resources, Refs refs) {
    var index = new ClaimIndex(refs);
    resources.forEach(index::put);
    return index;
  }

  /**
   * Adds or replaces what {@code r} claims (none while it is being deleted). Computed under the
   * lock, so that a policy change ({@link #refsChanged}) cannot come between and be lost.
   */
  public synchronized void put(HasMetadata r) {
    install(r, claims(r), null);
  }

  private List<Claim> claims(HasMetadata r) {
    return r.getMetadata().getDeletionTimestamp() != null ? List.of() : Translators.claims(r, refs);
  }

  /** Installs {@code r}'s claims; when {@code current} is given, only if it is still held. */
  private synchronized void install(HasMetadata r, List<Claim> claims, HasMetadata current) {
    var id = id(r);
    var before = holders.get(id);
    if (current != null && (before == null || before.resource() != current)) {
      return;
    }
    if (before != null) {
      unindex(id, before);
    }
    holders.put(id, new Holder(r, claims));
    for (var c : claims) {
      byKey.computeIfAbsent(Key.of(c), k -> new LinkedHashSet<>()).add(id);
    }
  }

  /** Forgets {@code r}: it is gone. */
  public synchronized void remove(HasMetadata r) {
    var id = id(r);
    var before = holders.remove(id);
    if (before != null) {
      unindex(id, before);
    }
  }

  /**
   * Computes again the claims of the resources of {@code namespace} that depend on the policies
   * there (an HTTPRoutePolicy changed).
   */
  public void refsChanged(String namespace) {
    List<HasMetadata> stale;
    synchronized (this) {
      stale = new ArrayList<>();
      for (var h : holders.values()) {
        var r = h.resource();
        if (Translators.claimsUseRefs(r)
            && Objects.equals(namespace, r.getMetadata().getNamespace())) {
          stale.add(r);
        }
      }
    }
    // Computed outside the lock; not installed over a newer version the informer put meanwhile.
    for (var r : stale) {
      install(r, claims(r), r);
    }
  }

  /** How many resources are indexed. */
  public synchronized int size() {
    return holders.size();
  }

  /**
   * Records an error on {@code t} when an older resource holds one of {@code mine}, the claims of
   * {@code r}: see {@link Conflicts}.
   */
  public void check(HasMetadata r, List<Claim> mine, Translation t) {
    if (mine.isEmpty()) {
      return;
    }
    Holder first = null;
    synchronized (this) {
      var own = id(r);
      for (var c : mine) {
        var ids = byKey.get(Key.of(c));
        if (ids == null) {
          continue;
        }
        for (var id : ids) {
          var h = holders.get(id);
          if (id.equals(own)
              || (first != null && NAMED_FIRST.compare(h.resource(), first.resource()) >= 0)
              || Conflicts.AGE.compare(h.resource(), r) > 0) {
            continue;
          }
          for (var o : h.claims()) {
            if (c.conflictsWith(o)) {
              first = h;
              break;
            }
          }
        }
      }
    }
    if (first != null) {
      Conflicts.report(mine, first.resource(), first.claims(), t);
    }
  }

  private void unindex(String id, Holder h) {
    for (var c : h.claims()) {
      var key = Key.of(c);
      var ids = byKey.get(key);
      if (ids != null && ids.remove(id) && ids.isEmpty()) {
        byKey.remove(key);
      }
    }
  }

  private static String id(HasMetadata r) {
    return r.getKind() + "/" + r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }
}
