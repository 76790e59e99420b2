package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.H2Wire;
import io.archway.dataplane.testing.TestUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backpressure across the HTTP/2 adapter, against a raw HTTP/1.1 node that can be made slow: a node
 * that does not read holds the client's stream window shut (the gateway returns to the window only
 * what the node took), and a client that does not open its window stops the gateway reading the
 * node's response. Neither side's bytes pile up in the gateway.
 */
class Http2BackpressureIT {

  static TestUpstream other;

  @TempDir Path dir;
  Gateways gw;

  @BeforeAll
  static void setUp() throws Exception {
    other = new TestUpstream("other");
  }

  @AfterAll
  static void tearDown() {
    other.close();
  }

  ServerSocket node;
  Socket accepted;

  @AfterEach
  void stop() throws IOException {
    if (gw != null) {
      gw.close();
    }
    if (accepted != null) {
      accepted.close();
    }
    if (node != null) {
      node.close();
    }
  }

  void start() throws Exception {
    node = new ServerSocket();
    node.setReceiveBufferSize(4096);
    node.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: r1
                uri: /*
                upstream: {nodes: {"127.0.0.1:%d": 1}, timeout: {connect: 5, send: 60, read: 60}}
              - id: r2
                uri: /other/*
                plugins: {proxy-rewrite: {uri: /upload}}
                upstream: {nodes: {"%s": 1}}"""
                .formatted(node.getLocalPort(), other.node()),
            o ->
                o.withHttp(HttpSettings.DEFAULTS.withAccessLog("off"))
                    .withHttp2(H2Settings.DEFAULTS.withH2c(true)));
  }

  @Test
  void aNodeThatDoesNotReadKeepsTheStreamWindowShut() throws Exception {
    start();
    // The node accepts and never reads.
    var acceptor =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  try {
                    accepted = node.accept();
                  } catch (IOException e) {
                    // closed by the test
                  }
                });
    try (var wire = H2Wire.connect(gw.port())) {
      var h = H2Wire.get("/upload");
      h.method("POST");
      wire.headers(1, h, false);
      var chunk = new byte[16384];
      long sent = 0;
      long total = 64L << 20;
      // Send as much as the windows allow; stop when the gateway stops crediting the stream.
      while (sent < total) {
        long streamWindow = 65_535 + wire.credit(1) - sent;
        long connectionWindow = 65_535 + wire.credit(0) - sent;
        if (Math.min(streamWindow, connectionWindow) >= chunk.length) {
          wire.data(1, chunk, false);
          sent += chunk.length;
        } else if (!wire.awaitCredit(1, sent + chunk.length - 65_535, Duration.ofSeconds(2))) {
          break;
        }
      }
      // What the node's socket buffers, the proxy's write buffer and one window hold: megabytes
      // at most, not the 64 MiB offered.
      assertThat(sent).isLessThan(16L << 20);
      assertThat(wire.lines()).noneMatch(l -> l.startsWith("RST") || l.startsWith("GOAWAY"));
      // The stalled stream holds its own window only: another stream on the connection sends
      // its body and is answered.
      var h3 = H2Wire.get("/other/x");
      h3.method("POST");
      wire.headers(3, h3, false);
      wire.data(3, new byte[32 * 1024], true);
      assertThat(wire.await("HEADERS 3")).isEqualTo("HEADERS 3 200");
      assertThat(wire.await("DATA 3")).startsWith("DATA 3 5");
    }
    acceptor.join(5000);
  }

  @Test
  void aClientThatDoesNotReadStopsTheGatewayReadingTheNode() throws Exception {
    start();
    var written = new AtomicLong();
    long size = 256L << 20;
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try {
                var s = node.accept();
                accepted = s;
                s.setSendBufferSize(4096);
                InputStream in = s.getInputStream();
                // the request head, up to its empty line
                int state = 0;
                while (state < 4) {
                  int b = in.read();
                  if (b < 0) {
                    return;
                  }
                  state = (b == '\r' || b == '\n') ? state + 1 : 0;
                }
                OutputStream out = s.getOutputStream();
                out.write(
                    ("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                var chunk = new byte[16384];
                for (long n = 0; n < size; n += chunk.length) {
                  out.write(chunk);
                  written.addAndGet(chunk.length);
                }
              } catch (IOException e) {
                // the gateway closed the connection
              }
            });
    // The client's windows stay at 64 KiB: it never sends a WINDOW_UPDATE.
    try (var wire = H2Wire.connect(gw.port())) {
      wire.headers(1, H2Wire.get("/big"), true);
      assertThat(wire.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
      var last = new AtomicLong(-1);
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                long now = written.get();
                return now > 0 && now == last.getAndSet(now);
              });
      assertThat(written.get()).isLessThan(32L << 20);
      assertThat(wire.dataBytes()).isLessThanOrEqualTo(65_535);
    }
  }
}
