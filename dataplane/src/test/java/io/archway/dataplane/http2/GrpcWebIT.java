package io.archway.dataplane.http2;

import static io.archway.dataplane.http2.GrpcIT.bytes;
import static io.archway.dataplane.http2.GrpcIT.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Pki;
import io.grpc.Server;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpc-web through a real dataplane to a real grpc-java server, with a gRPC-Web client written here
 * (frames: a flag byte, a 4-byte length, the message; the trailer frame has flag 0x80 and {@code
 * name: value} lines): binary and base64 text, unary and server-streaming (messages arrive while
 * the call is still open), trailers-only errors, the gateway's own errors, a deadline, CORS
 * preflight, APISIX's 405 and 400; over HTTP/1.1 and HTTP/2.
 */
class GrpcWebIT {

  static final String WEB = "application/grpc-web+proto";
  static final String TEXT = "application/grpc-web-text";

  static GrpcIT.Echo echo;
  static Server server;

  @TempDir Path dir;
  Gateways gw;

  @BeforeAll
  static void setUp() throws Exception {
    echo = new GrpcIT.Echo();
    server = GrpcIT.start(echo, null);
  }

  @AfterAll
  static void tearDown() {
    server.shutdownNow();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  void start(String plugin) throws Exception {
    var ca = Pki.authority("Web CA");
    var cert = Pki.server(ca, false, "web.test");
    var yaml =
        """
        routes:
          - id: web
            uri: /grpc/web/*
            plugins: {grpc-web: %s}
            upstream: {scheme: grpc, nodes: {"%s": 1}}
          - id: down
            uri: /down/*
            plugins: {grpc-web: {}}
            upstream: {scheme: grpc, nodes: {"127.0.0.1:1": 1}}
          - id: exact
            uri: /test.Echo/Unary
            plugins: {grpc-web: {}}
            upstream: {scheme: grpc, nodes: {"%s": 1}}
        ssls:
        %s"""
            .formatted(
                plugin,
                GrpcIT.node(server),
                GrpcIT.node(server),
                Pki.ssl("s", cert, List.of("web.test"), null));
    gw = Gateways.start(dir, yaml, o -> o.withHttp2(H2Settings.DEFAULTS.withH2c(true)));
  }

  static HttpClient client(HttpClient.Version v) throws Exception {
    return HttpClient.newBuilder()
        .version(v)
        .sslContext(Pki.trustingContext())
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  String h1(String path) {
    return gw.url(path);
  }

  String h2(String path) {
    return "https://127.0.0.1:" + gw.httpsPort() + path;
  }

  /** A gRPC-Web data frame. */
  static byte[] frame(byte[] message) {
    var b = ByteBuffer.allocate(5 + message.length);
    b.put((byte) 0).putInt(message.length).put(message);
    return b.array();
  }

  /** Base64 decoding of padded segments one after another (each piece the gateway sent). */
  static byte[] decodeText(byte[] text) {
    var out = new ByteArrayOutputStream();
    var s = new String(text, StandardCharsets.US_ASCII).replaceAll("\\s", "");
    assertThat(s.length() % 4).as("whole base64 quads").isZero();
    for (int i = 0; i < s.length(); i += 4) {
      out.writeBytes(Base64.getDecoder().decode(s.substring(i, i + 4)));
    }
    return out.toByteArray();
  }

  /** What a gRPC-Web answer body holds: its messages, then its trailer fields. */
  record Answer(List<byte[]> messages, Map<String, String> trailers) {
    String status() {
      return trailers.get("grpc-status");
    }
  }

  static Answer parse(byte[] body) throws Exception {
    var in = new DataInputStream(new java.io.ByteArrayInputStream(body));
    var messages = new ArrayList<byte[]>();
    Map<String, String> trailers = null;
    while (true) {
      int flag;
      try {
        flag = in.readUnsignedByte();
      } catch (EOFException e) {
        break;
      }
      var payload = new byte[in.readInt()];
      in.readFully(payload);
      if ((flag & 0x80) != 0) {
        assertThat(trailers).as("one trailer frame").isNull();
        trailers = new LinkedHashMap<>();
        for (var line : new String(payload, StandardCharsets.UTF_8).split("\r\n")) {
          int colon = line.indexOf(':');
          trailers.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
        }
      } else {
        assertThat(trailers).as("no message after the trailers").isNull();
        messages.add(payload);
      }
    }
    assertThat(trailers).as("a trailer frame").isNotNull();
    return new Answer(messages, trailers);
  }

  static HttpResponse<byte[]> post(HttpClient c, String url, String type, byte[] body)
      throws Exception {
    return c.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("content-type", type)
            .header("x-grpc-web", "1")
            .timeout(Duration.ofSeconds(20))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void binaryUnaryOverHttp1AndHttp2() throws Exception {
    start("{}");
    for (var version : List.of(HttpClient.Version.HTTP_1_1, HttpClient.Version.HTTP_2)) {
      try (var c = client(version)) {
        var url =
            version == HttpClient.Version.HTTP_2
                ? h2("/grpc/web/test.Echo/Unary")
                : h1("/grpc/web/test.Echo/Unary");
        var r = post(c, url, WEB, frame(bytes("hello " + version)));
        assertThat(r.version()).isEqualTo(version);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue(WEB);
        assertThat(r.headers().firstValue("access-control-allow-origin")).hasValue("*");
        assertThat(r.headers().firstValue("access-control-expose-headers"))
            .hasValue("grpc-message,grpc-status");
        assertThat(r.headers().firstValue("grpc-status")).isEmpty();
        var a = parse(r.body());
        assertThat(a.messages()).hasSize(1);
        assertThat(text(a.messages().get(0))).isEqualTo("hello " + version);
        assertThat(a.status()).isEqualTo("0");
      }
    }
  }

  @Test
  void textModeDecodesRequestsAndEncodesAnswers() throws Exception {
    start("{}");
    try (var c = client(HttpClient.Version.HTTP_2)) {
      // The request's frame in two padded segments, as a client encoding piece by piece may send.
      var f = frame(bytes("text mode!"));
      var enc = Base64.getEncoder();
      var body =
          (enc.encodeToString(java.util.Arrays.copyOf(f, 4))
                  + enc.encodeToString(java.util.Arrays.copyOfRange(f, 4, f.length)))
              .getBytes(StandardCharsets.US_ASCII);
      for (var url : List.of(h1("/grpc/web/test.Echo/Unary"), h2("/grpc/web/test.Echo/Unary"))) {
        var r = post(c, url, TEXT, body);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue(TEXT);
        var a = parse(decodeText(r.body()));
        assertThat(a.messages()).extracting(GrpcIT::text).containsExactly("text mode!");
        assertThat(a.status()).isEqualTo("0");
      }
      // Server streaming in text mode: every message, then the status.
      var r =
          post(
              c,
              h2("/grpc/web/test.Echo/Stream"),
              "application/grpc-web-text+proto",
              enc.encode(frame(bytes("5 10"))));
      var a = parse(decodeText(r.body()));
      assertThat(a.messages()).hasSize(5).allSatisfy(m -> assertThat(m).hasSize(10));
      assertThat(a.status()).isEqualTo("0");
      // Not base64: refused before the node answers.
      var bad = post(c, h1("/grpc/web/test.Echo/Unary"), TEXT, bytes("%%%%"));
      assertThat(bad.statusCode()).isEqualTo(400);
    }
  }

  @Test
  void serverStreamingIsRelayedMessageByMessage() throws Exception {
    start("{}");
    try (var c = client(HttpClient.Version.HTTP_1_1)) {
      // "hold": one message, and the call stays open: it must arrive before any end.
      var r =
          c.send(
              HttpRequest.newBuilder(URI.create(h1("/grpc/web/test.Echo/Stream")))
                  .header("content-type", "application/grpc-web")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(frame(bytes("hold"))))
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      assertThat(r.statusCode()).isEqualTo(200);
      try (InputStream in = r.body()) {
        var d = new DataInputStream(in);
        assertThat(d.readUnsignedByte()).isZero();
        var m = new byte[d.readInt()];
        d.readFully(m);
        assertThat(text(m)).isEqualTo("first");
      }
      // 32 MiB in 1 MiB messages, binary, relayed as they come.
      var big = post(c, h1("/grpc/web/test.Echo/Stream"), WEB, frame(bytes("32 1048576")));
      var a = parse(big.body());
      assertThat(a.messages()).hasSize(32);
      for (int i = 0; i < 32; i++) {
        assertThat(a.messages().get(i)).hasSize(1 << 20);
        assertThat(a.messages().get(i)[0]).isEqualTo((byte) i);
      }
      assertThat(a.status()).isEqualTo("0");
    }
  }

  @Test
  void errorsGoInTheTrailerFrame() throws Exception {
    start("{}");
    try (var c = client(HttpClient.Version.HTTP_2)) {
      for (var url : List.of(h1("/grpc/web/test.Echo/Fail"), h2("/grpc/web/test.Echo/Fail"))) {
        // The node's trailers-only NOT_FOUND: its status and message in the trailer frame.
        var r = post(c, url, WEB, frame(bytes("no such thing")));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("grpc-status")).isEmpty();
        var a = parse(r.body());
        assertThat(a.messages()).isEmpty();
        assertThat(a.status()).isEqualTo("5");
        assertThat(a.trailers()).containsEntry("grpc-message", "no such thing");
      }
      // A method the node does not have: its UNIMPLEMENTED.
      var un = parse(post(c, h1("/grpc/web/test.Echo/Nope"), WEB, frame(bytes("x"))).body());
      assertThat(un.status()).isEqualTo("12");
      // The gateway's own failure (the node is down): its HTTP status, UNAVAILABLE in the body.
      var down = post(c, h2("/down/test.Echo/Unary"), WEB, frame(bytes("x")));
      assertThat(down.statusCode()).isEqualTo(502);
      assertThat(down.headers().firstValue("content-type")).hasValue(WEB);
      assertThat(parse(down.body()).status()).isEqualTo("14");
      // The gateway's grpc-timeout: DEADLINE_EXCEEDED, and the node's call cancelled.
      int cancelled = echo.cancelled.get();
      var late =
          c.send(
              HttpRequest.newBuilder(URI.create(h1("/grpc/web/test.Echo/Hang")))
                  .header("content-type", WEB)
                  .header("grpc-timeout", "300m")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(frame(bytes("x"))))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(late.headers().firstValue("content-type")).hasValue(WEB);
      assertThat(parse(late.body()).status()).isEqualTo("4");
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> echo.cancelled.get() > cancelled);
    }
  }

  @Test
  void preflightMethodsAndContentTypesAsApisix() throws Exception {
    start("{cors_allow_headers: \"content-type,x-grpc-web,x-user-agent,authorization\"}");
    int calls = echo.unaryCalls.get();
    try (var c = client(HttpClient.Version.HTTP_1_1)) {
      var pre =
          c.send(
              HttpRequest.newBuilder(URI.create(h1("/grpc/web/test.Echo/Unary")))
                  .header("origin", "https://app.example")
                  .header("access-control-request-method", "POST")
                  .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(pre.statusCode()).isEqualTo(204);
      assertThat(pre.headers().firstValue("access-control-allow-methods")).hasValue("POST");
      assertThat(pre.headers().firstValue("access-control-allow-headers"))
          .hasValue("content-type,x-grpc-web,x-user-agent,authorization");
      assertThat(pre.headers().firstValue("access-control-allow-origin")).hasValue("*");
      assertThat(pre.headers().firstValue("access-control-expose-headers"))
          .hasValue("grpc-message,grpc-status");

      var get =
          c.send(
              HttpRequest.newBuilder(URI.create(h1("/grpc/web/test.Echo/Unary"))).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(get.statusCode()).isEqualTo(405);
      var json = post(c, h1("/grpc/web/test.Echo/Unary"), "application/json", bytes("{}"));
      assertThat(json.statusCode()).isEqualTo(400);
      // A route that does not match by prefix has no gRPC path to take: 400, as APISIX.
      var exact = post(c, h1("/test.Echo/Unary"), WEB, frame(bytes("x")));
      assertThat(exact.statusCode()).isEqualTo(400);
    }
    assertThat(echo.unaryCalls.get()).as("nothing refused reached the node").isEqualTo(calls);
  }
}
