package io.archway.e2e.chaos;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A constant load on one dataplane URL for the chaos scenarios: a fixed number of virtual clients,
 * each sending GETs one after the other with a short pause. Half of them keep their connection
 * alive (the JDK's HTTP/1.1 client, which pools it); the other half open a new connection for every
 * request ({@code Connection: close} on a plain socket, read to the end). Every request is counted,
 * and every failure by its {@link Kind}, with a few examples kept so that a failing scenario says
 * why; latencies go into an HdrHistogram.
 */
public final class Load implements AutoCloseable {

  /** What went wrong with a request. */
  public enum Kind {
    /** An answer whose status is not 2xx. */
    STATUS,
    /** A 2xx answer the scenario's check refused (for example the wrong backend's body). */
    BODY,
    /** The connection was refused, reset or closed before a whole answer. */
    RESET,
    /** No whole answer within the timeout. */
    TIMEOUT,
    /** Anything else. */
    ERROR
  }

  /** One failed request, kept as an example. */
  public record Failure(Kind kind, int status, String body, String error) {
    @Override
    public String toString() {
      return kind
          + (status > 0 ? " " + status : "")
          + (body.isEmpty() ? "" : " body=" + body)
          + (error.isEmpty() ? "" : " " + error);
    }
  }

  /**
   * What a run measured; latencies in microseconds.
   *
   * @param requests every request sent (answered or not)
   * @param failures failed requests by kind (only kinds seen)
   * @param examples the first few failures
   */
  public record Result(
      long requests,
      Map<Kind, Long> failures,
      List<Failure> examples,
      long p50Micros,
      long p99Micros,
      long maxMicros) {

    public long failed() {
      return failures.values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public String toString() {
      return requests
          + " requests, "
          + failed()
          + " failed "
          + failures
          + ", p50 "
          + p50Micros
          + " µs, p99 "
          + p99Micros
          + " µs, max "
          + maxMicros
          + " µs"
          + (examples.isEmpty() ? "" : ", for example: " + examples);
    }
  }

  /** How many failure examples are kept. */
  static final int EXAMPLES = 10;

  private final URI target;
  private final int clients;
  private final Duration pause;
  private final Duration timeout;
  private final BiFunction<Integer, String, String> check;
  private final HttpClient http;
  private final AtomicLong requests = new AtomicLong();
  private final Map<Kind, AtomicLong> failures = new EnumMap<>(Kind.class);
  private final ConcurrentLinkedQueue<Failure> examples = new ConcurrentLinkedQueue<>();
  private final Recorder latencies = new Recorder(3);
  private final Histogram total = new Histogram(3);
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running;

  /**
   * @param target the URL to GET (plain HTTP)
   * @param clients how many virtual clients; half keep their connection alive
   * @param pause each client's pause between two requests
   * @param timeout how long a request may take before it counts as a {@link Kind#TIMEOUT}
   * @param check given a 2xx answer's status and body, a reason to refuse it, or null
   */
  public Load(
      URI target,
      int clients,
      Duration pause,
      Duration timeout,
      BiFunction<Integer, String, String> check) {
    this.target = target;
    this.clients = clients;
    this.pause = pause;
    this.timeout = timeout;
    this.check = check;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .build();
    for (var k : Kind.values()) {
      failures.put(k, new AtomicLong());
    }
  }

  /** A load with no body check. */
  public Load(URI target, int clients, Duration pause, Duration timeout) {
    this(target, clients, pause, timeout, (status, body) -> null);
  }

  /** Starts the virtual clients. */
  public synchronized Load start() {
    running = true;
    for (int i = 0; i < clients; i++) {
      boolean keepAlive = i % 2 == 0;
      var t =
          Thread.ofPlatform()
              .daemon()
              .name("load-" + (keepAlive ? "keepalive-" : "new-") + i)
              .start(() -> client(keepAlive));
      threads.add(t);
    }
    return this;
  }

  /** Stops the clients once their request in flight is done; returns what was measured. */
  public synchronized Result stop() throws InterruptedException {
    running = false;
    for (var t : threads) {
      t.join(timeout.toMillis() * 2 + 1000);
    }
    threads.clear();
    return result();
  }

  /** What was measured so far. */
  public synchronized Result result() {
    total.add(latencies.getIntervalHistogram());
    var byKind = new EnumMap<Kind, Long>(Kind.class);
    failures.forEach(
        (k, n) -> {
          if (n.get() > 0) {
            byKind.put(k, n.get());
          }
        });
    return new Result(
        requests.get(),
        byKind,
        List.copyOf(examples),
        total.getValueAtPercentile(50),
        total.getValueAtPercentile(99),
        total.getMaxValue());
  }

  @Override
  public void close() throws InterruptedException {
    stop();
    http.close();
  }

  private void client(boolean keepAlive) {
    var request = HttpRequest.newBuilder(target).timeout(timeout).GET().build();
    while (running) {
      long start = System.nanoTime();
      requests.incrementAndGet();
      try {
        int status;
        String body;
        if (keepAlive) {
          var response = http.send(request, HttpResponse.BodyHandlers.ofString());
          status = response.statusCode();
          body = response.body();
        } else {
          var answer = newConnection();
          status = answer.status;
          body = answer.body;
        }
        latencies.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
        if (status < 200 || status > 299) {
          fail(Kind.STATUS, status, body, "");
        } else {
          var refused = check.apply(status, body);
          if (refused != null) {
            fail(Kind.BODY, status, body, refused);
          }
        }
      } catch (HttpTimeoutException | SocketTimeoutException e) {
        fail(Kind.TIMEOUT, 0, "", e.toString());
      } catch (ConnectException e) {
        fail(Kind.RESET, 0, "", e.toString());
      } catch (IOException e) {
        fail(Kind.RESET, 0, "", e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        fail(Kind.ERROR, 0, "", e.toString());
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void fail(Kind kind, int status, String body, String error) {
    failures.get(kind).incrementAndGet();
    if (examples.size() < EXAMPLES) {
      examples.add(
          new Failure(kind, status, body.length() > 120 ? body.substring(0, 120) : body, error));
    }
  }

  private record Answer(int status, String body) {}

  /** One GET on a connection of its own, with {@code Connection: close}, read to its end. */
  private Answer newConnection() throws IOException {
    try (var socket = new Socket()) {
      int millis = (int) timeout.toMillis();
      socket.connect(new InetSocketAddress(target.getHost(), target.getPort()), millis);
      socket.setSoTimeout(millis);
      var request =
          "GET "
              + target.getRawPath()
              + (target.getRawQuery() == null ? "" : "?" + target.getRawQuery())
              + " HTTP/1.1\r\nHost: "
              + target.getHost()
              + ":"
              + target.getPort()
              + "\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      long deadline = System.nanoTime() + timeout.toNanos();
      var raw = readAll(socket.getInputStream(), deadline);
      return parse(raw);
    }
  }

  private static byte[] readAll(InputStream in, long deadline) throws IOException {
    var out = new ByteArrayOutputStream();
    var buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
      if (System.nanoTime() > deadline) {
        throw new SocketTimeoutException("answer not complete in time");
      }
    }
    return out.toByteArray();
  }

  /** The status and the body of a whole HTTP/1.1 answer (fixed length, chunked, or to EOF). */
  static Answer parse(byte[] raw) throws IOException {
    var text = new String(raw, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0 || !text.startsWith("HTTP/1.")) {
      throw new IOException("connection closed before a whole answer (" + raw.length + " bytes)");
    }
    var head = text.substring(0, end).split("\r\n");
    int status = Integer.parseInt(head[0].split(" ")[1]);
    long length = -1;
    boolean chunked = false;
    for (int i = 1; i < head.length; i++) {
      var h = head[i].toLowerCase();
      if (h.startsWith("content-length:")) {
        length = Long.parseLong(h.substring("content-length:".length()).trim());
      } else if (h.startsWith("transfer-encoding:") && h.contains("chunked")) {
        chunked = true;
      }
    }
    var rest = text.substring(end + 4);
    String body;
    if (chunked) {
      body = dechunk(rest);
    } else if (length >= 0) {
      if (rest.length() < length) {
        throw new IOException("connection closed after " + rest.length() + " of " + length);
      }
      body = rest.substring(0, (int) length);
    } else {
      body = rest;
    }
    return new Answer(
        status, new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
  }

  private static String dechunk(String rest) throws IOException {
    var out = new StringBuilder();
    int at = 0;
    while (true) {
      int eol = rest.indexOf("\r\n", at);
      if (eol < 0) {
        throw new IOException("connection closed inside a chunked body");
      }
      var sizeField = rest.substring(at, eol);
      int semi = sizeField.indexOf(';');
      int size = Integer.parseInt((semi < 0 ? sizeField : sizeField.substring(0, semi)).trim(), 16);
      if (size == 0) {
        return out.toString();
      }
      if (eol + 2 + size > rest.length()) {
        throw new IOException("connection closed inside a chunk");
      }
      out.append(rest, eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
  }
}
