package io.archway.dataplane.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.model.testing.Ports;
import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mqtt-proxy against two real MQTT brokers (Moquette, in the JVM) as the nodes of a {@code chash}
 * upstream keyed by {@code mqtt_client_id}: a client gets its CONNACK through the dataplane, one
 * client id always reaches the same broker, and a malformed or mismatched CONNECT is closed before
 * any broker sees it. The client is a few lines here: a CONNECT out, the CONNACK back.
 */
class MqttProxyIT {

  @TempDir static Path dir;
  static Server a;
  static Server b;
  static int brokerA;
  static int brokerB;
  static Gateways gw;
  static int mqtt;
  static int mqtt5;

  @BeforeAll
  static void start() throws Exception {
    brokerA = Ports.free();
    brokerB = Ports.free();
    a = broker(brokerA, "a");
    b = broker(brokerB, "b");
    mqtt = Ports.free();
    mqtt5 = Ports.free();
    var yaml =
        """
        stream_routes:
          - id: mqtt
            server_port: %d
            plugins:
              mqtt-proxy: {protocol_name: MQTT, protocol_level: 4}
            upstream:
              type: chash
              key: mqtt_client_id
              nodes: {"127.0.0.1:%d": 1, "127.0.0.1:%d": 1}
          - id: mqtt5
            server_port: %d
            plugins:
              mqtt-proxy: {protocol_name: MQTT, protocol_level: 5}
            upstream:
              type: chash
              key: mqtt_client_id
              nodes: {"127.0.0.1:%d": 1, "127.0.0.1:%d": 1}
        """
            .formatted(mqtt, brokerA, brokerB, mqtt5, brokerA, brokerB);
    gw = Gateways.start(dir, yaml, StreamSettings.DEFAULTS.withPorts(List.of(mqtt, mqtt5)));
  }

  static Server broker(int port, String name) throws IOException {
    var p = new Properties();
    p.setProperty("host", "127.0.0.1");
    p.setProperty("port", Integer.toString(port));
    p.setProperty("websocket_port", "disabled");
    p.setProperty("persistence_enabled", "false");
    p.setProperty("allow_anonymous", "true");
    p.setProperty("data_path", java.nio.file.Files.createDirectories(dir.resolve(name)).toString());
    var s = new Server();
    s.startServer(new MemoryConfig(p));
    return s;
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
    if (a != null) {
      a.stopServer();
    }
    if (b != null) {
      b.stopServer();
    }
  }

  @Test
  void aClientGetsItsConnackThroughTheDataplaneAndOneClientIdAlwaysReachesTheSameBroker()
      throws Exception {
    for (var id : List.of("sensor-1", "sensor-2", "sensor-3", "sensor-4")) {
      String first = null;
      for (int i = 0; i < 3; i++) {
        try (var s = connect(mqtt)) {
          s.getOutputStream().write(connect("MQTT", 4, id));
          var ack = s.getInputStream().readNBytes(4);
          assertThat(ack).as(id).containsExactly(0x20, 0x02, 0x00, 0x00);
          var at = await().atMost(Duration.ofSeconds(10)).until(() -> brokerOf(id), x -> x != null);
          if (first == null) {
            first = at;
          }
          assertThat(at).as(id + " connection " + i).isEqualTo(first);
          s.getOutputStream().write(new byte[] {(byte) 0xe0, 0x00}); // DISCONNECT
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> brokerOf(id) == null);
      }
    }
  }

  @Test
  void anMqtt5ConnectIsParsedAndRoutedByItsClientId() throws Exception {
    try (var s = connect(mqtt5)) {
      s.getOutputStream().write(connect("MQTT", 5, "five"));
      // The brokers speak 3.1.1 only: they answer a 5.0 CONNECT with a refusing CONNACK, which
      // shows the CONNECT went through, routed, untouched.
      assertThat(s.getInputStream().read()).isEqualTo(0x20);
    }
  }

  @Test
  void aMalformedConnectClosesTheConnection() throws Exception {
    try (var s = connect(mqtt)) {
      s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readOrEnd(s)).isEqualTo(-1);
    }
    try (var s = connect(mqtt)) { // a string longer than the packet that holds it
      s.getOutputStream().write(new byte[] {0x10, 0x06, 0x00, 0x20, 'M', 'Q', 'T', 'T'});
      assertThat(readOrEnd(s)).isEqualTo(-1);
    }
  }

  @Test
  void aConnectOfAnotherProtocolLevelClosesTheConnection() throws Exception {
    try (var s = connect(mqtt)) {
      s.getOutputStream().write(connect("MQTT", 5, "wrong-level"));
      assertThat(readOrEnd(s)).isEqualTo(-1);
    }
  }

  @Test
  void aConnectSentInPiecesIsReadWhole() throws Exception {
    var packet = connect("MQTT", 4, "slow-client");
    try (var s = connect(mqtt)) {
      var out = s.getOutputStream();
      for (var piece : new int[][] {{0, 1}, {1, 5}, {5, packet.length}}) {
        out.write(packet, piece[0], piece[1] - piece[0]);
        out.flush();
      }
      assertThat(s.getInputStream().readNBytes(4)).containsExactly(0x20, 0x02, 0x00, 0x00);
    }
  }

  /** Which broker has {@code id} connected now: "a", "b" or null. */
  static String brokerOf(String id) {
    if (a.listConnectedClients().stream().anyMatch(c -> c.getClientID().equals(id))) {
      return "a";
    }
    if (b.listConnectedClients().stream().anyMatch(c -> c.getClientID().equals(id))) {
      return "b";
    }
    return null;
  }

  /** A CONNECT with a clean session, a 60 s keep-alive and no properties (level 5). */
  static byte[] connect(String protocol, int level, String clientId) {
    var body = new ByteArrayOutputStream();
    writeString(body, protocol);
    body.write(level);
    body.write(0x02);
    body.write(0);
    body.write(60);
    if (level == 5) {
      body.write(0); // no properties
    }
    writeString(body, clientId);
    var out = new ByteArrayOutputStream();
    out.write(0x10);
    int len = body.size();
    do {
      int digit = len % 128;
      len /= 128;
      out.write(len > 0 ? digit | 0x80 : digit);
    } while (len > 0);
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  static void writeString(ByteArrayOutputStream out, String s) {
    var bytes = s.getBytes(StandardCharsets.UTF_8);
    out.write(bytes.length >> 8);
    out.write(bytes.length & 0xff);
    out.writeBytes(bytes);
  }

  static Socket connect(int port) throws IOException {
    var s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    return s;
  }

  static int readOrEnd(Socket s) throws IOException {
    try {
      return s.getInputStream().read();
    } catch (SocketException reset) {
      return -1;
    }
  }
}
