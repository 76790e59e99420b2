package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that stall on the response side: a client that never reads what it asked for holds the
 * node's connection only until {@code send_timeout}, and is then closed, as nginx does.
 */
class SlowClientIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;

  @BeforeEach
  void start() throws Exception {
    up = new TestUpstream("a");
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: r
                uri: /*
                upstream:
                  nodes:
                    "%s": 1
            """
                .formatted(up.node()),
            HttpSettings.DEFAULTS.withAccessLog("off").withSendTimeout(Duration.ofSeconds(1)));
  }

  @AfterEach
  void stop() {
    gw.close();
    up.close();
  }

  @Test
  void aClientThatNeverReadsIsClosedAfterSendTimeoutAndFreesTheNodesConnection() throws Exception {
    try (var s = new Socket()) {
      s.setReceiveBufferSize(4096);
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()));
      s.getOutputStream()
          .write(
              "GET /download?size=1000000000 HTTP/1.1\r\nHost: x\r\n\r\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      await().atMost(Duration.ofSeconds(30)).until(() -> up.connections() == 1);
      // The client reads nothing: the gateway stops reading the node, then gives up on both.
      await().atMost(Duration.ofSeconds(30)).until(() -> up.openConnections() == 0);
      assertThat(drain(s.getInputStream())).isLessThan(1_000_000_000L);
    }
  }

  @Test
  void aClientThatReadsSlowlyButSteadilyIsServedWhole() throws Exception {
    try (var s = new Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              "GET /download?size=2000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      long total = 0;
      var in = s.getInputStream();
      var buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) >= 0; ) {
        total += n;
        Thread.sleep(2); // paced reads, each well within send_timeout
      }
      assertThat(total).isGreaterThan(2_000_000L);
    }
  }

  /** Reads to the end of the stream (the gateway closed it); returns the bytes read. */
  private static long drain(InputStream in) throws Exception {
    long total = 0;
    var buf = new byte[64 * 1024];
    for (int n; (n = in.read(buf)) >= 0; ) {
      total += n;
    }
    return total;
  }
}
