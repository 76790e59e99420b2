package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LimitCountWindowsTest {

  private static long hit(LimitCountPlugin.Windows windows, String key, long window, long now) {
    return windows.open(key, window, now).used().incrementAndGet();
  }

  @Test
  void countsPerKeyInOpenWindowsAndStartsAfreshAfterOne() {
    var windows = new LimitCountPlugin.Windows();
    assertThat(hit(windows, "a", 60_000, 1_000)).isEqualTo(1);
    assertThat(hit(windows, "a", 60_000, 2_000)).isEqualTo(2);
    assertThat(hit(windows, "b", 60_000, 2_000)).isEqualTo(1);
    var open = windows.open("a", 60_000, 30_000);
    assertThat(open.used().incrementAndGet()).isEqualTo(3);
    assertThat(open.end()).isEqualTo(61_000);
    // The window is over at its end: the next request opens a new one.
    assertThat(hit(windows, "a", 60_000, 61_000)).isEqualTo(1);
    // A window of 0 ms is over at once: every request opens a new one.
    assertThat(hit(windows, "c", 0, 70_000)).isEqualTo(1);
    assertThat(hit(windows, "c", 0, 70_000)).isEqualTo(1);
  }
}
