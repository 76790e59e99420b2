package io.archway.dataplane.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream plugins on TCP stream routes, against a real echo server: ip-restriction and
 * limit-conn close refused connections before any upstream is connected, prometheus counts
 * connections under APISIX's name, syslog sends one entry per closed connection.
 */
class StreamPluginsIT {

  @TempDir static Path dir;
  static Echo echo;
  static DatagramSocket syslog;
  static Gateways gw;
  static int denied;
  static int allowed;
  static int limited;
  static int logged;

  @BeforeAll
  static void start() throws Exception {
    echo = new Echo();
    syslog = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    syslog.setSoTimeout(10_000);
    denied = Ports.free();
    allowed = Ports.free();
    limited = Ports.free();
    logged = Ports.free();
    var node = "127.0.0.1:" + echo.port();
    var yaml =
        """
        stream_routes:
          - id: denied
            server_port: %d
            plugins:
              ip-restriction: {whitelist: ["10.0.0.0/8"]}
            upstream: {nodes: {"%s": 1}}
          - id: allowed
            server_port: %d
            plugins:
              ip-restriction: {blacklist: ["10.0.0.0/8", "192.168.0.1"]}
              prometheus: {}
            upstream: {nodes: {"%s": 1}}
          - id: limited
            server_port: %d
            plugins:
              limit-conn: {conn: 1, burst: 0, default_conn_delay: 0.1, key: remote_addr}
            upstream: {nodes: {"%s": 1}}
          - id: logged
            server_port: %d
            plugins:
              syslog:
                host: 127.0.0.1
                port: %d
                sock_type: udp
                batch_max_size: 1
            upstream: {nodes: {"%s": 1}}
        """
            .formatted(
                denied, node, allowed, node, limited, node, logged, syslog.getLocalPort(), node);
    gw =
        Gateways.start(
            dir,
            yaml,
            StreamSettings.DEFAULTS.withPorts(List.of(denied, allowed, limited, logged)));
  }

  @AfterAll
  static void stop() throws IOException {
    if (gw != null) {
      gw.close();
    }
    syslog.close();
    echo.close();
  }

  @Test
  void ipRestrictionClosesAClientOutsideTheWhitelistBeforeTheUpstream() throws Exception {
    int accepted = echo.accepted();
    try (var s = connect(denied)) {
      s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
      assertThat(readOrEnd(s)).isEqualTo(-1);
    }
    assertThat(echo.accepted()).isEqualTo(accepted);
  }

  @Test
  void ipRestrictionLetsAClientOutsideTheBlacklistThroughAndPrometheusCountsIt() throws Exception {
    try (var s = connect(allowed)) {
      assertThat(roundTrip(s, "ping")).isEqualTo("ping");
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(gw.status("/metrics"))
                    .contains("# TYPE apisix_stream_connection_total counter")
                    .containsPattern("apisix_stream_connection_total\\{route=\"allowed\"} [1-9]"));
  }

  @Test
  void limitConnClosesTheConnectionOverTheLimitAndGivesTheSlotBackOnClose() throws Exception {
    try (var first = connect(limited)) {
      assertThat(roundTrip(first, "one")).isEqualTo("one");
      try (var second = connect(limited)) {
        assertThat(readOrEnd(second)).isEqualTo(-1);
      }
    }
    // The first one's slot comes back when it closes.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              try (var third = connect(limited)) {
                assertThat(roundTrip(third, "three")).isEqualTo("three");
              }
            });
  }

  @Test
  void syslogSendsOneEntryPerClosedConnection() throws Exception {
    try (var s = connect(logged)) {
      assertThat(roundTrip(s, "12345")).isEqualTo("12345");
    }
    var buf = new byte[65536];
    var p = new DatagramPacket(buf, buf.length);
    syslog.receive(p);
    var line = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    assertThat(line)
        .contains("\"route_id\":\"logged\"")
        .contains("\"remote_addr\":\"127.0.0.1\"")
        .contains("\"server_port\":" + logged)
        .contains("\"upstream\":\"127.0.0.1:" + echo.port() + "\"")
        .contains("\"bytes_sent\":5")
        .contains("\"bytes_received\":5")
        .contains("\"session_time\":");
  }

  static Socket connect(int port) throws IOException {
    var s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    return s;
  }

  static String roundTrip(Socket s, String text) throws IOException {
    var bytes = text.getBytes(StandardCharsets.US_ASCII);
    s.getOutputStream().write(bytes);
    var in = s.getInputStream();
    var got = new byte[bytes.length];
    int n = 0;
    while (n < got.length) {
      int r = in.read(got, n, got.length - n);
      if (r < 0) {
        break;
      }
      n += r;
    }
    return new String(got, 0, n, StandardCharsets.US_ASCII);
  }

  /** The first byte, or -1 when the gateway closed the connection (a reset counts as closed). */
  static int readOrEnd(Socket s) throws IOException {
    try {
      return s.getInputStream().read();
    } catch (SocketException reset) {
      return -1;
    }
  }

  /** A TCP echo server, a thread per connection, counting connections accepted. */
  static final class Echo implements AutoCloseable {
    private final ServerSocket server;
    private final java.util.concurrent.atomic.AtomicInteger accepted =
        new java.util.concurrent.atomic.AtomicInteger();

    Echo() throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread.ofVirtual()
          .start(
              () -> {
                while (!server.isClosed()) {
                  try {
                    var c = server.accept();
                    accepted.incrementAndGet();
                    Thread.ofVirtual().start(() -> serve(c));
                  } catch (IOException e) {
                    return;
                  }
                }
              });
    }

    private static void serve(Socket c) {
      try (c) {
        var in = c.getInputStream();
        var out = c.getOutputStream();
        var buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException ignored) {
        // the client went away
      }
    }

    int port() {
      return server.getLocalPort();
    }

    int accepted() {
      return accepted.get();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
