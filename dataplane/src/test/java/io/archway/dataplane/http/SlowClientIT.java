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
        // The stimulus, not a wait: paced reads, each well within send_timeout.
        Thread.sleep(2);
      }
      assertThat(total).isGreaterThan(2_000_000L);
    }
  }

  @Test
  void pipelinedRequestsWaitForAClientThatDoesNotReadItsAnswers() throws Exception {
    var request =
        "GET /nowhere/at/all HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    int count = 1_000_000;
    var written = new java.util.concurrent.atomic.AtomicLong();
    try (var s = new Socket()) {
      s.setReceiveBufferSize(4096);
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()));
      var writer =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    try {
                      var out = s.getOutputStream();
                      var batch = new byte[request.length * 1000];
                      for (int i = 0; i < 1000; i++) {
                        System.arraycopy(request, 0, batch, i * request.length, request.length);
                      }
                      for (int i = 0; i < count / 1000; i++) {
                        out.write(batch);
                        written.addAndGet(batch.length);
                      }
                    } catch (java.io.IOException e) {
                      // the socket was closed at the end of the test
                    }
                  });
      // The gateway answers until the client's socket is full, then stops reading requests: the
      // count of answered requests stops moving long before all were sent (unread answers do not
      // pile up in memory).
      var last = new long[] {-1};
      await()
          .pollInterval(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                long now = answered();
                boolean still = now == last[0];
                last[0] = now;
                return still && now > 0;
              });
      assertThat(last[0]).isLessThan(count / 2);
      assertThat(written.get()).isLessThan((long) count * request.length);
      s.close();
      writer.join(10_000);
    }
  }

  /** Requests answered so far, from the status port's metrics. */
  private long answered() throws Exception {
    long n = 0;
    for (var line : gw.status("/metrics").split("\n")) {
      if (line.startsWith("archway_http_requests_total{")) {
        n += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return n;
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
