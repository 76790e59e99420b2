package io.archway.dataplane.testing;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/** A UDP server on loopback, on a thread of its own, until closed. */
public final class UdpServer implements AutoCloseable {

  /**
   * What the server sends back for one datagram (UTF-8 text) from a client's port, or {@code null}
   * to send nothing.
   */
  @FunctionalInterface
  public interface Answer {
    String to(String payload, int sourcePort);
  }

  private final DatagramSocket socket;

  /** Echoes each datagram, or with {@code dnsLike} answers {@code query|<source port>}. */
  public UdpServer(boolean dnsLike) throws IOException {
    this(dnsLike ? (in, port) -> in + "|" + port : (in, port) -> in);
  }

  /** Keeps every datagram it receives in {@code received}, answering none (a syslog server). */
  public static UdpServer collecting(Collection<String> received) throws IOException {
    return new UdpServer(
        (payload, port) -> {
          received.add(payload);
          return null;
        });
  }

  /** Answers each datagram with what {@code answer} makes of it. */
  public UdpServer(Answer answer) throws IOException {
    socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    Thread.ofVirtual()
        .start(
            () -> {
              var buf = new byte[65536];
              while (!socket.isClosed()) {
                try {
                  var p = new DatagramPacket(buf, buf.length);
                  socket.receive(p);
                  var in = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
                  var reply = answer.to(in, p.getPort());
                  if (reply != null) {
                    var out = reply.getBytes(StandardCharsets.UTF_8);
                    socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                  }
                } catch (IOException e) {
                  return;
                }
              }
            });
  }

  public int port() {
    return socket.getLocalPort();
  }

  @Override
  public void close() {
    socket.close();
  }
}
