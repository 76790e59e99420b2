package io.archway.operator.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Comparator;
import java.util.List;

/**
 * Two resources claiming the same host and path: the older one (creation time, then kind, namespace
 * and name) keeps it, the other is not accepted, with a message naming both. When the older one
 * goes away, the other is accepted on its next reconcile. The checks against a list of rivals
 * compute every rival's claims; the operator keeps them in a {@link ClaimIndex} instead, so a check
 * costs what the checked resource claims.
 */
public final class Conflicts {

  private Conflicts() {}

  static final Comparator<HasMetadata> AGE =
      Comparator.comparing(
              (HasMetadata r) ->
                  r.getMetadata().getCreationTimestamp() == null
                      ? ""
                      : r.getMetadata().getCreationTimestamp())
          .thenComparing(HasMetadata::getKind)
          .thenComparing(
              r -> r.getMetadata().getNamespace() == null ? "" : r.getMetadata().getNamespace())
          .thenComparing(r -> r.getMetadata().getName());

  /** Records an error on {@code t} for each claim of {@code r} that an older resource holds. */
  public static void check(HasMetadata r, Iterable<? extends HasMetadata> others, Translation t) {
    check(r, Translators.claims(r), others, t);
  }

  /** As above, claims told apart by the policies {@code refs} hold (HTTPRoutePolicy). */
  public static void check(
      HasMetadata r, Iterable<? extends HasMetadata> others, Refs refs, Translation t) {
    check(r, Translators.claims(r, refs), others, refs, t);
  }

  /** As {@link #check(HasMetadata, Iterable, Translation)}, with {@code r}'s claims at hand. */
  public static void check(
      HasMetadata r, List<Claim> mine, Iterable<? extends HasMetadata> others, Translation t) {
    check(r, mine, others, null, t);
  }

  /** As above, the others' claims told apart by the policies {@code refs} hold. */
  public static void check(
      HasMetadata r,
      List<Claim> mine,
      Iterable<? extends HasMetadata> others,
      Refs refs,
      Translation t) {
    if (!mine.isEmpty()) {
      ClaimIndex.of(others, refs).check(r, mine, t);
    }
  }

  /** Records on {@code t} the first of {@code mine} that {@code other}'s claims hold. */
  static void report(List<Claim> mine, HasMetadata other, List<Claim> theirs, Translation t) {
    for (var c : mine) {
      for (var o : theirs) {
        if (c.conflictsWith(o)) {
          t.conflict(
              c.field() + ".match",
              c.describe()
                  + " is already served by "
                  + other.getKind()
                  + " "
                  + other.getMetadata().getNamespace()
                  + "/"
                  + other.getMetadata().getName()
                  + " ("
                  + o.field()
                  + "), which is older (expected: each host and path served by one resource)");
          return;
        }
      }
    }
  }
}
