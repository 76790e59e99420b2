package io.archway.e2e.chaos;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hostile clients on raw sockets, each on a virtual thread of its own, that hold a connection as
 * long as the dataplane lets them and open another when it closes theirs (after 50 ms, or a pause
 * given): the kinds that try to pin a server's event loops or its memory.
 */
final class SlowClients implements AutoCloseable {

  /** What a client does with its connection. */
  enum Kind {
    /** Sends a request head one byte a second, never ending it. */
    SLOWLORIS,
    /** Sends a 100 MB body at 1 kB a second. */
    SLOW_UPLOAD,
    /**
     * Sends the first 60 kB of a 100 MB body at once (what the dataplane holds before it picks a
     * node, {@code client_body_buffer_size}, 64 kB), then 16 kB every 500 ms: an upload that goes
     * on past what the dataplane buffers, streamed to the node.
     */
    STREAMING_UPLOAD,
    /** Asks for {@link OverloadStack#BIG} bytes and never reads them. */
    NEVER_READS,
    /** Connects and sends nothing (a connection flood). */
    IDLE
  }

  private final int port;
  private final long pauseMillis;
  private final List<Thread> threads = new ArrayList<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong closedByServer = new AtomicLong();
  private volatile boolean running = true;

  SlowClients(int port) {
    this(port, 50);
  }

  /** Clients that wait {@code pauseMillis} before they open another connection. */
  SlowClients(int port, long pauseMillis) {
    this.port = port;
    this.pauseMillis = pauseMillis;
  }

  /** Starts {@code n} clients of that kind. */
  SlowClients start(Kind kind, int n) {
    for (int i = 0; i < n; i++) {
      threads.add(Thread.ofVirtual().name("slow-" + kind + "-" + i).start(() -> run(kind)));
    }
    return this;
  }

  /** Connections opened so far. */
  long connections() {
    return connections.get();
  }

  /** Connections the dataplane closed (or refused) so far. */
  long closedByServer() {
    return closedByServer.get();
  }

  /** Connections open now. */
  int open() {
    return open.size();
  }

  private void run(Kind kind) {
    while (running) {
      try (var s = new Socket()) {
        open.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        connections.incrementAndGet();
        hold(kind, s);
      } catch (IOException e) {
        if (running) {
          closedByServer.incrementAndGet();
        }
      } catch (InterruptedException e) {
        return;
      } finally {
        open.removeIf(Socket::isClosed);
      }
      pause(pauseMillis);
    }
  }

  private void hold(Kind kind, Socket s) throws IOException, InterruptedException {
    var out = s.getOutputStream();
    switch (kind) {
      case SLOWLORIS -> {
        out.write("GET /good HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
        while (running) {
          Thread.sleep(1_000);
          out.write('a');
          out.flush();
        }
      }
      case STREAMING_UPLOAD -> {
        out.write(
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[60_000]);
        var piece = new byte[16_384];
        while (running) {
          Thread.sleep(500);
          out.write(piece);
          out.flush();
        }
      }
      case SLOW_UPLOAD -> {
        out.write(
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        var piece = new byte[100];
        while (running) {
          Thread.sleep(100);
          out.write(piece);
          out.flush();
        }
      }
      case NEVER_READS -> {
        s.setReceiveBufferSize(4096);
        out.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        while (running) {
          Thread.sleep(200);
        }
      }
      case IDLE -> {
        s.setSoTimeout(200);
        while (running) {
          try {
            if (s.getInputStream().read() < 0) {
              throw new IOException("closed by the dataplane");
            }
          } catch (SocketTimeoutException e) {
            // still open: hold on
          }
        }
      }
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops every client and closes its connection. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    for (var s : open) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
    for (var t : threads) {
      t.interrupt();
    }
    for (var t : threads) {
      t.join(10_000);
    }
  }
}
