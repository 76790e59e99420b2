package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.stream.StreamSettings;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.UdpServer;
import io.archway.model.testing.EtcdExtension;
import io.archway.model.testing.Ports;
import io.etcd.jetcd.ByteSequence;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Clients that come between the listeners' bind and the first config in force (etcd is frozen with
 * SIGSTOP meanwhile, a real etcd) are served once it is in force: neither closed as if no stream
 * route matched, nor told 404 for a route that exists, nor their datagrams dropped.
 */
class FirstConfigGateIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final String REQUEST =
      "GET /hello HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n";

  @Test
  void clientsThatComeBeforeTheFirstConfigAreServedOnceItIsInForce() throws Exception {
    int streamPort = Ports.free();
    int udpPort = Ports.free();
    try (var upstream = new TestUpstream("gated");
        var echo = new UdpServer(false)) {
      var kv = etcd.client().getKVClient();
      kv.put(
              bytes("/gate/routes/1"),
              bytes(
                  "{\"uri\":\"/hello\",\"upstream\":{\"nodes\":{\"" + upstream.node() + "\":1}}}"))
          .get();
      // A plain TCP route to the same upstream: the client's HTTP request goes through as bytes.
      kv.put(
              bytes("/gate/stream_routes/1"),
              bytes(
                  "{\"server_port\":"
                      + streamPort
                      + ",\"upstream\":{\"nodes\":{\""
                      + upstream.node()
                      + "\":1}}}"))
          .get();
      kv.put(
              bytes("/gate/stream_routes/2"),
              bytes(
                  "{\"server_port\":"
                      + udpPort
                      + ",\"upstream\":{\"nodes\":{\"127.0.0.1:"
                      + echo.port()
                      + "\":1}}}"))
          .get();
      Dataplane dataplane = null;
      DatagramSocket viaUdp = null;
      Socket viaStream = null;
      Socket viaHttp = null;
      etcd.server().pause();
      try {
        dataplane =
            new Dataplane(
                    DataplaneOptions.etcdOnLoopback(List.of(etcd.endpoint()), "/gate")
                        .withStream(
                            StreamSettings.DEFAULTS
                                .withPorts(List.of(streamPort))
                                .withUdpPorts(List.of(udpPort))))
                .start();
        viaStream = send(streamPort);
        viaHttp = send(dataplane.servers().httpPort());
        viaUdp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        var ping = "ping".getBytes(StandardCharsets.US_ASCII);
        viaUdp.send(
            new DatagramPacket(ping, ping.length, InetAddress.getLoopbackAddress(), udpPort));
        // Nothing is in force yet, and the clients wait rather than being turned away.
        assertThat(dataplane.config().loaded()).isFalse();
        viaStream.setSoTimeout(300);
        assertThat(readQuietly(viaStream)).isEmpty();
      } finally {
        etcd.server().resume();
      }
      try {
        assertThat(answer(viaStream)).startsWith("HTTP/1.1 200").contains("gated");
        assertThat(answer(viaHttp)).startsWith("HTTP/1.1 200").contains("gated");
        assertThat(upstream.requests()).isEqualTo(2);
        // The datagram sent before waited in the port's buffer and went on to the echo.
        viaUdp.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
        var back = new DatagramPacket(new byte[64], 64);
        viaUdp.receive(back);
        assertThat(new String(back.getData(), 0, back.getLength(), StandardCharsets.US_ASCII))
            .isEqualTo("ping");
      } finally {
        viaStream.close();
        viaHttp.close();
        viaUdp.close();
        dataplane.close();
      }
    }
  }

  private static Socket send(int port) throws IOException {
    var s = new Socket("127.0.0.1", port);
    s.getOutputStream().write(REQUEST.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  /** Whatever comes within the socket's timeout; "" when nothing does (and it was not closed). */
  private static String readQuietly(Socket s) throws IOException {
    var buf = new byte[512];
    try {
      int n = s.getInputStream().read(buf);
      return n < 0 ? "<closed>" : new String(buf, 0, n, StandardCharsets.US_ASCII);
    } catch (java.net.SocketTimeoutException e) {
      return "";
    } catch (java.net.SocketException e) {
      return "<reset: " + e.getMessage() + ">";
    }
  }

  /** The whole answer, up to the close the request asked for. */
  private static String answer(Socket s) throws IOException {
    s.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
    return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
