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
            o ->
                o.withOverload(OverloadSettings.DEFAULTS.withMaxConnections(MAX))
                    .withHttp2(io.archway.dataplane.http2.H2Settings.DEFAULTS.withH2c(true)));
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

  /**
   * The sampler stopped: the test sets the memory figures and takes each sample itself, so what
   * each sample does is known.
   */
  private OverloadTest.Figures sampledByTheTest() {
    var overload = gw.dataplane().servers().overload;
    overload.close();
    var figures = new OverloadTest.Figures();
    figures.limit = 1 << 20;
    overload.probe(figures);
    return figures;
  }

  private void shed(OverloadTest.Figures figures, double direct) {
    figures.direct = direct;
    gw.dataplane().servers().overload.sample();
  }

  @Test
  void whileSheddingBodiesStopBeingReadTheLargestIsResetAndTheOthersGoOnAfter() throws Exception {
    var figures = sampledByTheTest();
    var shedding = gw.dataplane().servers().overload.loadShedding();
    var big = connect();
    send(big, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    big.getOutputStream().write(new byte[40_000]);
    var small = connect();
    send(small, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> gw.dataplane().servers().inFlight().active() == 2);

    shed(figures, 0.95);
    // More of each body: from now on not read, each upload waits with what it holds.
    send(big, "x");
    send(small, "a");
    await().atMost(Duration.ofSeconds(30)).until(() -> shedding.parked() == 2);

    // Still past the low mark (80 %) by about 100 bytes of its 1 MB: the largest goes, alone.
    shed(figures, 0.8001);
    assertThat(readAnswer(big.getInputStream()))
        .startsWith("HTTP/1.1 503")
        .containsIgnoringCase("connection: close\r\n");
    assertThat(big.getInputStream().read()).isNegative();
    assertThat(shedding.parked()).isEqualTo(1);
    assertThat(metric("archway_overload_requests_reset_total")).isEqualTo(1);

    // Under the low mark: the other upload is read again, and goes through whole.
    shed(figures, 0.5);
    assertThat(gw.dataplane().servers().overload.shedding()).isFalse();
    send(small, "bcdefghij");
    assertThat(readAnswer(small.getInputStream())).startsWith("HTTP/1.1 200").endsWith("20");
  }

  @Test
  void aBodyTheGatewayStoppedReadingIsNotTimedOutAsTheClientsFault() throws Exception {
    gw.close();
    var http = io.archway.dataplane.http.HttpSettings.DEFAULTS.withAccessLog("off");
    gw =
        Gateways.start(
            dir,
            "routes:\n  - id: r\n    uri: /*\n    upstream:\n      nodes:\n        \"%s\": 1\n"
                .formatted(up.node()),
            o ->
                o.withHttp(
                    http.withClientBody(Duration.ofMillis(300), http.clientBodyBufferSize())));
    var figures = sampledByTheTest();
    var shedding = gw.dataplane().servers().overload.loadShedding();
    var c = connect();
    send(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> gw.dataplane().servers().inFlight().active() == 1);
    shed(figures, 0.95);
    send(c, "a");
    await().atMost(Duration.ofSeconds(30)).until(() -> shedding.parked() == 1);
    // Parked for three times client_body_timeout: no 408, the client is not the one waiting.
    await()
        .during(Duration.ofMillis(900))
        .atMost(Duration.ofSeconds(30))
        .until(() -> c.getInputStream().available() == 0 && shedding.parked() == 1);
    shed(figures, 0.5);
    send(c, "bcdefghij");
    assertThat(readAnswer(c.getInputStream())).startsWith("HTTP/1.1 200").endsWith("20");
  }

  @Test
  void whileSheddingAnAnswerToARequestAdmittedBeforeClosesItsConnection() throws Exception {
    var figures = sampledByTheTest();
    var admitted = connect();
    send(admitted, "GET /delay/1000 HTTP/1.1\r\nHost: x\r\n\r\n");
    // At the node: admitted and past the pipeline's shedding check.
    await().atMost(Duration.ofSeconds(30)).until(() -> up.requests() == 1);
    shed(figures, 0.95);
    assertThat(readAnswer(admitted.getInputStream()))
        .startsWith("HTTP/1.1 200")
        .containsIgnoringCase("connection: close\r\n");
    assertThat(admitted.getInputStream().read()).isNegative();
  }

  @Test
  void whileSheddingAnHttp2StreamIsRefusedAndTheConnectionGoesAwayAfterTheOpenOnes()
      throws Exception {
    var figures = sampledByTheTest();
    try (var wire = io.archway.dataplane.testing.H2Wire.connect(gw.port())) {
      wire.headers(1, io.archway.dataplane.testing.H2Wire.get("/delay/1000"), true);
      await().atMost(Duration.ofSeconds(30)).until(() -> up.requests() == 1);
      shed(figures, 0.95);
      wire.headers(3, io.archway.dataplane.testing.H2Wire.get("/x"), true);
      // REFUSED_STREAM (7): not processed, safe to send again, on a new connection (GOAWAY).
      assertThat(wire.await("RST 3")).isEqualTo("RST 3 7");
      assertThat(wire.await("GOAWAY")).endsWith(" 0");
      assertThat(wire.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
      wire.await("EOF");
    }
    assertThat(metric("archway_overload_requests_shed_total")).isEqualTo(1);
  }

  private static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
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
