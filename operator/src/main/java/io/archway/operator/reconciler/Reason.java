package io.archway.operator.reconciler;

import io.archway.operator.translate.Translation;

/**
 * The reasons the reconcilers give in conditions and events. Users, dashboards and tests read the
 * words, so they never change; the code decides on the constant.
 */
enum Reason {
  /** Accepted: the resource translated. */
  VALID("Valid"),
  /** Not accepted: the resource itself is wrong. */
  INVALID("Invalid"),
  /** Not accepted: an older resource serves the same host and path. */
  CONFLICT("Conflict"),
  /** Programmed: its keys are in etcd. */
  WRITTEN("Written"),
  /** Not programmed: one of its keys belongs to something else (another owner, or none). */
  KEY_CONFLICT("KeyConflict"),
  /** Not programmed: etcd did not answer; retried with backoff. */
  ETCD_UNAVAILABLE("EtcdUnavailable"),
  /** ApisixUpstream: nothing of its own is written, the routes that use it carry its settings. */
  APPLIED_BY_ROUTES("AppliedByRoutes");

  private final String text;

  Reason(String text) {
    this.text = text;
  }

  /** The word in the condition or the event. */
  String text() {
    return text;
  }

  static Reason of(Translation.Cause cause) {
    return switch (cause) {
      case INVALID -> INVALID;
      case CONFLICT -> CONFLICT;
    };
  }

  @Override
  public String toString() {
    return text;
  }
}
