package io.archway.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.CallOptions;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The clients of the conformance suite, over real sockets to the dataplane's listeners on loopback:
 * HTTP/1.1 written by hand (so that {@code Host} and every header are the test's, and redirects are
 * not followed), HTTPS with a server name, TLS, TCP and UDP probes, and gRPC calls.
 */
final class Wire {

  private Wire() {}

  /** An HTTP answer; header names lower-case. */
  record Response(int status, Map<String, List<String>> headers, String body) {
    String header(String name) {
      var v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null ? null : v.get(0);
    }

    /** The echo backend's JSON (see {@link Backends.HttpEcho}). */
    JsonNode echo() throws IOException {
      return Backends.JSON.readTree(body);
    }

    /** The name of the echo backend that answered, or null. */
    String backend() {
      return header("x-echo-backend");
    }
  }

  /** A request: method, Host, path, extra headers. */
  record Request(String method, String host, String path, Map<String, String> headers) {
    static Request get(String host, String path) {
      return new Request("GET", host, path, Map.of());
    }

    Request with(String name, String value) {
      var h = new LinkedHashMap<>(headers);
      h.put(name, value);
      return new Request(method, host, path, h);
    }

    Request method(String m) {
      return new Request(m, host, path, headers);
    }
  }

  static Response http(int port, Request r) throws IOException {
    try (var s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
      return exchange(s, r);
    }
  }

