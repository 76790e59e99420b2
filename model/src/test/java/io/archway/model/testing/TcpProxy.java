package io.archway.model.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy a test can cut (every connection reset, new ones refused) and restore: a
 * network partition between a client and a real server, with both ends still running.
 */
public final class TcpProxy implements AutoCloseable {

  private final ServerSocket server;
  private final int targetPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;
  private volatile boolean closed;

  public TcpProxy(int targetPort) {
    this.targetPort = targetPort;
    this.server = loopbackServer();
    Thread.ofPlatform().daemon().name("tcp-proxy-accept").start(this::acceptLoop);
  }

  /** A server socket on a free loopback port. */
  static ServerSocket loopbackServer() {
    try {
      var server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return server.getLocalPort();
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port();
  }

  /** Resets every open connection and refuses new ones until {@link #restore()}. */
  public void cut() {
    cut = true;
    for (var s : sockets) {
      try {
        s.setSoLinger(true, 0);
        s.close();
      } catch (IOException ignored) {
        // already gone
      }
    }
    sockets.clear();
  }

  public void restore() {
    cut = false;
  }

  @Override
  public void close() {
    closed = true;
    cut();
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
        if (cut) {
          client.setSoLinger(true, 0);
          client.close();
          continue;
        }
        var upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void pump(Socket from, Socket to) {
    pump(from, to, this::closeQuietly);
  }

  /**
   * Copies what {@code from} sends to {@code to}, on a thread of its own, until either ends; then
   * both are given to {@code close}.
   */
  static void pump(Socket from, Socket to, java.util.function.Consumer<Socket> close) {
    Thread.ofPlatform()
        .daemon()
        .name("tcp-proxy-pump")
        .start(
            () -> {
              var buf = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException ignored) {
                // one side closed; close the other below
              } finally {
                close.accept(from);
                close.accept(to);
              }
            });
  }

  private void closeQuietly(Socket s) {
    sockets.remove(s);
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }
}
