package io.archway.e2e.chaos;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A constant Redis load for the chaos scenarios: RESP over TCP to one address (the dataplane's
 * Redis stream proxy), a fixed number of virtual clients, each sending {@code SET} then {@code GET}
 * of a key of its own, one after the other with a short pause, and checking that the {@code GET}
 * answers what the {@code SET} wrote. Half of them keep their connection (made again after a
 * failure); the other half open a new one for every pair. Counted as {@link Load} counts HTTP: an
 * error reply ({@code -ERR ...}) is a {@link Load.Kind#STATUS}, a wrong value a {@link
 * Load.Kind#BODY}, a refused, reset or closed connection a {@link Load.Kind#RESET}, no reply within
 * the timeout a {@link Load.Kind#TIMEOUT}.
 */
final class RedisLoad implements AutoCloseable {

  private final InetSocketAddress target;
  private final int clients;
  private final Duration pause;
  private final Duration timeout;
  private final Tally tally = new Tally();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running;

  RedisLoad(InetSocketAddress target, int clients, Duration pause, Duration timeout) {
    this.target = target;
    this.clients = clients;
    this.pause = pause;
    this.timeout = timeout;
  }

  synchronized RedisLoad start() {
    running = true;
    for (int i = 0; i < clients; i++) {
      boolean keep = i % 2 == 0;
      int id = i;
      threads.add(
          Thread.ofPlatform()
              .daemon()
              .name("redis-load-" + (keep ? "keepalive-" : "new-") + i)
              .start(() -> client(id, keep)));
    }
    return this;
  }

  /** Stops the clients once their command in flight is done; returns what was measured. */
  synchronized Load.Result stop() throws InterruptedException {
    running = false;
    for (var t : threads) {
      t.join(timeout.toMillis() * 2 + 1000);
    }
    threads.clear();
    return tally.result();
  }

  Load.Result result() {
    return tally.result();
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }

  private void client(int id, boolean keep) {
    var key = "chaos:" + id + ":" + System.nanoTime();
    Socket socket = null;
    for (long n = 0; running; n++) {
      try {
        if (socket == null) {
          socket = connect();
        }
        var value = Long.toString(n);
        if (call(socket, "OK", "SET", key, value) && running) {
          call(socket, value, "GET", key);
        }
      } catch (IOException e) {
        // counted in call(); the connection is made again
        close(socket);
        socket = null;
      }
      if (!keep) {
        close(socket);
        socket = null;
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    close(socket);
  }

  private Socket connect() throws IOException {
    long start = tally.start();
    var s = new Socket();
    try {
      s.connect(target, (int) timeout.toMillis());
      s.setSoTimeout((int) timeout.toMillis());
      return s;
    } catch (IOException e) {
      // A connection refused is a failed command: the client could not send it.
      close(s);
      tally.answered(start);
      tally.fail(Load.Kind.RESET, "", "connect: " + e);
      throw e;
    }
  }

  /**
   * One command and its reply; returns whether the reply was the one expected. Throws (after
   * counting the failure) when the connection is no longer usable.
   */
  private boolean call(Socket socket, String expected, String... args) throws IOException {
    long start = tally.start();
    try {
      OutputStream out = socket.getOutputStream();
      out.write(resp(args));
      out.flush();
      var reply = reply(socket.getInputStream());
      tally.answered(start);
      if (reply.startsWith("-")) {
        tally.fail(Load.Kind.STATUS, reply, args[0]);
        return false;
      }
      if (!reply.equals(expected)) {
        tally.fail(Load.Kind.BODY, reply, args[0] + ": expected " + expected);
        return false;
      }
      return true;
    } catch (SocketTimeoutException e) {
      tally.fail(Load.Kind.TIMEOUT, "", args[0] + ": " + e);
      throw e;
    } catch (IOException e) {
      tally.fail(Load.Kind.RESET, "", args[0] + ": " + e);
      throw e;
    }
  }

  private static byte[] resp(String... args) {
    var b = new StringBuilder("*").append(args.length).append("\r\n");
    for (var a : args) {
      b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
      b.append(a).append("\r\n");
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A simple reply as text: a status without its {@code +}, an error line with its {@code -}, an
   * integer, a bulk string ({@code (nil)} for a nil one). The stream is read one byte at a time so
   * that nothing past the reply is consumed.
   */
  static String reply(InputStream in) throws IOException {
    var l = line(in);
    if (l.isEmpty()) {
      throw new IOException("empty reply line");
    }
    switch (l.charAt(0)) {
      case '+', ':' -> {
        return l.substring(1);
      }
      case '-' -> {
        return l;
      }
      case '$' -> {
        int n = Integer.parseInt(l.substring(1));
        if (n < 0) {
          return "(nil)";
        }
        var body = in.readNBytes(n + 2);
        if (body.length < n + 2) {
          throw new IOException("connection closed inside a bulk reply");
        }
        return new String(body, 0, n, StandardCharsets.UTF_8);
      }
      default -> throw new IOException("unexpected reply: " + l);
    }
  }

  private static String line(InputStream in) throws IOException {
    var b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("connection closed before a whole reply");
      }
      b.write(c);
    }
    var l = b.toString(StandardCharsets.UTF_8);
    return l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
  }

  private static void close(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
