package io.archway.dataplane.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PluginServicesTest {

  @Test
  void workQueuedOnTheIoThreadsRunsWhenTheServicesClose() throws Exception {
    var services = new PluginServices();
    var busy = new CountDownLatch(1);
    var started = new CountDownLatch(2);
    var ran = new AtomicInteger();
    // Both I/O threads busy, five more tasks queued behind them (a logger's last batches, a
    // response being written into a disk cache zone): closing used to drop those five.
    for (int i = 0; i < 2; i++) {
      services
          .io()
          .execute(
              () -> {
                started.countDown();
                try {
                  busy.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
                ran.incrementAndGet();
              });
    }
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 5; i++) {
      services.io().execute(ran::incrementAndGet);
    }
    var closing = new Thread(services::close);
    closing.start();
    await().until(() -> services.io().isShutdown());
    busy.countDown();
    closing.join();
    assertThat(ran).hasValue(7);
    assertThat(services.io().isTerminated()).isTrue();
  }

  @Test
  void workScheduledForLaterDoesNotHoldTheClose() {
    var services = new PluginServices();
    var ran = new AtomicBoolean();
    services.io().schedule(() -> ran.set(true), 1, TimeUnit.HOURS);
    services.close();
    assertThat(services.io().isTerminated()).isTrue();
    assertThat(ran).isFalse();
  }
}
