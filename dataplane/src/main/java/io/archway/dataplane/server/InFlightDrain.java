package io.archway.dataplane.server;

import io.archway.dataplane.http.WebSocketTunnels;
import io.archway.dataplane.pipeline.InFlight;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The wait of a graceful stop: until no request is in flight and no WebSocket open, or timeout. */
final class InFlightDrain {

  private static final Logger log = LoggerFactory.getLogger(InFlightDrain.class);

  private InFlightDrain() {}

  static void await(InFlight inFlight, WebSocketTunnels webSockets, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while ((inFlight.active() > 0 || webSockets.open() > 0) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (inFlight.active() > 0 || webSockets.open() > 0) {
      log.warn(
          "stopping with {} request(s) and {} WebSocket(s) still open after {}",
          inFlight.active(),
          webSockets.open(),
          timeout);
    }
  }
}
