package io.archway.operator.reconciler;

import io.archway.crds.Status;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/** The {@code Accepted} and {@code Programmed} conditions, set the Kubernetes way. */
final class Conditions {

  static final String ACCEPTED = "Accepted";
  static final String PROGRAMMED = "Programmed";

  private Conditions() {}

  /**
   * Sets a condition; its {@code lastTransitionTime} changes only when its status does.
   *
   * @return whether anything changed
   */
  static boolean set(
      Status status, String type, boolean ok, String reason, String message, Long generation) {
    var msg = message.length() > 32768 ? message.substring(0, 32768) : message;
    var existing = status.conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    var value = ok ? "True" : "False";
    if (existing.isPresent()) {
      var c = existing.get();
      if (value.equals(c.getStatus())
          && reason.equals(c.getReason())
          && msg.equals(c.getMessage())
          && Objects.equals(generation, c.getObservedGeneration())) {
        return false;
      }
      if (!value.equals(c.getStatus())) {
        c.setLastTransitionTime(now());
      }
      c.setStatus(value);
      c.setReason(reason);
      c.setMessage(msg);
      c.setObservedGeneration(generation);
      return true;
    }
    Condition c =
        new ConditionBuilder()
            .withType(type)
            .withStatus(value)
            .withReason(reason)
            .withMessage(msg)
            .withObservedGeneration(generation)
            .withLastTransitionTime(now())
            .build();
    status.conditions.add(c);
    return true;
  }

  private static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
