package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class WarnEveryTest {

  @Test
  void theFirstWarningIsLoggedThenAtMostOnePerPeriod() throws Exception {
    var w = new WarnEvery(LoggerFactory.getLogger(WarnEveryTest.class), 200, TimeUnit.MILLISECONDS);
    assertThat(w.warn("sink {}: {} dropped", "x", 1)).isTrue();
    for (int i = 0; i < 1000; i++) {
      assertThat(w.warn("sink {}: {} dropped", "x", 1)).isFalse();
    }
    Thread.sleep(250);
    assertThat(w.warn("sink {}: {} dropped", "x", 1)).isTrue();
    assertThat(w.warn("sink {}: {} dropped", "x", 1)).isFalse();
  }
}
