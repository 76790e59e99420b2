package io.archway.dataplane.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Pki;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scheme: tls} upstreams on stream routes: the client speaks plain TCP to the dataplane,
 * which speaks TLS to a real TLS echo server; a node whose certificate does not verify gets no
 * bytes and the client's connection is closed.
 */
class StreamTlsIT {

  @TempDir static Path dir;
  static SSLServerSocket server;
  static final AtomicInteger handshakes = new AtomicInteger();
  static Gateways gw;
  static int trusting;
  static int verifying;

  @BeforeAll
  static void start() throws Exception {
    var ca = Pki.authority("stream-ca");
    var cert = Pki.serverForIp(ca, "127.0.0.1");
    var ssl = SSLContext.getInstance("TLS");
    ssl.init(cert.toKeyManagerFactory().getKeyManagers(), null, null);
    server =
        (SSLServerSocket)
            ssl.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual()
        .start(
            () -> {
              while (!server.isClosed()) {
                try {
                  var c = server.accept();
                  Thread.ofVirtual().start(() -> echo(c));
                } catch (IOException e) {
                  return;
                }
              }
            });
    trusting = Ports.free();
    verifying = Ports.free();
    var yaml =
        """
        stream_routes:
          - id: tls
            server_port: %d
            upstream: {scheme: tls, nodes: {"127.0.0.1:%d": 1}}
          - id: tls-verify
            server_port: %d
            upstream: {scheme: tls, tls: {verify: true}, nodes: {"127.0.0.1:%d": 1}}
        """
            .formatted(trusting, server.getLocalPort(), verifying, server.getLocalPort());
    gw = Gateways.start(dir, yaml, StreamSettings.DEFAULTS.withPorts(List.of(trusting, verifying)));
  }

  static void echo(Socket c) {
    try (c) {
      ((javax.net.ssl.SSLSocket) c).startHandshake();
      handshakes.incrementAndGet();
      var in = c.getInputStream();
      var out = c.getOutputStream();
      var buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException ignored) {
      // a failed handshake or the dataplane went away
    }
  }

  @AfterAll
  static void stop() throws IOException {
    if (gw != null) {
      gw.close();
    }
    server.close();
  }

  @Test
  void theDataplaneSpeaksTlsToTheNodeForAPlainClient() throws Exception {
    try (var s = StreamPluginsIT.connect(trusting)) {
      assertThat(StreamPluginsIT.roundTrip(s, "over tls")).isEqualTo("over tls");
      assertThat(StreamPluginsIT.roundTrip(s, "again")).isEqualTo("again");
    }
  }

  @Test
  void aNodeWhoseCertificateDoesNotVerifyGetsNothingAndTheClientIsClosed() throws Exception {
    int before = handshakes.get();
    try (var s = StreamPluginsIT.connect(verifying)) {
      s.getOutputStream().write("secret".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThat(StreamPluginsIT.readOrEnd(s)).isEqualTo(-1);
    }
    assertThat(handshakes.get()).isEqualTo(before);
  }
}