  /**
   * A WebSocket exchange written by hand (RFC 6455): the upgrade of {@code path} with that {@code
   * Host}, then one masked text message; the text of the first message answered, or an {@link
   * IOException} naming the status when the upgrade is not accepted with the right {@code
   * Sec-WebSocket-Accept}.
   */
  static String webSocketText(int port, String host, String path, String text) throws Exception {
    try (var s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
      s.setSoTimeout(10_000);
      var nonce = new byte[16];
      new java.security.SecureRandom().nextBytes(nonce);
      var key = java.util.Base64.getEncoder().encodeToString(nonce);
      var head =
          "GET "
              + path
              + " HTTP/1.1\r\nHost: "
              + host
              + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
              + key
              + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
      var out = s.getOutputStream();
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      var in = new java.io.DataInputStream(s.getInputStream());
      var answer = new StringBuilder();
      while (!answer.toString().endsWith("\r\n\r\n")) {
        answer.append((char) in.readUnsignedByte());
      }
      var expected =
          java.util.Base64.getEncoder()
              .encodeToString(
                  java.security.MessageDigest.getInstance("SHA-1")
                      .digest(
                          (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                              .getBytes(StandardCharsets.ISO_8859_1)));
      var lower = answer.toString().toLowerCase(Locale.ROOT);
      if (!lower.startsWith("http/1.1 101")
          || !lower.contains("sec-websocket-accept: " + expected.toLowerCase(Locale.ROOT))) {
        throw new IOException("upgrade not accepted: " + answer.toString().split("\r\n")[0]);
      }
      var payload = text.getBytes(StandardCharsets.UTF_8);
      var mask = new byte[4];
      new java.security.SecureRandom().nextBytes(mask);
      out.write(0x81); // FIN, text
      out.write(0x80 | payload.length); // masked, under 126 bytes
      out.write(mask);
      for (int i = 0; i < payload.length; i++) {
        out.write(payload[i] ^ mask[i % 4]);
      }
      out.flush();
      int first = in.readUnsignedByte();
      int len = in.readUnsignedByte() & 0x7f;
      if (first != 0x81 || len >= 126) {
        throw new IOException("not one short text message: " + first + ", length " + len);
      }
      var back = new byte[len];
      in.readFully(back);
      return new String(back, StandardCharsets.UTF_8);
    }
  }

  /** Over TLS to the listener, with {@code sni} as the server name (any certificate trusted). */
  static Response https(int port, String sni, Request r) throws Exception {
    try (var s = tls(port, sni)) {
      return exchange(s, r);
    }
  }

  /** The certificate subject the listener shows for that server name. */
  static String certificateSubject(int port, String sni) throws Exception {
    try (var s = tls(port, sni)) {
      var cert = (java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0];
      return cert.getSubjectX500Principal().getName();
    }
  }

  private static SSLSocket tls(int port, String sni) throws Exception {
    var ctx = SSLContext.getInstance("TLS");
    ctx.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
    var s = (SSLSocket) ctx.getSocketFactory().createSocket();
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
    s.setSoTimeout(10_000);
    var params = s.getSSLParameters();
    params.setServerNames(List.of(new SNIHostName(sni)));
    s.setSSLParameters(params);
    s.startHandshake();
    return s;
  }

  /** A line sent over TLS (passthrough: the backend terminates) and the line answered. */
  static String tlsLine(int port, String sni, String line) throws Exception {
    try (var s = tls(port, sni)) {
      s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  /** A line sent over TCP and the line answered. */
  static String tcpLine(int port, String line) throws IOException {
    try (var s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  /** A datagram sent and the datagram answered. */
  static String udp(int port, String payload) throws IOException {
    try (var s = new DatagramSocket()) {
      s.setSoTimeout(2000);
      var out = payload.getBytes(StandardCharsets.UTF_8);
      s.send(new DatagramPacket(out, out.length, InetAddress.getLoopbackAddress(), port));
      var buf = new byte[2048];
      var p = new DatagramPacket(buf, buf.length);
      s.receive(p);
      return new String(buf, 0, p.getLength(), StandardCharsets.UTF_8);
    }
  }

  /** A unary gRPC call of the echo service (h2c) with that authority and metadata; the answer. */
  static String grpc(int port, String authority, String method, Map<String, String> metadata)
      throws InterruptedException {
    var channel =
        NettyChannelBuilder.forAddress("127.0.0.1", port)
            .usePlaintext()
            .overrideAuthority(authority)
            .build();
    try {
      var md = new Metadata();
      metadata.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
      var ch =
          io.grpc.ClientInterceptors.intercept(
              channel, MetadataUtils.newAttachHeadersInterceptor(md));
      var answer =
          ClientCalls.blockingUnaryCall(
              ch,
              Backends.GRPC_METHODS.get(method),
              CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
              new byte[0]);
      return new String(answer, StandardCharsets.UTF_8);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static Response exchange(Socket s, Request r) throws IOException {
    s.setSoTimeout(10_000);
    var head = new StringBuilder();
    head.append(r.method()).append(' ').append(r.path()).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(r.host()).append("\r\n");
    r.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    head.append("Connection: close\r\n\r\n");
    s.getOutputStream().write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
    var all = s.getInputStream().readAllBytes();
    var text = new String(all, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      throw new IOException("no complete answer: " + text);
    }
    var lines = text.substring(0, end).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    var headers = new LinkedHashMap<String, List<String>>();
    for (int i = 1; i < lines.length; i++) {
      int c = lines[i].indexOf(':');
      headers
          .computeIfAbsent(
              lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(lines[i].substring(c + 1).trim());
    }
    var body = text.substring(end + 4);
    var te = headers.get("transfer-encoding");
    if (te != null && te.get(0).equalsIgnoreCase("chunked")) {
      body = dechunk(body);
    }
    return new Response(
        status,
        headers,
        new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
  }

  private static String dechunk(String body) {
    var out = new ByteArrayOutputStream();
    int i = 0;
    while (i < body.length()) {
      int eol = body.indexOf("\r\n", i);
      int size = Integer.parseInt(body.substring(i, eol).split(";")[0].trim(), 16);
      if (size == 0) {
        break;
      }
      out.writeBytes(body.substring(eol + 2, eol + 2 + size).getBytes(StandardCharsets.ISO_8859_1));
      i = eol + 2 + size + 2;
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }
}
