package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** api-breaker's state machine, with a clock of its own: APISIX's counting and break times. */
class ApiBreakerPluginTest {

  private final Map<String, ApiBreakerPlugin.Breaker> states = new ConcurrentHashMap<>();

  private ApiBreakerPlugin.Instance breaker(int failures, int successes, int maxSec) {
    var conf =
        new ApiBreakerPlugin.Config(
            502,
            null,
            null,
            maxSec,
            new ApiBreakerPlugin.Unhealthy(List.of(500, 503), failures),
            new ApiBreakerPlugin.Healthy(List.of(200), successes));
    return new ApiBreakerPlugin.Instance(conf, states, List.of(), () -> 0);
  }

  private boolean open(ApiBreakerPlugin.Instance b, long now) {
    var s = states.get("k");
    return s != null && b.open(s, now);
  }

  @Test
  void opensAfterTheFailuresForTwoToTheNSecondsUpToTheMaximum() {
    var b = breaker(3, 3, 10);
    b.record("k", 500, 100);
    b.record("k", 503, 100);
    assertThat(open(b, 100)).isFalse();
    b.record("k", 500, 100);
    // 3 failures / 3 = 1: open 2 seconds (the end second included, as APISIX compares).
    assertThat(open(b, 100)).isTrue();
    assertThat(open(b, 102)).isTrue();
    assertThat(open(b, 103)).isFalse();
    // Half open: the next failures count on, and the break time follows the count (APISIX
    // reckons it from the last opening): 5 failures, 2 times, 4 seconds from 100.
    b.record("k", 500, 103);
    b.record("k", 500, 103);
    assertThat(open(b, 104)).isTrue();
    assertThat(open(b, 105)).isFalse();
    // The 6th opens it again: 4 seconds from 105.
    b.record("k", 500, 105);
    assertThat(open(b, 109)).isTrue();
    assertThat(open(b, 110)).isFalse();
    // 9 failures: 8 seconds; 12: 16 seconds, cut to max_breaker_sec (10).
    for (int i = 0; i < 6; i++) {
      b.record("k", 500, 200);
    }
    assertThat(open(b, 210)).isTrue();
    assertThat(open(b, 211)).isFalse();
  }

  @Test
  void successesCloseItAndOtherStatusesAreNotCounted() {
    var b = breaker(1, 2, 300);
    b.record("k", 404, 100);
    b.record("k", 200, 100);
    assertThat(states).isEmpty(); // nothing to track without a failure
    b.record("k", 500, 100);
    assertThat(open(b, 100)).isTrue();
    b.record("k", 200, 100);
    assertThat(states).containsKey("k");
    b.record("k", 500, 100); // a failure starts the successes over
    b.record("k", 200, 100);
    assertThat(states).containsKey("k");
    b.record("k", 200, 100);
    assertThat(states).isEmpty();
  }

  @Test
  void anOpeningOlderThanTheMaximumIsForgotten() {
    var b = breaker(1, 3, 3);
    b.record("k", 500, 100);
    assertThat(open(b, 100)).isTrue();
    assertThat(open(b, 104)).isFalse();
  }

  @Test
  void thePathsTrackedAreBounded() {
    var b = breaker(1, 1, 300);
    for (int i = 0; i < ApiBreakerPlugin.MAX_PATHS + 10; i++) {
      b.record("k" + i, 500, 100);
    }
    assertThat(states).hasSize(ApiBreakerPlugin.MAX_PATHS);
  }
}
