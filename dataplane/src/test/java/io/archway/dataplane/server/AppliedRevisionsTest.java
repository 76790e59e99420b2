package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.config.ConfigHolder;
import io.archway.model.source.ConfigState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AppliedRevisionsTest {

  private final ConfigHolder holder = new ConfigHolder();
  private final AppliedRevisions applied = new AppliedRevisions(0);

  AppliedRevisionsTest() {
    holder.subscribe(applied);
  }

  @Test
  void aWriteWaitsForTheSnapshotAtItsRevisionOrLater() {
    var at5 = applied.reached(5);
    var at7 = applied.reached(7);
    var at9 = applied.reached(9);
    assertThat(at5).isNotDone();
    holder.onChanges(List.of(), 4);
    assertThat(at5).isNotDone();
    // One snapshot may carry several revisions (a watch batch): every waiter up to it is done.
    holder.onChanges(List.of(), 7);
    assertThat(at5).isCompleted();
    assertThat(at7).isCompleted();
    assertThat(at9).isNotDone();
    assertThat(applied.waiting()).isEqualTo(1);
    holder.onState(new ConfigState(Map.of(), 12));
    assertThat(at9).isCompleted();
    assertThat(applied.waiting()).isZero();
  }

  @Test
  void aRevisionAlreadyServedIsDoneAtOnce() {
    holder.onChanges(List.of(), 10);
    assertThat(applied.reached(3)).isCompleted();
    assertThat(applied.reached(10)).isCompleted();
    assertThat(applied.reached(11)).isNotDone();
  }

  @Test
  void afterEtcdWentBackARevisionWaitsForTheWatchAgain() {
    holder.onChanges(List.of(), 50);
    // Restored from a backup: the source re-reads everything at a lower revision.
    holder.onState(new ConfigState(Map.of(), 20));
    var write = applied.reached(21);
    assertThat(write).isNotDone();
    holder.onChanges(List.of(), 21);
    assertThat(write).isCompleted();
  }
}
