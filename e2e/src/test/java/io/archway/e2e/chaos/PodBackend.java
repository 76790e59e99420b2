package io.archway.e2e.chaos;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process of one pod of {@link Deployment}: a real HTTP server on the pod's own IP (a loopback
 * address, {@code 127.0.0.x}) and the Service's target port, answering {@code pod=NAME}. It keeps
 * what the scenario checks against the pod's endpoint conditions: requests received before the pod
 * was ever ready ({@link #early}), and requests received while it was not ready or terminating
 * longer than the settle bound after it stopped being ready ({@link #late}), with the longest time
 * after that point at which one still came ({@link #lastAfterUnreadyNanos}).
 */
final class PodBackend implements AutoCloseable {

  /** The body it answers: {@code pod=NAME}. */
  static final String BODY_PREFIX = "pod=";

  private final String name;
  private final String ip;
  private final int port;
  private final long settleNanos;
  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong early = new AtomicLong();
  private final AtomicLong late = new AtomicLong();
  private final AtomicLong lastAfterUnready = new AtomicLong();
  private volatile boolean everReady;
  private volatile long unreadySince; // 0: ready (or never ready)

  /**
   * Starts it on {@code ip:port}.
   *
   * @param settle how long after it stops being ready requests may still reach it (the dataplane
   *     learning of the change); any later is {@link #late}
   */
  PodBackend(String name, String ip, int port, Duration settle) throws IOException {
    this.name = name;
    this.ip = ip;
    this.port = port;
    this.settleNanos = settle.toNanos();
    server = HttpServer.create(new InetSocketAddress(ip, port), 64);
    server.setExecutor(threads);
    server.createContext(
        "/",
        ex -> {
          received(System.nanoTime());
          ex.getRequestBody().readAllBytes();
          var body = (BODY_PREFIX + name).getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "text/plain");
          ex.sendResponseHeaders(200, body.length);
          try (var out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  private void received(long now) {
    requests.incrementAndGet();
    if (!everReady) {
      early.incrementAndGet();
      return;
    }
    long since = unreadySince;
    if (since != 0) {
      long after = now - since;
      lastAfterUnready.accumulateAndGet(after, Math::max);
      if (after > settleNanos) {
        late.incrementAndGet();
      }
    }
  }

  String name() {
    return name;
  }

  String ip() {
    return ip;
  }

  /** Its endpoint turned ready. */
  void ready() {
    everReady = true;
    unreadySince = 0;
  }

  /** Its endpoint stopped being ready (a failed readiness probe, or terminating). */
  void unready() {
    if (unreadySince == 0) {
      unreadySince = System.nanoTime();
    }
  }

  long requests() {
    return requests.get();
  }

  /** Requests received before its endpoint was ever ready. */
  long early() {
    return early.get();
  }

  /** Requests received longer than the settle bound after its endpoint stopped being ready. */
  long late() {
    return late.get();
  }

  /** The longest a request came after its endpoint stopped being ready; 0 when none did. */
  long lastAfterUnreadyNanos() {
    return lastAfterUnready.get();
  }

  /**
   * The process exits (after its preStop sleep): no new connection is accepted; a request in flight
   * still gets its answer (at most a second), then every connection closes.
   */
  @Override
  public void close() {
    server.stop(1);
    threads.shutdownNow();
  }

  @Override
  public String toString() {
    return name + "@" + ip + ":" + port;
  }
}
