package io.archway.operator.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.UpstreamNode;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeDamperTest {

  private static final long S = 1_000_000_000L;

  private final NodeDamper damper =
      new NodeDamper(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(40));

  private static List<UpstreamNode> nodes(String... hosts) {
    return Arrays.stream(hosts).map(h -> new UpstreamNode(h, 80, 100, null, null)).toList();
  }

  @Test
  void theFirstSetIsPublishedAtOnce() {
    assertThat(damper.offer(nodes("10.0.0.1"), 0).publish()).isTrue();
    assertThat(damper.stable()).isEqualTo(nodes("10.0.0.1"));
  }

  @Test
  void anAdditionWaitsForTheAddWindowAndARemovalForTheLongerOne() {
    damper.offer(nodes("10.0.0.1"), 0);
    var step = damper.offer(nodes("10.0.0.1", "10.0.0.2"), 1 * S);
    assertThat(step.publish()).isFalse();
    assertThat(step.tickAt()).isEqualTo(3 * S);
    assertThat(damper.tick(2 * S).publish()).isFalse();
    assertThat(damper.tick(3 * S).publish()).isTrue();
    assertThat(damper.stable()).isEqualTo(nodes("10.0.0.1", "10.0.0.2"));

    step = damper.offer(nodes("10.0.0.2"), 4 * S);
    assertThat(step.tickAt()).isEqualTo(14 * S);
    assertThat(damper.tick(13 * S).publish()).isFalse();
    assertThat(damper.tick(14 * S).publish()).isTrue();
    assertThat(damper.stable()).isEqualTo(nodes("10.0.0.2"));
  }

  @Test
  void aNodeThatFlapsOutAndBackIsNeverPublished() {
    damper.offer(nodes("10.0.0.1", "10.0.0.2"), 0);
    assertThat(damper.offer(nodes("10.0.0.1"), 1 * S).publish()).isFalse();
    assertThat(damper.offer(nodes("10.0.0.1", "10.0.0.2"), 2 * S)).isEqualTo(NodeDamper.Step.NONE);
    assertThat(damper.tick(20 * S).publish()).isFalse();
    assertThat(damper.stable()).isEqualTo(nodes("10.0.0.1", "10.0.0.2"));
  }

  @Test
  void aChangeRestartsTheWindowButASetThatNeverSettlesIsPublishedAfterTheMaximum() {
    damper.offer(nodes("a"), 0);
    for (int i = 1; i < 40; i++) {
      // A new node every second: never two seconds alike.
      var hosts = new String[i + 1];
      for (int j = 0; j <= i; j++) {
        hosts[j] = "h" + j;
      }
      hosts[0] = "a";
      assertThat(damper.offer(nodes(hosts), i * S).publish()).as("at %d s", i).isFalse();
    }
    // The first divergence was at 1 s: 40 s later the latest set is written anyway.
    assertThat(damper.tick(40 * S).publish()).isFalse();
    assertThat(damper.tick(41 * S).publish()).isTrue();
    assertThat(damper.stable()).hasSize(40);
  }

  @Test
  void theOrderOfTheReportDoesNotMatter() {
    damper.offer(nodes("10.0.0.2", "10.0.0.1"), 0);
    assertThat(damper.offer(nodes("10.0.0.1", "10.0.0.2"), S)).isEqualTo(NodeDamper.Step.NONE);
  }

  @Test
  void aWeightChangeIsAnAddition() {
    damper.offer(nodes("10.0.0.1"), 0);
    var step = damper.offer(List.of(new UpstreamNode("10.0.0.1", 80, 5, null, null)), 0);
    assertThat(step.tickAt()).isEqualTo(2 * S);
  }
}
