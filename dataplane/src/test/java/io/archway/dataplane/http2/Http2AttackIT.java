package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.H2Wire;
import io.archway.dataplane.testing.TestUpstream;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The known HTTP/2 attacks, each sent as raw frames over h2c: rapid reset (CVE-2023-44487), a
 * CONTINUATION flood (CVE-2024-27316 class), SETTINGS and PING floods, an HPACK bomb, and a client
 * that never opens its window (a zero-window stall). Each ends the way the defence says, and the
 * gateway goes on serving.
 */
class Http2AttackIT {

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

  void start(UnaryOperator<H2Settings> h2, HttpSettings http) throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: r1
                uri: /*
                upstream: {nodes: {"%s": 1}}
              - id: r2
                uri: /answered
                plugins: {fault-injection: {abort: {http_status: 200, body: "from the gateway"}}}"""
                .formatted(up.node()),
            o -> o.withHttp(http).withHttp2(h2.apply(H2Settings.DEFAULTS.withH2c(true))));
  }

  void start() throws Exception {
    start(h -> h, HttpSettings.DEFAULTS.withAccessLog("off"));
  }

  /** A fresh connection is still served: the defence cost the attacker only. */
  void stillServes() throws Exception {
    try (var ok = H2Wire.connect(gw.port())) {
      ok.headers(1, H2Wire.get("/after"), true);
      assertThat(ok.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
    }
  }

  static final long ENHANCE_YOUR_CALM = Http2Error.ENHANCE_YOUR_CALM.code();

  @Test
  void rapidResetEndsTheConnectionWithEnhanceYourCalm() throws Exception {
    start(
        h -> h.withFloodLimits(100, Duration.ofSeconds(30), 1000, 10_000),
        HttpSettings.DEFAULTS.withAccessLog("off"));
    try (var wire = H2Wire.connect(gw.port())) {
      // Open a stream and cancel it at once, again and again (each costs the server a request).
      for (int stream = 1; stream < 2 * 300; stream += 2) {
        int s = stream;
        if (!sendQuietly(() -> wire.headers(s, H2Wire.get("/r"), false))
            || !sendQuietly(() -> wire.reset(s, Http2Error.CANCEL))) {
          break; // the server closed the connection
        }
      }
      assertThat(wire.await("GOAWAY")).endsWith(" " + ENHANCE_YOUR_CALM);
      wire.await("EOF");
    }
    stillServes();
  }

  @Test
  void continuationFloodIsCappedAcrossFrames() throws Exception {
    start();
    try (var wire = H2Wire.connect(gw.port())) {
      // HEADERS without END_HEADERS, then CONTINUATION frames that never end the block: the
      // block's size is capped across frames, not per frame.
      var block = new byte[] {(byte) 0x82, (byte) 0x86, (byte) 0x84};
      wire.frame(0x1, 0x0, 1, block);
      var filler = new byte[4096];
      java.util.Arrays.fill(filler, (byte) 'a');
      int sent = 0;
      while (sent < 4 << 20 && wire.frame(0x9, 0x0, 1, filler)) {
        sent += filler.length;
        if (wire.lines().stream().anyMatch(l -> l.startsWith("GOAWAY"))) {
          break;
        }
      }
      // Ended once the block passed the header list size and a quarter (32 KiB + 8 KiB), long
      // before the 4 MiB were read.
      wire.await("GOAWAY");
      wire.await("EOF");
      assertThat(wire.lines()).noneMatch(l -> l.startsWith("HEADERS"));
    }
    try (var wire = H2Wire.connect(gw.port())) {
      // Many empty CONTINUATION frames: each costs nothing to send and a little to read.
      wire.frame(0x1, 0x0, 1, new byte[] {(byte) 0x82, (byte) 0x86, (byte) 0x84});
      for (int i = 0; i < 10_000 && wire.frame(0x9, 0x0, 1, new byte[0]); i++) {
        if (wire.lines().contains("EOF")) {
          break;
        }
      }
      wire.await("GOAWAY");
      wire.await("EOF");
    }
    stillServes();
  }

  @Test
  void settingsFloodEndsTheConnection() throws Exception {
    start(
        h -> h.withFloodLimits(200, Duration.ofSeconds(30), 100, 10_000),
        HttpSettings.DEFAULTS.withAccessLog("off"));
    try (var wire = H2Wire.connect(gw.port())) {
      for (int i = 0; i < 1000; i++) {
        if (!sendQuietly(() -> wire.settings(new Http2Settings().initialWindowSize(65535)))) {
          break;
        }
      }
      assertThat(wire.await("GOAWAY")).endsWith(" " + ENHANCE_YOUR_CALM);
      wire.await("EOF");
    }
    assertThat(gw.dataplane().servers().httpMetrics().errors("h2_control_frame_flood"))
        .isEqualTo(1);
    stillServes();
  }

  @Test
  void pingFloodEndsTheConnection() throws Exception {
    start(
        h -> h.withFloodLimits(200, Duration.ofSeconds(30), 100, 10_000),
        HttpSettings.DEFAULTS.withAccessLog("off"));
    try (var wire = H2Wire.connect(gw.port())) {
      for (int i = 0; i < 1000; i++) {
        long n = i;
        if (!sendQuietly(() -> wire.ping(n))) {
          break;
        }
      }
      assertThat(wire.await("GOAWAY")).endsWith(" " + ENHANCE_YOUR_CALM);
      wire.await("EOF");
    }
    stillServes();
  }

  interface Send {
    void run() throws Exception;
  }

  static boolean sendQuietly(Send s) {
    try {
      s.run();
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /** HPACK's integer with an {@code n}-bit prefix (RFC 7541 §5.1), first byte ORed with flags. */
  static void integer(ByteArrayOutputStream out, int flags, int n, int value) {
    int max = (1 << n) - 1;
    if (value < max) {
      out.write(flags | value);
      return;
    }
    out.write(flags | max);
    value -= max;
    while (value >= 128) {
      out.write((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.write(value);
  }

  static void literal(ByteArrayOutputStream out, String s) {
    var b = s.getBytes(StandardCharsets.US_ASCII);
    integer(out, 0, 7, b.length);
    out.writeBytes(b);
  }

  @Test
  void hpackBombIsCappedByTheHeaderListSize() throws Exception {
    start();
    try (var wire = H2Wire.connect(gw.port())) {
      // Stream 1 puts a 4 KB field in the dynamic table (small enough to be served)...
      var first = new ByteArrayOutputStream();
      first.write(0x82); // :method GET
      first.write(0x86); // :scheme http
      first.write(0x84); // :path /
      first.write(0x41); // :authority, incrementally indexed
      literal(first, "localhost");
      first.write(0x40); // x-bomb, incrementally indexed
      literal(first, "x-bomb");
      literal(first, "b".repeat(4000));
      wire.frame(0x1, 0x5, 1, first.toByteArray()); // END_STREAM | END_HEADERS
      assertThat(wire.await("HEADERS 1")).startsWith("HEADERS 1 200");
      // ... and stream 3 names it 200 times: 3 bytes on the wire, 800 KB decoded.
      var bomb = new ByteArrayOutputStream();
      bomb.write(0x82);
      bomb.write(0x86);
      bomb.write(0x84);
      bomb.write(0x80 | 63); // :authority localhost (the older entry)
      for (int i = 0; i < 200; i++) {
        bomb.write(0x80 | 62); // x-bomb
      }
      wire.frame(0x1, 0x5, 3, bomb.toByteArray());
      // Refused with 431 (or reset), and the connection goes on.
      assertThat(
              wire.await(
                  s -> s.startsWith("HEADERS 3") || s.startsWith("RST 3"), Duration.ofSeconds(10)))
          .isIn("HEADERS 3 431 end", "RST 3 " + Http2Error.PROTOCOL_ERROR.code(), "HEADERS 3 431");
      var next = new ByteArrayOutputStream();
      next.write(0x82);
      next.write(0x86);
      next.write(0x84);
      next.write(0x80 | 63);
      wire.frame(0x1, 0x5, 5, next.toByteArray());
      assertThat(wire.await("HEADERS 5")).startsWith("HEADERS 5 200");
    }
    assertThat(up.lastHeaders()).doesNotContainKey("x-bomb");
  }

  @Test
  void aClientThatNeverOpensItsWindowIsResetAfterTheSendTimeout() throws Exception {
    start(
        h -> h, HttpSettings.DEFAULTS.withAccessLog("off").withSendTimeout(Duration.ofSeconds(1)));
    // Window 0: the server may send headers, never a byte of body.
    try (var wire = H2Wire.connect(gw.port(), new Http2Settings().initialWindowSize(0))) {
      wire.headers(1, H2Wire.get("/download?size=1048576"), true);
      assertThat(wire.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
      assertThat(wire.await("RST 1")).isEqualTo("RST 1 " + Http2Error.CANCEL.code());
      assertThat(wire.dataBytes()).isZero();
      // The connection outlives its stalled stream.
      wire.settings(new Http2Settings().initialWindowSize(65535));
      wire.headers(3, H2Wire.get("/small"), true);
      assertThat(wire.await("HEADERS 3")).isEqualTo("HEADERS 3 200");
      wire.await("DATA 3");
    }
    assertThat(gw.dataplane().servers().httpMetrics().errors("client_send_timeout")).isEqualTo(1);
  }

  @Test
  void aGatewayAnswerThatCannotGoOutIsResetAfterTheSendTimeout() throws Exception {
    start(
        h -> h, HttpSettings.DEFAULTS.withAccessLog("off").withSendTimeout(Duration.ofSeconds(1)));
    try (var wire = H2Wire.connect(gw.port(), new Http2Settings().initialWindowSize(0))) {
      wire.headers(1, H2Wire.get("/answered"), true);
      assertThat(wire.await("HEADERS 1")).isEqualTo("HEADERS 1 200");
      // The exchange is over, its body waits for a window that never opens: reset, not kept.
      assertThat(wire.await("RST 1")).isEqualTo("RST 1 " + Http2Error.CANCEL.code());
      assertThat(wire.dataBytes()).isZero();
    }
    assertThat(gw.dataplane().servers().httpMetrics().errors("client_send_timeout")).isEqualTo(1);
  }

  @Test
  void anIdleConnectionIsClosedWithGoAway() throws Exception {
    start(
        h -> h,
        HttpSettings.DEFAULTS
            .withAccessLog("off")
            .withTimeouts(Duration.ofSeconds(60), Duration.ofMillis(500)));
    try (var wire = H2Wire.connect(gw.port())) {
      wire.headers(1, H2Wire.get("/a"), true);
      wire.await("HEADERS 1");
      assertThat(wire.await("GOAWAY")).isEqualTo("GOAWAY 1 0");
      wire.await("EOF");
    }
  }
}
