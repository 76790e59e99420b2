package io.archway.dataplane.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.UdpServer;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * UDP stream routes against real UDP servers in the test: an echo server, and a DNS-like one that
 * answers each query with its id and the source port the query came from, which shows that each
 * client address is one session (one upstream channel, so one source port) and that a session ends
 * after its idle timeout.
 */
class UdpStreamIT {

  @TempDir static Path dir;
  static UdpServer echo;
  static UdpServer dns;
  static Gateways gw;
  static int echoPort;
  static int dnsPort;
  static int nowhere;
  static int denied;
  static int counted;

  @BeforeAll
  static void start() throws Exception {
    echo = new UdpServer(false);
    dns = new UdpServer(true);
    echoPort = Ports.free();
    dnsPort = Ports.free();
    nowhere = Ports.free();
    denied = Ports.free();
    counted = Ports.free();
    var yaml =
        """
        stream_routes:
          - id: echo
            server_port: %d
            upstream: {nodes: {"127.0.0.1:%d": 1}}
          - id: dns
            server_port: %d
            upstream: {nodes: {"127.0.0.1:%d": 1}}
          - id: denied
            server_port: %d
            plugins:
              ip-restriction: {whitelist: ["10.0.0.0/8"]}
            upstream: {nodes: {"127.0.0.1:%d": 1}}
          - id: counted
            server_port: %d
            plugins:
              ip-restriction: {blacklist: ["10.0.0.0/8"]}
              prometheus: {}
            upstream: {nodes: {"127.0.0.1:%d": 1}}
        """
            .formatted(
                echoPort,
                echo.port(),
                dnsPort,
                dns.port(),
                denied,
                echo.port(),
                counted,
                echo.port());
    gw =
        Gateways.start(
            dir,
            yaml,
            StreamSettings.DEFAULTS
                .withUdpPorts(List.of(echoPort, dnsPort, nowhere, denied, counted))
                .withUdpIdleTimeout(Duration.ofSeconds(1)));
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
    echo.close();
    dns.close();
  }

  @Test
  void datagramsGoToTheNodeAndItsRepliesComeBack() throws Exception {
    try (var client = client()) {
      for (var text : List.of("one", "two", "three")) {
        assertThat(ask(client, echoPort, text)).isEqualTo(text);
      }
    }
  }

  @Test
  void eachClientAddressIsOneSessionWithItsOwnUpstreamChannel() throws Exception {
    try (var a = client();
        var b = client()) {
      var a1 = ask(a, dnsPort, "1|a.example");
      var b1 = ask(b, dnsPort, "2|b.example");
      var a2 = ask(a, dnsPort, "3|a.example");
      var b2 = ask(b, dnsPort, "4|b.example");
      assertThat(a1).startsWith("1|a.example|");
      assertThat(b1).startsWith("2|b.example|");
      // One client's queries all come from its session's channel; the other's from another.
      assertThat(port(a2)).isEqualTo(port(a1));
      assertThat(port(b2)).isEqualTo(port(b1));
      assertThat(port(a1)).isNotEqualTo(port(b1));
    }
  }

  @Test
  void aSessionEndsAfterItsIdleTimeoutAndTheNextDatagramStartsAnother() throws Exception {
    try (var a = client()) {
      var first = port(ask(a, dnsPort, "1|idle.example"));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> assertThat(gw.status("/metrics")).contains("archway_stream_connections 0\n"));
      var second = port(ask(a, dnsPort, "2|idle.example"));
      assertThat(second).isNotEqualTo(first);
    }
  }

  @Test
  void aDatagramWithNoRouteIsDroppedAndCounted() throws Exception {
    try (var a = client()) {
      a.setSoTimeout(500);
      var data = "lost".getBytes(StandardCharsets.US_ASCII);
      a.send(new DatagramPacket(data, data.length, new InetSocketAddress("127.0.0.1", nowhere)));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(gw.status("/metrics"))
                      .containsPattern("archway_stream_errors_total\\{cause=\"no_route\"} [1-9]"));
    }
  }

  @Test
  void streamPluginsRunOnUdpSessions() throws Exception {
    try (var a = client()) {
      var data = "refused".getBytes(StandardCharsets.US_ASCII);
      a.send(new DatagramPacket(data, data.length, new InetSocketAddress("127.0.0.1", denied)));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(gw.status("/metrics"))
                      .containsPattern(
                          "archway_stream_errors_total\\{cause=\"plugin_closed\"} [1-9]"));
      assertThat(ask(a, counted, "counted")).isEqualTo("counted");
      // Counted when the session ends (idle timeout), as a TCP connection when it closes.
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(gw.status("/metrics"))
                      .contains("apisix_stream_connection_total{route=\"counted\"} 1"));
    }
  }

  static DatagramSocket client() throws IOException {
    var s = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    s.setSoTimeout(10_000);
    return s;
  }

  static String ask(DatagramSocket s, int port, String text) throws IOException {
    var data = text.getBytes(StandardCharsets.US_ASCII);
    s.send(new DatagramPacket(data, data.length, new InetSocketAddress("127.0.0.1", port)));
    var buf = new byte[2048];
    var p = new DatagramPacket(buf, buf.length);
    s.receive(p);
    return new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
  }

  static String port(String answer) {
    return answer.substring(answer.lastIndexOf('|') + 1);
  }
}
