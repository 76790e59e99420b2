package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.WebSocketClient;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebSocketIT {

  @TempDir Path dir;
  TestUpstream a;
  Gateways gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    if (a != null) {
      a.close();
    }
  }

  private void start(boolean websocket) throws Exception {
    a = new TestUpstream("a");
    start(websocket, a.node());
  }

  private void start(boolean websocket, String node) throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: ws
                uri: /ws
                enable_websocket: %s
                upstream:
                  nodes:
                    "%s": 1
            """
                .formatted(websocket, node));
  }

  @Test
  void echoesFramesBothWaysAndCloses() throws Exception {
    start(true);
    var client = new WebSocketClient();
    var messages = client.messages;
    var closed = client.closed;
    var ws = client.open(gw.client(), URI.create("ws://127.0.0.1:" + gw.port() + "/ws"));
    for (int i = 0; i < 100; i++) {
      ws.sendText("m" + i, true).get(5, TimeUnit.SECONDS);
      assertThat(messages.poll(5, TimeUnit.SECONDS)).isEqualTo("a:m" + i);
    }
    var big = "x".repeat(60_000);
    ws.sendText(big, true).get(5, TimeUnit.SECONDS);
    assertThat(messages.poll(5, TimeUnit.SECONDS)).isEqualTo("a:" + big);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    assertThat(closed.get(5, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
    // The gateway still serves plain requests on other connections.
    assertThat(gw.get("/ws").statusCode()).isEqualTo(200);
  }

  /**
   * Graceful shutdown: an open tunnel ends with a Close frame, 1001 going away, to the client (not
   * a reset), the client's answering Close reaches no one but the gateway, and the stop waits for
   * the close handshake rather than its whole drain timeout.
   */
  @Test
  void aStoppingServerEndsTunnelsWithGoingAway() throws Exception {
    start(true);
    var client = new WebSocketClient();
    var messages = client.messages;
    var closed = client.closed;
    var error = client.error;
    var ws = client.open(gw.client(), URI.create("ws://127.0.0.1:" + gw.port() + "/ws"));
    ws.sendText("before", true).get(5, TimeUnit.SECONDS);
    assertThat(messages.poll(5, TimeUnit.SECONDS)).isEqualTo("a:before");
    var servers = gw.dataplane().servers();
    var stopper = Thread.ofPlatform().start(() -> servers.stop(java.time.Duration.ofSeconds(60)));
    assertThat(closed.get(10, TimeUnit.SECONDS)).isEqualTo(1001);
    stopper.join(30_000);
    assertThat(stopper.isAlive()).as("the stop waited for the close handshake only").isFalse();
    assertThat(error).isNotDone();
    assertThat(servers.inFlight().active()).isZero();
  }

  @Test
  void upgradeIsNotProxiedWhenTheRouteDoesNotAllowIt() throws Exception {
    start(false);
    var failed =
        gw.client()
            .newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + gw.port() + "/ws"), new WebSocket.Listener() {})
            .handle((w, e) -> e != null)
            .get(10, TimeUnit.SECONDS);
    assertThat(failed).isTrue();
  }

  @Test
  void anInterimAnswerBeforeTheNodesSwitchIsNotTakenForItsAnswer() throws Exception {
    // A node that sends 103 Early Hints, then its 101, then one text frame "hi".
    try (var node = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread.ofVirtual()
          .start(
              () -> {
                try (var s = node.accept()) {
                  var in =
                      new java.io.BufferedReader(
                          new java.io.InputStreamReader(
                              s.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1));
                  String key = null;
                  for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("sec-websocket-key:")) {
                      key = line.substring(line.indexOf(':') + 1).trim();
                    }
                  }
                  var accept =
                      java.util.Base64.getEncoder()
                          .encodeToString(
                              java.security.MessageDigest.getInstance("SHA-1")
                                  .digest(
                                      (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                          .getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
                  var out = s.getOutputStream();
                  out.write(
                      ("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                              + "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              + "Connection: Upgrade\r\nSec-WebSocket-Accept: "
                              + accept
                              + "\r\n\r\n")
                          .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                  out.write(new byte[] {(byte) 0x81, 2, 'h', 'i'});
                  out.flush();
                  s.getInputStream().read(new byte[64]);
                } catch (Exception e) {
                  // the test's assertions say what went wrong
                }
              });
      start(true, "127.0.0.1:" + node.getLocalPort());
      var client = new WebSocketClient();
      client.open(gw.client(), URI.create("ws://127.0.0.1:" + gw.port() + "/ws"));
      assertThat(client.messages.poll(5, TimeUnit.SECONDS)).isEqualTo("hi");
    }
  }
}
