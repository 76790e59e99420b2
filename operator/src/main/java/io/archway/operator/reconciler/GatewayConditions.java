package io.archway.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * Gateway API conditions as the translators compute them (no times) made into what is written: a
 * condition keeps its {@code lastTransitionTime} while its status stays, and gets {@code now} when
 * it changes or is new.
 */
final class GatewayConditions {

  private GatewayConditions() {}

  /** Sets the transition times of {@code computed} (in place), from {@code previous}. */
  static List<Condition> merge(List<Condition> previous, List<Condition> computed, String now) {
    for (var c : computed) {
      var before =
          previous == null
              ? null
              : previous.stream().filter(p -> c.getType().equals(p.getType())).findFirst();
      if (before != null
          && before.isPresent()
          && c.getStatus().equals(before.get().getStatus())
          && before.get().getLastTransitionTime() != null) {
        c.setLastTransitionTime(before.get().getLastTransitionTime());
      } else {
        c.setLastTransitionTime(now);
      }
    }
    return computed;
  }

  static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
