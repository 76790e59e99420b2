package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.cli.Main;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RecordingUpstream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Request smuggling and strictness regressions (issue 20, findings 1, 2, 3 and 6), with raw bytes
 * against a standalone gateway: a {@code key-auth} route {@code /admin/*}, an open route {@code
 * /public/*}, a WebSocket route {@code /ws}, all on one pooled keep-alive upstream that records
 * exactly what reaches it.
 *
 * <p>The policy these tests hold the gateway to (RFC 9112 §6-7, RFC 9110 §7.6.1, nginx where the
 * RFC leaves a choice):
 *
 * <ul>
 *   <li>A request that names a framing header ({@code Content-Length}, {@code Transfer-Encoding},
 *       {@code Host}) in {@code Connection} gets 400.
 *   <li>{@code chunked} is the only transfer coding: another one gets 501 (as nginx), {@code
 *       chunked} not last gets 400, {@code Transfer-Encoding} with {@code Content-Length} gets 400.
 *   <li>Malformed request lines, header fields and chunks get 400; a version other than 1.0/1.1
 *       gets 505.
 *   <li>Every rejection closes the connection: nothing pipelined behind it is served, and nothing
 *       of it reaches the upstream.
 *   <li>A request body is read (up to a buffer) before the upstream is connected, and {@code
 *       client_body_timeout} bounds the pause between two reads of it (408).
 * </ul>
 */
class SmugglingIT {

  static final String KEY = "admin-key";
  // Pipelined behind every rejected request: it must never be served.
  static final String AFTER = "GET /public/after HTTP/1.1\r\nHost: example.com\r\n\r\n";
  static final Duration DEADLINE = Duration.ofSeconds(5);

  @TempDir Path dir;
  RecordingUpstream up;
  Gateways gw;

  @BeforeEach
  void start() throws Exception {
    up = new RecordingUpstream();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
  }

  String routes() {
    return """
        routes:
          - id: admin
            uri: /admin/*
            plugins:
              key-auth: {}
            upstream:
              nodes:
                "%1$s": 1
          - id: public
            uri: /public/*
            upstream:
              nodes:
                "%1$s": 1
          - id: ws
            uri: /ws
            enable_websocket: true
            upstream:
              nodes:
                "%1$s": 1
        consumers:
          - username: admin
            plugins:
              key-auth: {key: %2$s}
        """
        .formatted(up.node(), KEY);
  }

  void gateway() throws Exception {
    gw = Gateways.start(dir, routes());
  }

  /** Sends {@code request} then {@link #AFTER} on one connection; reads until closed. */
  Wire.Result send(String request) throws Exception {
    return Wire.exchange(gw.port(), request + AFTER, 3, DEADLINE);
  }

  /** The gateway answered {@code statuses} once, closed, and sent the upstream nothing. */
  void assertRejected(Wire.Result r, Set<Integer> statuses) {
    // What the upstream got, in every message: a relayed 400 from the upstream's own parser reads
    // like the gateway's otherwise.
    await().atMost(DEADLINE).until(up::idle);
    var what =
        "client got %s; upstream got %s, unparseable: %s"
            .formatted(r, up.requests(), up.problems());
    assertThat(r.status()).as("status; " + what).isIn(statuses);
    assertThat(r.responses()).as("one answer, nothing pipelined served; " + what).hasSize(1);
    assertThat(r.closed()).as("connection closed after the rejection; " + what).isTrue();
    assertNothingReachedTheUpstream();
  }

  void assertNothingReachedTheUpstream() {
    await().atMost(DEADLINE).until(up::idle);
    assertThat(up.requests()).as("requests the upstream received").isEmpty();
    assertThat(up.problems()).as("unparseable bytes the upstream received").isEmpty();
    assertAFreshClientIsServedCleanly();
  }

  /** A new client's request reaches the upstream alone and whole (no leftover bytes on a link). */
  void assertAFreshClientIsServedCleanly() {
    try {
      int before = up.requests().size();
      var r =
          Wire.exchange(
              gw.port(),
              "POST /public/victim HTTP/1.1\r\nHost: example.com\r\nCookie: session=victim\r\n"
                  + "Content-Length: 6\r\n\r\nvictim",
              1,
              DEADLINE);
      assertThat(r.status()).as("a fresh client after the attack: %s", r).isEqualTo(200);
      var after = up.requests().subList(before, up.requests().size());
      assertThat(after).as("what the fresh client's request became upstream").hasSize(1);
      assertThat(after.get(0).target()).isEqualTo("/public/victim");
      assertThat(after.get(0).bodyText()).isEqualTo("victim");
      assertThat(up.problems()).isEmpty();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  // ---- controls: the harness itself works on today's gateway ----

  @Test
  void validRequestsAreForwardedWithTheirBodies() throws Exception {
    gateway();
    var r =
        Wire.exchange(
            gw.port(),
            "POST /public/a HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"
                + "POST /public/b HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n"
                + "\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                + "GET /admin/x HTTP/1.1\r\nHost: example.com\r\napikey: "
                + KEY
                + "\r\n\r\n",
            3,
            DEADLINE);
    assertThat(r.statuses()).containsExactly(200, 200, 200);
    assertThat(up.requests())
        .extracting(RecordingUpstream.Request::target, RecordingUpstream.Request::bodyText)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("/public/a", "hello"),
            org.assertj.core.groups.Tuple.tuple("/public/b", "hello world"),
            org.assertj.core.groups.Tuple.tuple("/admin/x", ""));
    assertThat(up.problems()).isEmpty();
  }

  // ---- finding 1 and 2: framing headers named in Connection ----

  @Test
  void connectionContentLengthIsRejectedAndNothingIsSmuggled() throws Exception {
    gateway();
    var smuggled = "GET /admin/secret HTTP/1.1\r\nHost: example.com\r\n\r\n";
    var r =
        send(
            "POST /public/a HTTP/1.1\r\nHost: example.com\r\nConnection: Content-Length\r\n"
                + "Content-Length: "
                + smuggled.length()
                + "\r\n\r\n"
                + smuggled);
    assertThat(up.requests()).noneMatch(q -> q.target().startsWith("/admin"));
    assertRejected(r, Set.of(400));
  }

  @Test
  void connectionTransferEncodingIsRejectedAndTheNextClientIsNotSpliced() throws Exception {
    gateway();
    var r =
        send(
            "POST /public/a HTTP/1.1\r\nHost: example.com\r\nConnection: Transfer-Encoding\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "1e\r\nGET /admin/secret HTTP/1.1\r\nX: \r\n0\r\n\r\n");
    assertRejected(r, Set.of(400));
  }

  static Stream<String> framingHeadersInConnection() {
    return Stream.of(
        "Content-Length",
        "content-length",
        "keep-alive, Content-Length",
        "Transfer-Encoding",
        "close, transfer-encoding",
        "Host");
  }

  @ParameterizedTest(name = "Connection: {0}")
  @MethodSource("framingHeadersInConnection")
  void framingHeaderNamedInConnectionGets400(String connection) throws Exception {
    gateway();
    var r =
        send(
            "POST /public/a HTTP/1.1\r\nHost: example.com\r\nConnection: "
                + connection
                + "\r\nContent-Length: 5\r\n\r\nhello");
    assertRejected(r, Set.of(400));
  }

  // ---- finding 3: transfer codings ----

  static Stream<Arguments> transferEncodings() {
    // status set, Transfer-Encoding value, with Content-Length 5 too
    return Stream.of(
        Arguments.of(Set.of(501), "xchunked", false),
        Arguments.of(Set.of(400, 501), "xchunked", true),
        Arguments.of(Set.of(400, 501), "chunked;q=1", false),
        Arguments.of(Set.of(400, 501), "chunked;q=1", true),
        Arguments.of(Set.of(400, 501), "\"chunked\"", false),
        Arguments.of(Set.of(400, 501), "\"chunked\"", true),
        Arguments.of(Set.of(501), "gzip, chunked", false),
        Arguments.of(Set.of(400, 501), "gzip, chunked", true),
        Arguments.of(Set.of(400), "chunked, identity", false),
        Arguments.of(Set.of(400), "chunked, chunked", false),
        Arguments.of(Set.of(501), "identity", false),
        Arguments.of(Set.of(400), "chunked", true));
  }

  @ParameterizedTest(name = "Transfer-Encoding: {1} (with Content-Length: {2})")
  @MethodSource("transferEncodings")
  void onlyChunkedIsAcceptedAndNeverWithContentLength(
      Set<Integer> statuses, String te, boolean withLength) throws Exception {
    gateway();
    var r =
        send(
            "POST /public/a HTTP/1.1\r\nHost: example.com\r\n"
                + (withLength ? "Content-Length: 5\r\n" : "")
                + "Transfer-Encoding: "
                + te
                + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assertRejected(r, statuses);
  }

  @Test
  void contentLengthBeforeTransferEncodingIsRejectedToo() throws Exception {
    gateway();
    // CL.TE: a front end that honours Content-Length would forward "0\r\n\r\nG" as a body.
    var r =
        send(
            "POST /public/a HTTP/1.1\r\nHost: example.com\r\nContent-Length: 6\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG");
    assertRejected(r, Set.of(400));
  }

  @Test
  void twoTransferEncodingFieldsEndingInAnotherCodingAreRejected() throws Exception {
    gateway();
    var r =
        send(
            "POST /public/a HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n"
                + "Transfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assertRejected(r, Set.of(400, 501));
  }

  // ---- finding 6: strict parsing ----

  static Stream<Arguments> malformed() {
    var post = "POST /public/a HTTP/1.1\r\nHost: example.com\r\n";
    var chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
    return Stream.of(
        Arguments.of("chunk size overflow", chunked + "ffffffffffffffffff1\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("chunk size 2^64+5", chunked + "10000000000000005\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("no CRLF after chunk data", chunked + "5\r\nhelloXX0\r\n\r\n"),
        Arguments.of("chunk size not hex", chunked + "5g\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("negative chunk size", chunked + "-5\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("obs-fold", post + "X-A: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("obs-fold with a tab", post + "X-A: a\r\n\tb\r\n\r\n"),
        Arguments.of("tab in the request line", "GET\t/public/a HTTP/1.1\r\nHost: x\r\n\r\n"),
        Arguments.of("tab before the version", "GET /public/a\tHTTP/1.1\r\nHost: x\r\n\r\n"),
        Arguments.of(
            "two spaces in the request line", "GET  /public/a HTTP/1.1\r\nHost: x\r\n\r\n"),
        Arguments.of("lowercase method", "get /public/a HTTP/1.1\r\nHost: x\r\n\r\n"),
        Arguments.of("mixed-case method", "Get /public/a HTTP/1.1\r\nHost: x\r\n\r\n"),
        Arguments.of("missing Host on HTTP/1.1", "GET /public/a HTTP/1.1\r\n\r\n"),
        Arguments.of(
            "duplicate Host",
            "GET /public/a HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"),
        Arguments.of("Host with a space", "GET /public/a HTTP/1.1\r\nHost: a b\r\n\r\n"),
        Arguments.of(
            "duplicate differing Content-Length",
            post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        Arguments.of("Content-Length list", post + "Content-Length: 5, 6\r\n\r\nhello!"),
        Arguments.of("Content-Length with a sign", post + "Content-Length: +5\r\n\r\nhello"),
        Arguments.of("negative Content-Length", post + "Content-Length: -5\r\n\r\nhello"),
        Arguments.of("Content-Length not digits", post + "Content-Length: 5a\r\n\r\nhello"),
        Arguments.of("Content-Length in hex", post + "Content-Length: 0x5\r\n\r\nhello"),
        Arguments.of(
            "Content-Length overflow", post + "Content-Length: 99999999999999999999\r\n\r\nhello"),
        Arguments.of("whitespace before the colon", post + "Content-Length : 5\r\n\r\nhello"),
        Arguments.of(
            "tab before the colon", post + "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n"),
        Arguments.of("space in a header name", post + "X Forwarded: 1\r\n\r\n"),
        Arguments.of("NUL in a header value", post + "X-A: a\0b\r\n\r\n"),
        Arguments.of("CR in a header value", post + "X-A: a\rb\r\n\r\n"),
        Arguments.of("NUL in a header name", post + "X\0A: 1\r\n\r\n"),
        Arguments.of("header line without a colon", post + "X-A\r\n\r\n"),
        Arguments.of("empty header name", post + ": x\r\n\r\n"),
        Arguments.of("NUL in the request target", "GET /public/a\0b HTTP/1.1\r\nHost: x\r\n\r\n"),
        Arguments.of("0x01 in the request target", "GET /public/a\1b HTTP/1.1\r\nHost: x\r\n\r\n"),
        Arguments.of(
            "DEL in the request target", "GET /public/a\u007fb HTTP/1.1\r\nHost: x\r\n\r\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedRequestsGet400AndClose(String what, String request) throws Exception {
    gateway();
    assertRejected(send(request), Set.of(400));
  }

  static Stream<String> versions() {
    return Stream.of("HTTP/2.0", "HTTP/3.0", "HTTP/0.9");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("versions")
  void anotherVersionInAnHttp1RequestLineGets505(String version) throws Exception {
    gateway();
    assertRejected(send("GET /public/a " + version + "\r\nHost: x\r\n\r\n"), Set.of(505));
  }

  @Test
  void aHigherMinorVersionIsServedAsHttp11() throws Exception {
    // RFC 9112 §2.3: a higher minor version is read as the highest one supported (as nginx).
    gateway();
    var r = send("GET /public/a HTTP/1.2\r\nHost: x\r\n\r\n");
    assertThat(r.statuses()).containsExactly(200, 200);
  }

  @Test
  void aMalformedVersionGets400() throws Exception {
    gateway();
    assertRejected(send("GET /public/a HTTP/1.1x\r\nHost: x\r\n\r\n"), Set.of(400));
  }

  // ---- upgrades ----

  static Stream<String> upgradeBodies() {
    return Stream.of(
        "Content-Length: 5\r\n\r\nhello",
        "Transfer-Encoding: chunked\r\n\r\n" + "5\r\nhello\r\n0\r\n\r\n");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("upgradeBodies")
  void anUpgradeWithABodyGets400(String body) throws Exception {
    gateway();
    var r =
        send(
            "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + body);
    assertRejected(r, Set.of(400));
  }

  // ---- slow bodies ----

  @Test
  void aSlowBodySmallerThanTheBufferDoesNotHoldAnUpstreamConnection() throws Exception {
    gateway();
    try (var s = new Socket("127.0.0.1", gw.port())) {
      var out = s.getOutputStream();
      out.write(
          "POST /public/slow HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1000\r\n\r\n"
              .getBytes(StandardCharsets.ISO_8859_1));
      out.write(new byte[100]);
      out.flush();
      // While the client stalls, the gateway must not have connected upstream.
      await()
          .during(Duration.ofMillis(700))
          .atMost(Duration.ofSeconds(2))
          .until(() -> up.connections() == 0);
      out.write(new byte[900]);
      out.flush();
      var r = Wire.read(s, 1, DEADLINE);
      assertThat(r.status()).isEqualTo(200);
    }
    assertThat(up.requests()).singleElement().satisfies(q -> assertThat(q.body()).hasSize(1000));
  }

  @Test
  void aClientThatStallsItsBodyGets408AfterClientBodyTimeout() throws Exception {
    // The dataplane's --config file: client_body_timeout next to client_header_timeout.
    var config = Files.writeString(dir.resolve("dataplane.yaml"), "client_body_timeout: 1\n");
    var options = Main.parse("--config", config.toString());
    gw = Gateways.start(dir, routes(), o -> o.withHttp(options.http().withAccessLog("off")));
    try (var s = new Socket("127.0.0.1", gw.port())) {
      var out = s.getOutputStream();
      out.write(
          "POST /public/slow HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1000\r\n\r\n"
              .getBytes(StandardCharsets.ISO_8859_1));
      out.write(new byte[100]);
      out.flush();
      var r = Wire.read(s, 1, Duration.ofSeconds(10));
      assertThat(r.status()).as("answer to a stalled body: %s", r).isEqualTo(408);
      assertThat(r.closed() || Wire.read(s, 1, DEADLINE).closed()).as("closed after 408").isTrue();
    }
    assertThat(up.requests()).isEmpty();
  }
}
