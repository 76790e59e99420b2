package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.H2Wire;
import io.archway.dataplane.testing.TestUpstream;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * h2spec-style conformance cases from RFC 9113, written as tests (Debian has no h2spec): malformed
 * requests are stream errors ({@code RST_STREAM PROTOCOL_ERROR}, §8.1.1), frames that break the
 * connection's rules are connection errors ({@code GOAWAY}, §5.4.1), and what HTTP/1.1 answers with
 * a status is answered with the same status.
 */
class Http2ConformanceIT {

  static TestUpstream up;

  @TempDir Path dir;
  Gateways gw;

  @BeforeAll
  static void setUp() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterAll
  static void tearDown() {
    up.close();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  void start(UnaryOperator<H2Settings> h2) throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: r1
                uri: /*
                upstream: {nodes: {"%s": 1}}"""
                .formatted(up.node()),
            o ->
                o.withHttp(HttpSettings.DEFAULTS.withAccessLog("off"))
                    .withHttp2(h2.apply(H2Settings.DEFAULTS.withH2c(true))));
  }

  static final String PROTOCOL_ERROR = Long.toString(Http2Error.PROTOCOL_ERROR.code());

  /** Headers as given, unchecked by Netty (names and order kept). */
  static Http2Headers raw(String... nameValues) {
    var h = new DefaultHttp2Headers(false);
    for (int i = 0; i < nameValues.length; i += 2) {
      h.add(nameValues[i], nameValues[i + 1]);
    }
    return h;
  }

  static Http2Headers get(String... extra) {
    var h = raw(":method", "GET", ":scheme", "http", ":path", "/c", ":authority", "localhost");
    for (int i = 0; i < extra.length; i += 2) {
      h.add(extra[i], extra[i + 1]);
    }
    return h;
  }

  /** Sends {@code h} on stream 1 of a new connection and returns the stream's first answer. */
  String answer(Http2Headers h, boolean endStream) throws Exception {
    try (var wire = H2Wire.connect(gw.port())) {
      wire.headers(1, h, endStream);
      return wire.await(
          l -> l.startsWith("RST 1") || l.startsWith("HEADERS 1") || l.startsWith("GOAWAY"),
          java.time.Duration.ofSeconds(10));
    }
  }

  void malformed(Http2Headers h) throws Exception {
    assertThat(answer(h, true)).as(h.toString()).isEqualTo("RST 1 " + PROTOCOL_ERROR);
  }

  @Test
  void malformedRequestsAreStreamErrors() throws Exception {
    start(h -> h);
    int before = up.requests();
    // §8.3.1: the pseudo-header fields, each once, none unknown, none of a response.
    malformed(raw(":method", "GET", ":scheme", "http", ":authority", "localhost"));
    malformed(raw(":method", "GET", ":path", "/", ":authority", "localhost"));
    malformed(raw(":scheme", "http", ":path", "/", ":authority", "localhost"));
    malformed(raw(":method", "GET", ":scheme", "http", ":path", "/", ":path", "/b"));
    malformed(raw(":method", "GET", ":method", "POST", ":scheme", "http", ":path", "/"));
    malformed(get(":foo", "bar"));
    malformed(get(":status", "200"));
    malformed(raw(":method", "GET", ":scheme", "http", ":path", "", ":authority", "localhost"));
    malformed(raw(":method", "GET", ":scheme", "http", ":path", "no-slash", ":authority", "x"));
    malformed(raw(":method", "G E T", ":scheme", "http", ":path", "/", ":authority", "x"));
    // §8.2.1: field names are lower case; values have no CR, LF or NUL, nor white space around.
    malformed(get("X-Upper", "1"));
    malformed(get("x-split", "a\r\nx-injected: 1"));
    malformed(get("x-nul", "a\u0000b"));
    malformed(get("x-space", " padded"));
    // §8.2.2: connection-specific fields.
    malformed(get("connection", "keep-alive"));
    malformed(get("keep-alive", "timeout=5"));
    malformed(get("proxy-connection", "keep-alive"));
    malformed(get("transfer-encoding", "chunked"));
    malformed(get("upgrade", "websocket"));
    malformed(get("te", "gzip"));
    assertThat(answer(get("te", "trailers"), true)).isEqualTo("HEADERS 1 200");
    // §8.1.1: a content-length that is not a number, or that the DATA frames do not add up to.
    malformed(get("content-length", "abc"));
    malformed(get("content-length", "5"));
    // Only the one well-formed request reached the node.
    assertThat(up.requests() - before).isEqualTo(1);
  }

  @Test
  void pseudoHeaderAfterARegularFieldIsAStreamError() throws Exception {
    start(h -> h);
    try (var wire = H2Wire.connect(gw.port())) {
      var block = new ByteArrayOutputStream();
      block.write(0x00); // a literal field without indexing, new name
      literal(block, "x-first");
      literal(block, "1");
      block.write(0x82); // :method GET
      block.write(0x86); // :scheme http
      block.write(0x84); // :path /
      wire.frame(0x1, 0x5, 1, block.toByteArray());
      assertThat(wire.await("RST 1")).isEqualTo("RST 1 " + PROTOCOL_ERROR);
    }
  }

  static void literal(ByteArrayOutputStream out, String s) {
    var b = s.getBytes(StandardCharsets.US_ASCII);
    out.write(b.length);
    out.writeBytes(b);
  }

  @Test
  void contentLengthMustMatchTheData() throws Exception {
    start(h -> h);
    try (var wire = H2Wire.connect(gw.port())) {
      var h = get("content-length", "10");
      h.set(":method", "POST");
      wire.headers(1, h, false);
      wire.data(1, "hello".getBytes(StandardCharsets.US_ASCII), true);
      assertThat(wire.await(l -> l.startsWith("RST 1"), java.time.Duration.ofSeconds(10)))
          .isEqualTo("RST 1 " + PROTOCOL_ERROR);
    }
    try (var wire = H2Wire.connect(gw.port())) {
      var h = get("content-length", "2");
      h.set(":method", "POST");
      wire.headers(1, h, false);
      wire.data(1, "hello".getBytes(StandardCharsets.US_ASCII), true);
      assertThat(wire.await(l -> l.startsWith("RST 1"), java.time.Duration.ofSeconds(10)))
          .isEqualTo("RST 1 " + PROTOCOL_ERROR);
    }
    try (var wire = H2Wire.connect(gw.port())) {
      var h = get("content-length", "5");
      h.set(":method", "POST");
      h.set(":path", "/upload");
      wire.headers(1, h, false);
      wire.data(1, "hel".getBytes(StandardCharsets.US_ASCII), false);
      wire.data(1, "lo".getBytes(StandardCharsets.US_ASCII), true);
      assertThat(wire.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
      assertThat(wire.await("DATA 1")).isEqualTo("DATA 1 1 end");
    }
  }

  @Test
  void connectionErrorsEndWithGoAway() throws Exception {
    start(h -> h);
    // §6.1: DATA on stream 0.
    try (var wire = H2Wire.connect(gw.port())) {
      wire.frame(0x0, 0x1, 0, new byte[] {'x'});
      assertThat(wire.await("GOAWAY")).endsWith(" " + PROTOCOL_ERROR);
      wire.await("EOF");
    }
    // §5.1.1: a client opens odd-numbered streams only.
    try (var wire = H2Wire.connect(gw.port())) {
      wire.headers(2, get(), true);
      assertThat(wire.await("GOAWAY")).endsWith(" " + PROTOCOL_ERROR);
    }
    // §4.2: a frame over SETTINGS_MAX_FRAME_SIZE.
    try (var wire = H2Wire.connect(gw.port())) {
      wire.frame(0x0, 0x0, 1, new byte[16_385]);
      assertThat(wire.await("GOAWAY")).endsWith(" " + Http2Error.FRAME_SIZE_ERROR.code());
    }
    // §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1.
    try (var wire = H2Wire.connect(gw.port())) {
      wire.frame(0x4, 0x0, 0, new byte[] {0, 4, (byte) 0x80, 0, 0, 0});
      assertThat(wire.await("GOAWAY")).endsWith(" " + Http2Error.FLOW_CONTROL_ERROR.code());
    }
    // §6.9: a WINDOW_UPDATE of 0 on the connection.
    try (var wire = H2Wire.connect(gw.port())) {
      wire.frame(0x8, 0x0, 0, new byte[] {0, 0, 0, 0});
      assertThat(wire.await("GOAWAY")).endsWith(" " + PROTOCOL_ERROR);
    }
    // And a connection that keeps the rules is served.
    try (var wire = H2Wire.connect(gw.port())) {
      wire.headers(1, get(), true);
      assertThat(wire.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
    }
  }

  @Test
  void whatHttp11AnswersWithAStatusGetsTheSameStatus() throws Exception {
    start(h -> h);
    assertThat(answer(get("host", "other.example"), true)).isEqualTo("HEADERS 1 400");
    var trace = get();
    trace.set(":method", "TRACE");
    assertThat(answer(trace, true)).isEqualTo("HEADERS 1 405");
    assertThat(answer(get("expect", "something"), true)).isEqualTo("HEADERS 1 417");
    var noAuthority = raw(":method", "GET", ":scheme", "http", ":path", "/");
    assertThat(answer(noAuthority, true)).isEqualTo("HEADERS 1 400");
    var bad = raw(":method", "GET", ":scheme", "ftp", ":path", "/", ":authority", "x");
    assertThat(answer(bad, true)).isEqualTo("HEADERS 1 400");
    // A path that cannot be normalized safely (docs/security.md, "Paths").
    var dots = get();
    dots.set(":path", "/../etc/passwd");
    assertThat(answer(dots, true)).isIn("HEADERS 1 400", "HEADERS 1 200");
    var head = get();
    head.set(":method", "HEAD");
    // A HEAD answer carries no DATA: the head ends the stream.
    assertThat(answer(head, true)).isEqualTo("HEADERS 1 200 end");
  }

  @Test
  void cookieCrumbsAreJoinedForTheNode() throws Exception {
    start(h -> h);
    assertThat(answer(get("cookie", "a=1", "cookie", "b=2"), true)).isEqualTo("HEADERS 1 200");
    assertThat(up.lastHeaders())
        .containsEntry("cookie", "a=1; b=2")
        .containsEntry("host", "localhost");
  }

  @Test
  void streamsOverTheConcurrencyLimitAreRefused() throws Exception {
    start(h -> h.withSettings(2, h.maxHeaderListSize(), h.initialWindowSize(), h.maxFrameSize()));
    try (var wire = H2Wire.connect(gw.port())) {
      // Let the client take the server's SETTINGS in before it counts on them.
      wire.await("SETTINGS");
      var slow = get();
      slow.set(":path", "/delay/1000");
      wire.headers(1, slow, true);
      wire.headers(3, slow, true);
      wire.headers(5, slow, true);
      assertThat(wire.await("RST 5")).isEqualTo("RST 5 " + Http2Error.REFUSED_STREAM.code());
      assertThat(wire.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
      assertThat(wire.await("HEADERS 3")).isEqualTo("HEADERS 3 200");
    }
  }
}
