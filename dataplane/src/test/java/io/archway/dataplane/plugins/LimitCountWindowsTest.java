package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LimitCountWindowsTest {

  @Test
  void countsPerKeyInOpenWindowsAndStartsAfreshAfterOne() {
    var windows = new LimitCountPlugin.Windows();
    assertThat(windows.hit("a", 60_000)[0]).isEqualTo(1);
    assertThat(windows.hit("a", 60_000)[0]).isEqualTo(2);
    assertThat(windows.hit("b", 60_000)[0]).isEqualTo(1);
    long[] third = windows.hit("a", 60_000);
    assertThat(third[0]).isEqualTo(3);
    assertThat(third[1]).isBetween(1L, 60_000L);
    // A window of 0 ms is over at once: every request opens a new one.
    assertThat(windows.hit("c", 0)[0]).isEqualTo(1);
    assertThat(windows.hit("c", 0)[0]).isEqualTo(1);
  }
}
