package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class TransportTest {

  /** Availability as on a machine where only {@code runs} can run. */
  private static Function<Transport, Throwable> only(Set<Transport> runs) {
    return t -> runs.contains(t) ? null : new UnsupportedOperationException(t.label() + " is off");
  }

  @Test
  void autoTakesEpollFirst() {
    var all = only(EnumSet.allOf(Transport.class));
    assertThat(Transport.choose(null, all))
        .isEqualTo(new Transport.Choice(Transport.EPOLL, "auto"));
    assertThat(Transport.choose("", all).transport()).isEqualTo(Transport.EPOLL);
    assertThat(Transport.choose(" AUTO ", all).transport()).isEqualTo(Transport.EPOLL);
    assertThat(Transport.choose(null, only(EnumSet.of(Transport.EPOLL, Transport.NIO))))
        .isEqualTo(new Transport.Choice(Transport.EPOLL, "auto"));
  }

  @Test
  void autoFallsBackAndSaysWhy() {
    var noEpoll = Transport.choose("auto", only(EnumSet.of(Transport.IO_URING, Transport.NIO)));
    assertThat(noEpoll)
        .isEqualTo(
            new Transport.Choice(
                Transport.IO_URING,
                "auto; epoll: java.lang.UnsupportedOperationException: epoll is off"));

    var nioOnly = Transport.choose(null, only(EnumSet.of(Transport.NIO)));
    assertThat(nioOnly.transport()).isEqualTo(Transport.NIO);
    assertThat(nioOnly.reason()).contains("epoll: ").contains("; io_uring: ");
  }

  @Test
  void forcedTransportIsTakenWhenItRuns() {
    var all = only(EnumSet.allOf(Transport.class));
    assertThat(Transport.choose("epoll", all))
        .isEqualTo(new Transport.Choice(Transport.EPOLL, "forced"));
    assertThat(Transport.choose("NIO", all).transport()).isEqualTo(Transport.NIO);
    assertThat(Transport.choose("io_uring", all).transport()).isEqualTo(Transport.IO_URING);
  }

  @Test
  void forcedTransportThatCannotRunFailsNamingTheCause() {
    assertThatThrownBy(() -> Transport.choose("io_uring", only(EnumSet.of(Transport.NIO))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "transport: io_uring was forced (archway.transport / ARCHWAY_TRANSPORT) but cannot run"
                + " here: java.lang.UnsupportedOperationException: io_uring is off")
        .hasCauseInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void unknownTransportIsRefused() {
    assertThatThrownBy(() -> Transport.choose("kqueue", only(EnumSet.allOf(Transport.class))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "transport: 'kqueue' (archway.transport / ARCHWAY_TRANSPORT) (expected: auto,"
                + " io_uring, epoll or nio)");
  }

  @Test
  void eachTransportRunsHereAndItsLoopsAreKnownByType() {
    // NIO runs everywhere; on Linux CI the native ones load too, and the test then checks them.
    for (var t : Transport.values()) {
      if (t.unavailabilityCause() != null) {
        continue;
      }
      var group = t.newGroup(1, "transport-test");
      try {
        assertThat(Transport.of(group.next())).isEqualTo(t);
      } finally {
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
  }
}
