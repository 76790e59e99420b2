package io.archway.e2e.chaos;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.HdrHistogram.Recorder;

/**
 * A load on a Kubernetes Service in front of several dataplanes, as its clients see it: requests go
 * only to the endpoints the client knows as ready, and it knows what the endpoints controller and
 * kube-proxy would tell it, with the delay stated here.
 *
 * <ul>
 *   <li><b>Endpoints.</b> A prober reads every endpoint's {@code /readyz} every {@link #PROBE};
 *       {@link #FAILURE_THRESHOLD} answers in a row other than 200 (or none within {@link
 *       #PROBE_TIMEOUT}) take the endpoint out, one 200 puts it in, as a readiness probe with
 *       {@code failureThreshold: 2} does. So the <b>endpoint removal delay</b> after a dataplane
 *       stops being ready or dies is at most {@link #removalDelay()} (2.2 s). Kubernetes' own is of
 *       the same kind (the probe's period times its failure threshold, 2 s x 2 with the chart, then
 *       the EndpointSlice's way to kube-proxy): what matters is that it is bounded and that nothing
 *       fails after it. An endpoint whose pod is deleted ({@link #terminating}) is out at once, as
 *       the EndpointSlice controller marks a terminating pod's endpoint not ready when the pod gets
 *       its deletion timestamp.
 *   <li><b>What every HTTP client does.</b> A refused connection sent nothing: the client takes the
 *       endpoint out of its own list and sends the request to another ready one. A GET on a reused
 *       keep-alive connection that the server had closed (no byte of an answer) is sent again once
 *       on a new connection, as idempotent requests may be (RFC 9110, 9.2.2). Nothing else is
 *       retried: a request that fails otherwise counts as failed.
 *   <li><b>Unavoidable failures.</b> A request in flight on a dataplane at the moment it is killed
 *       ({@link #kill}: from the signal until the process is gone) cannot be answered: such
 *       failures are counted apart ({@link Result#unavoidable}). Each virtual client has at most
 *       one request in flight, so there are at most as many as there are clients on that dataplane
 *       at the kill, never more than {@code clients}.
 * </ul>
 *
 * Half the virtual clients keep one connection alive per endpoint; the other half open a new
 * connection for each request ({@code Connection: close}).
 */
final class ServiceLoad implements AutoCloseable {

