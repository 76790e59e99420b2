package io.archway.model.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * A loopback relay in front of one etcd member's peer port: the member advertises the relay's
 * address as its peer URL, so every raft connection to it goes through here. Each connection says
 * which member opened it in its first request's {@code X-Server-From} header (etcd's rafthttp sends
 * it on streams and pipelined messages alike); a test cuts a member off from its peers by telling
 * every relay to refuse that member ({@link #refuse}): the relay in front of the member refuses
 * every connection, the others refuse the member's. Open connections are reset, new ones closed
 * once their sender is known; the member itself keeps running and serving its clients.
 */
public final class PeerRelay implements AutoCloseable {

  private final ServerSocket server;
  private final int targetPort;
  // Each open connection pair, by the member id (hex, as etcd writes it) that opened it; ""
  // unknown.
  private final Map<Socket, String> from = new ConcurrentHashMap<>();
  private volatile Predicate<String> refused = id -> false;
  private volatile boolean closed;

  public PeerRelay(int targetPort) {
    this.targetPort = targetPort;
    this.server = TcpProxy.loopbackServer();
    Thread.ofPlatform().daemon().name("peer-relay-accept").start(this::acceptLoop);
  }

  public int port() {
    return server.getLocalPort();
  }

  /**
   * From now on, connections whose sender {@code refuse} matches (the member id, or {@code ""} when
   * the first request names none) are reset; the open ones at once.
   */
  public void refuse(Predicate<String> refuse) {
    refused = refuse;
    from.forEach(
        (s, id) -> {
          if (refuse.test(id)) {
            reset(s);
          }
        });
  }

  /** Relays every connection again. */
  public void heal() {
    refused = id -> false;
  }

  @Override
  public void close() {
    closed = true;
    refuse(id -> true);
    try {
      server.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        var client = server.accept();
        Thread.ofPlatform().daemon().name("peer-relay").start(() -> relay(client));
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void relay(Socket client) {
    Socket upstream = null;
    try {
      var head = head(client.getInputStream());
      var id = sender(head);
      if (refused.test(id)) {
        reset(client);
        return;
      }
      upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
      from.put(client, id);
      from.put(upstream, id);
      if (refused.test(id)) { // refused meanwhile
        reset(client);
        reset(upstream);
        return;
      }
      upstream.getOutputStream().write(head);
      TcpProxy.pump(upstream, client, this::reset);
      TcpProxy.pump(client, upstream, this::reset);
    } catch (IOException e) {
      reset(client);
      if (upstream != null) {
        reset(upstream);
      }
    }
  }

  /** The request head: bytes up to the first blank line, or what came before the peer stopped. */
  private static byte[] head(InputStream in) throws IOException {
    var b = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < end.length && b.size() < 16 * 1024) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      b.write(c);
      matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    return b.toByteArray();
  }

  private static String sender(byte[] head) {
    for (var line : new String(head, StandardCharsets.ISO_8859_1).split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("X-Server-From")) {
        return line.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
      }
    }
    return "";
  }

  private void reset(Socket s) {
    from.remove(s);
    try {
      s.setSoLinger(true, 0);
      s.close();
    } catch (IOException ignored) {
      // already gone
    }
  }
}
