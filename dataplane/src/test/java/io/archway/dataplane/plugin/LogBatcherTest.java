package io.archway.dataplane.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LogBatcherTest {

  final PluginServices services = new PluginServices();
  final CountDownLatch never = new CountDownLatch(1);

  @AfterEach
  void stop() {
    never.countDown();
    services.close();
  }

  private LogBatcher hanging(String name) {
    return new LogBatcher(
        name, new LogBatcher.Settings(10, 0, 0, 0, 100), batch -> never.await(), services);
  }

  @Test
  void sinksThatHangHoldOnlyTheirOwnBatchers() {
    // More hanging sinks than the plugins have I/O threads (two): each used to hold one.
    var hung = List.of(hanging("a"), hanging("b"), hanging("c"));
    for (var b : hung) {
      for (int i = 0; i < 50; i++) {
        b.offer(new byte[] {1});
      }
    }
    var sent = new ConcurrentLinkedQueue<byte[]>();
    var healthy =
        new LogBatcher(
            "healthy", new LogBatcher.Settings(10, 0, 0, 0, 100), sent::addAll, services);
    for (int i = 0; i < 25; i++) {
      healthy.offer(new byte[] {2});
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> sent.size() == 25);
    assertThat(services.metrics().loggerSent("healthy")).isEqualTo(25);
    assertThat(services.metrics().loggerQueued("healthy")).isZero();
  }

  @Test
  void aSinkThatHangsCostsItsQueueAndOneBatchThenDropsAndCounts() {
    var b = hanging("slow");
    for (int i = 0; i < 1000; i++) {
      b.offer(new byte[] {1});
    }
    // One batch (of 1 to 10 entries) taken by the hanging send, at most 100 queued, the rest
    // dropped and counted.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              long queued = services.metrics().loggerQueued("slow");
              long inFlight = 1000 - queued - services.metrics().loggerDropped("slow");
              assertThat(queued).isBetween(90L, 100L);
              assertThat(inFlight).isBetween(1L, 10L);
            });
    assertThat(services.metrics().loggerSent("slow")).isZero();
  }

  @Test
  void aFailingSinkDropsAndCountsEveryBatch() {
    var b =
        new LogBatcher(
            "full",
            new LogBatcher.Settings(5, 0, 1, 0, 100),
            batch -> {
              throw new java.io.IOException("No space left on device");
            },
            services);
    for (int i = 0; i < 40; i++) {
      b.offer(new byte[] {1});
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> services.metrics().loggerDropped("full") == 40);
    assertThat(services.metrics().loggerQueued("full")).isZero();
    assertThat(services.metrics().loggerSent("full")).isZero();
  }
}
