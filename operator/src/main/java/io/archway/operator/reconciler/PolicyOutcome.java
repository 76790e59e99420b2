package io.archway.operator.reconciler;

/** The status of a resource whose settings are written with the routes that use it. */
final class PolicyOutcome {

  private PolicyOutcome() {}

  /** {@code Programmed} says the routes carry it (it has no keys of its own). */
  static ResourceReconciler.Outcome appliedByRoutes(ResourceReconciler.Outcome o) {
    if (!o.programmed()) {
      return o;
    }
    return new ResourceReconciler.Outcome(
        o.accepted(),
        o.acceptedReason(),
        o.acceptedMessage(),
        true,
        Reason.APPLIED_BY_ROUTES,
        "its settings are written with the routes of what it targets",
        java.util.List.of());
  }
}