  static final Duration PROBE = Duration.ofMillis(100);
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);
  static final int FAILURE_THRESHOLD = 2;

  /** The longest an endpoint that stopped being ready stays in the client's list. */
  static Duration removalDelay() {
    return PROBE.plus(PROBE_TIMEOUT).multipliedBy(FAILURE_THRESHOLD);
  }

  static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** One dataplane behind the Service. */
  static final class Endpoint {
    final String name;
    final int httpPort;
    final int statusPort;
    volatile boolean ready;
    volatile boolean terminating;

    /** When the kill began ({@code kill -9} sent), and when the process was gone; 0 before. */
    volatile long killedAt;

    volatile long deadAt;

    /** When a client last found it refusing connections: probes started before do not count. */
    volatile long refusedAt;

    int failedProbes;
    final AtomicLong inFlight = new AtomicLong();
    final AtomicLong served = new AtomicLong();

    Endpoint(String name, int httpPort, int statusPort) {
      this.name = name;
      this.httpPort = httpPort;
      this.statusPort = statusPort;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * What was measured: {@code load} holds the requests and the failures that must not happen;
   * {@code unavoidable} the failures of requests in flight on a dataplane when it was killed.
   */
  record Result(Load.Result load, long unavoidable) {}

  private final String path;
  private final int clients;
  private final Duration pause;
  private final Predicate<String> body;
  private final List<Endpoint> endpoints = new CopyOnWriteArrayList<>();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong unavoidable = new AtomicLong();
  private final Map<Load.Kind, AtomicLong> failures = new EnumMap<>(Load.Kind.class);
  private final ConcurrentLinkedQueue<Load.Failure> examples = new ConcurrentLinkedQueue<>();
  private final Recorder latencies = new Recorder(3);
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running;
  private volatile long startedAt;

  /**
   * @param path what each request GETs
   * @param clients how many virtual clients; half keep their connections alive
   * @param pause each client's pause between two requests
   * @param body whether a 2xx answer's body is right
   */
  ServiceLoad(String path, int clients, Duration pause, Predicate<String> body) {
    this.path = path;
    this.clients = clients;
    this.pause = pause;
    this.body = body;
    for (var k : Load.Kind.values()) {
      failures.put(k, new AtomicLong());
    }
  }

  int clients() {
    return clients;
  }

  /** A dataplane joins the Service; it gets traffic once its {@code /readyz} says 200. */
  Endpoint add(String name, int httpPort, int statusPort) {
    var e = new Endpoint(name, httpPort, statusPort);
    endpoints.add(e);
    return e;
  }

  /** Its pod is deleted: out of the endpoints at once, for good. */
  void terminating(Endpoint e) {
    e.terminating = true;
    e.ready = false;
  }

  /**
   * Kills the dataplane behind {@code e} with {@code kill}, which returns once the process is gone;
   * what was in flight on it meanwhile is what the kill cut.
   */
  void kill(Endpoint e, KillAction kill) throws InterruptedException {
    e.deadAt = 0;
    e.killedAt = System.nanoTime();
    kill.run();
    e.deadAt = System.nanoTime();
  }

  /** A kill that returns once the process is gone. */
  interface KillAction {
    void run() throws InterruptedException;
  }

  /** Whether the client sends new requests to {@code e}. */
  boolean serving(Endpoint e) {
    return e.ready;
  }

  synchronized ServiceLoad start() {
    running = true;
    startedAt = System.nanoTime();
    // The endpoints as the first probes find them, before any request.
    for (var e : endpoints) {
      e.ready = Dataplanes.status(e.statusPort, "/readyz", PROBE_TIMEOUT) == 200;
    }
    threads.add(Thread.ofPlatform().daemon().name("service-prober").start(this::probe));
    for (int i = 0; i < clients; i++) {
      boolean keepAlive = i % 2 == 0;
      threads.add(
          Thread.ofPlatform()
              .daemon()
              .name("service-" + (keepAlive ? "keepalive-" : "new-") + i)
              .start(() -> client(keepAlive)));
    }
    return this;
  }

  synchronized Result stop() throws InterruptedException {
    running = false;
    for (var t : threads) {
      t.join(TIMEOUT.toMillis() * 3);
    }
    threads.clear();
    var byKind = new EnumMap<Load.Kind, Long>(Load.Kind.class);
    failures.forEach(
        (k, n) -> {
          if (n.get() > 0) {
            byKind.put(k, n.get());
          }
        });
    var h = latencies.getIntervalHistogram();
    return new Result(
        new Load.Result(
            requests.get(),
            byKind,
            List.copyOf(examples),
            h.getValueAtPercentile(50),
            h.getValueAtPercentile(99),
            h.getMaxValue()),
        unavoidable.get());
  }

  @Override
  public void close() throws InterruptedException {
    if (running) {
      stop();
    }
  }

  private void probe() {
    while (running) {
      for (var e : endpoints) {
        if (e.terminating) {
          continue;
        }
        long probeStart = System.nanoTime();
        boolean ok = Dataplanes.status(e.statusPort, "/readyz", PROBE_TIMEOUT) == 200;
        e.failedProbes = ok ? 0 : e.failedProbes + 1;
        if (ok && probeStart > e.refusedAt && !e.terminating) {
          e.ready = true;
        } else if (e.failedProbes >= FAILURE_THRESHOLD) {
          e.ready = false;
        }
      }
      try {
        Thread.sleep(PROBE);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private Endpoint pick() {
    var list = endpoints;
    int n = list.size();
    int start = Math.floorMod(next.getAndIncrement(), Math.max(1, n));
    for (int i = 0; i < n; i++) {
      var e = list.get((start + i) % n);
      if (e.ready) {
        return e;
      }
    }
    return null;
  }

  private void client(boolean keepAlive) {
    var connections = new HashMap<Endpoint, Socket>();
    while (running) {
      var e = pick();
      if (e == null) {
        // No endpoint: a Service without ready endpoints refuses; the test never lets it happen.
        fail(Load.Kind.RESET, 0, "", "no ready endpoint");
        sleep();
        continue;
      }
      requests.incrementAndGet();
      long start = System.nanoTime();
      Endpoint on = e;
      long attemptStart = start;
      try {
        String answer = null;
        for (int tries = 0; answer == null; tries++) {
          var at = on;
          at.inFlight.incrementAndGet();
          attemptStart = System.nanoTime();
          try {
            answer = send(at, keepAlive, connections);
          } catch (ConnectException refused) {
            // Nothing was sent: this endpoint is gone for this client; another one gets it.
            at.refusedAt = System.nanoTime();
            at.ready = false;
            var other = pick();
            if (other == null || tries > endpoints.size()) {
              throw refused;
            }
            on = other;
          } finally {
            at.inFlight.decrementAndGet();
          }
        }
        latencies.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
        int status = Integer.parseInt(answer.substring(9, 12));
        if (status < 200 || status > 299) {
          failed(on, attemptStart, Load.Kind.STATUS, status, answer, "");
        } else if (!body.test(answer)) {
          failed(on, attemptStart, Load.Kind.BODY, status, answer, "not the backend's answer");
        } else {
          on.served.incrementAndGet();
        }
      } catch (SocketTimeoutException t) {
        failed(on, attemptStart, Load.Kind.TIMEOUT, 0, "", t.toString());
      } catch (IOException | RuntimeException x) {
        failed(on, attemptStart, Load.Kind.RESET, 0, "", x.toString());
      }
      sleep();
    }
    connections.values().forEach(ServiceLoad::closeQuietly);
  }

  private void failed(
      Endpoint on, long attemptStart, Load.Kind kind, int status, String body, String error) {
    long killed = on.killedAt;
    long dead = on.deadAt;
    // Started before the process was gone (during the kill too: it may have been taken then).
    if (killed != 0 && (dead == 0 || attemptStart < dead)) {
      unavoidable.incrementAndGet();
      return;
    }
    fail(
        kind,
        status,
        on
            + (killed == 0
                ? ""
                : " (" + TimeUnit.NANOSECONDS.toMillis(attemptStart - dead) + " ms after its kill)")
            + ": "
            + body,
        error);
  }

  private void fail(Load.Kind kind, int status, String body, String error) {
    failures.get(kind).incrementAndGet();
    body = "at " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt) + " ms, " + body;
    if (examples.size() < Load.EXAMPLES) {
      examples.add(
          new Load.Failure(
              kind, status, body.length() > 160 ? body.substring(0, 160) : body, error));
    }
  }

  private void sleep() {
    try {
      Thread.sleep(pause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  /**
   * One GET on {@code e}; the whole answer (head and body). On a reused keep-alive connection that
   * the server closed before any byte of an answer, the GET goes once more on a new connection.
   */
  private String send(Endpoint e, boolean keepAlive, Map<Endpoint, Socket> connections)
      throws IOException {
    if (!keepAlive) {
      try (var s = connect(e)) {
        return exchange(s, e, false);
      }
    }
    var s = connections.remove(e);
    if (s != null) {
      try {
        var answer = exchange(s, e, true);
        keep(connections, e, s, answer);
        return answer;
      } catch (NothingAnswered n) {
        closeQuietly(s);
      } catch (IOException | RuntimeException x) {
        closeQuietly(s);
        throw x;
      }
    }
    s = connect(e);
    try {
      var answer = exchange(s, e, true);
      keep(connections, e, s, answer);
      return answer;
    } catch (IOException | RuntimeException x) {
      closeQuietly(s);
      throw x;
    }
  }

  private static void keep(Map<Endpoint, Socket> connections, Endpoint e, Socket s, String a) {
    if (a.toLowerCase().contains("\r\nconnection: close")) {
      closeQuietly(s);
    } else {
      connections.put(e, s);
    }
  }

  private static Socket connect(Endpoint e) throws IOException {
    var s = new Socket();
    try {
      s.connect(new InetSocketAddress("127.0.0.1", e.httpPort), (int) TIMEOUT.toMillis());
      s.setSoTimeout((int) TIMEOUT.toMillis());
      s.setTcpNoDelay(true);
      return s;
    } catch (IOException x) {
      s.close();
      throw x;
    }
  }

  /** The server closed a reused connection before any byte of its answer. */
  private static final class NothingAnswered extends IOException {
    NothingAnswered(String m) {
      super(m);
    }
  }

  private String exchange(Socket s, Endpoint e, boolean keepAlive) throws IOException {
    var request =
        "GET "
            + path
            + " HTTP/1.1\r\nHost: 127.0.0.1:"
            + e.httpPort
            + "\r\n"
            + (keepAlive ? "" : "Connection: close\r\n")
            + "\r\n";
    try {
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
    } catch (IOException x) {
      throw new NothingAnswered(x.toString());
    }
    return read(s.getInputStream());
  }

  /** A whole answer with a Content-Length body (the dataplane's and the echo's answers). */
  private static String read(InputStream in) throws IOException {
    var head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b;
      try {
        b = in.read();
      } catch (java.net.SocketException x) {
        if (head.size() == 0) {
          throw new NothingAnswered(x.toString());
        }
        throw x;
      }
      if (b < 0) {
        if (head.size() == 0) {
          throw new NothingAnswered("closed before an answer");
        }
        throw new EOFException("closed inside the head of an answer");
      }
      head.write(b);
      state =
          (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
              ? state + 1
              : b == '\r' ? 1 : 0;
    }
    var text = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (var line : text.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    var bodyBytes = in.readNBytes(length);
    if (bodyBytes.length < length) {
      throw new EOFException("closed after " + bodyBytes.length + " of " + length + " bytes");
    }
    return text + new String(bodyBytes, StandardCharsets.UTF_8);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }
}
