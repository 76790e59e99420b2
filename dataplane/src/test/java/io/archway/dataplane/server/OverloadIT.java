package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overload on a real dataplane: past {@code max_connections} a new connection is closed at once
 * while the admitted ones are served; past the memory high-water mark (a figure the test sets in
 * place of the JVM's) new requests get 503 with {@code Retry-After}, new connections are closed,
 * {@code /readyz} answers 503, and all of it ends under the low-water mark.
 */
class OverloadIT {

  static final int MAX = 4;

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  final List<Socket> sockets = new ArrayList<>();

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
            o -> o.withOverload(OverloadSettings.DEFAULTS.withMaxConnections(MAX)));
  }

  @AfterEach
  void stop() throws IOException {
    for (var s : sockets) {
      s.close();
    }
    gw.close();
    up.close();
  }

  @Test
  void oneConnectionPastMaxConnectionsIsClosedAtOnceAndTheAdmittedOnesAreServed() throws Exception {
    for (int i = 0; i < MAX; i++) {
      assertThat(get(connect(), "/x")).startsWith("HTTP/1.1 200");
    }
    var extra = connect();
    assertThat(closedWithoutAnswer(extra)).isTrue();
    assertThat(metric("archway_overload_connections_refused_total{reason=\"max_connections\"}"))
        .isGreaterThanOrEqualTo(1);
    // The admitted connections are still served, the next request on each as the first.
    for (int i = 0; i < MAX; i++) {
      assertThat(get(sockets.get(i), "/again")).startsWith("HTTP/1.1 200");
    }
    // One leaves: a new connection takes its place.
    sockets.get(0).close();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              var s = connect();
              try {
                assertThat(get(s, "/x")).startsWith("HTTP/1.1 200");
              } catch (IOException e) {
                throw new AssertionError(e);
              }
            });
  }

  @Test
  void pastTheMemoryHighWaterMarkNewWorkGets503AndReadyzTurnsNotReadyUntilTheLowMark()
      throws Exception {
    var figures = new OverloadTest.Figures();
    var overload = gw.dataplane().servers().overload;
    overload.probe(figures);
    var admitted = connect();
    assertThat(get(admitted, "/x")).startsWith("HTTP/1.1 200");

    figures.heap = 0.95;
    await().atMost(Duration.ofSeconds(30)).until(overload::shedding);
    var answer = get(admitted, "/x");
    assertThat(answer)
        .startsWith("HTTP/1.1 503")
        .containsIgnoringCase("retry-after: 1\r\n")
        .containsIgnoringCase("connection: close\r\n");
    assertThat(closedWithoutAnswer(admitted)).isTrue();
    assertThat(closedWithoutAnswer(connect())).isTrue();
    assertThat(gw.status("/readyz"))
        .contains("\"overloaded\" : true")
        .contains("\"ready\" : false");
    assertThat(gw.status("/healthz")).isEqualTo("ok\n");
    assertThat(metric("archway_overload_shedding")).isEqualTo(1);
    assertThat(metric("archway_overload_requests_shed_total")).isGreaterThanOrEqualTo(1);
    assertThat(metric("archway_overload_connections_refused_total{reason=\"memory\"}"))
        .isGreaterThanOrEqualTo(1);

    // Between the marks it goes on shedding; under the low one it serves again.
    figures.heap = 0.85;
    overload.sample();
    assertThat(overload.shedding()).isTrue();
    figures.heap = 0.5;
    await().atMost(Duration.ofSeconds(30)).until(() -> !overload.shedding());
    assertThat(get(connect(), "/x")).startsWith("HTTP/1.1 200");
    assertThat(gw.status("/readyz")).contains("\"ready\" : true");
  }

  private Socket connect() throws IOException {
    var s = new Socket("127.0.0.1", gw.port());
    s.setSoTimeout(30_000);
    sockets.add(s);
    return s;
  }

  /** Sends a GET and reads its whole answer (head and Content-Length body) as text. */
  private static String get(Socket s, String path) throws IOException {
    s.getOutputStream()
        .write(
            ("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return readAnswer(s.getInputStream());
  }

  private static String readAnswer(InputStream in) throws IOException {
    var head = new ByteArrayOutputStream();
    int b;
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      if ((b = in.read()) < 0) {
        throw new IOException("closed after " + head.size() + " bytes");
      }
      head.write(b);
    }
    var text = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (var line : text.split("\r\n")) {
      if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    return text + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
  }

  /** Whether the dataplane closed (or reset) the connection without a byte of answer. */
  private static boolean closedWithoutAnswer(Socket s) throws IOException {
    try {
      s.getOutputStream()
          .write("GET /x HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      return s.getInputStream().read() < 0;
    } catch (SocketException e) {
      return true;
    }
  }

  private long metric(String name) throws Exception {
    for (var line : gw.status("/metrics").split("\n")) {
      if (line.startsWith(name + " ")) {
        return (long) Double.parseDouble(line.substring(name.length() + 1));
      }
    }
    throw new AssertionError("no metric " + name);
  }
}
