package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 8, overload (docs/chaos.md): slow clients by the hundred, a connection flood past
 * {@code max_connections}, and memory past its high-water mark, each under a steady good load. The
 * dataplane is its runnable jar as a process on 2 event loops ({@code --workers 2}), in front of a
 * real HTTP backend on loopback ({@link OverloadStack}); the hostile clients are raw sockets
 * ({@link SlowClients}).
 */
class OverloadChaosE2E {

  static final int WORKERS = 2;

  /** Slow clients of each kind: 3 kinds x 80 = 240, 120 per event loop. */
  static final int SLOW_EACH = 80;

  /** The flood's listener limit, and the flood: four times as many connections. */
  static final int MAX_CONNECTIONS = 100;

  static final int FLOOD = 4 * MAX_CONNECTIONS;

  @TempDir Path dir;

  OverloadStack stack;
  final List<Load> loads = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (var l : loads) {
      l.close();
    }
    if (stack != null) {
      stack.close();
    }
  }

  private Load load(int clients) {
    var l =
        new Load(
            stack.uri("/good"),
            clients,
            Duration.ofMillis(5),
            Duration.ofSeconds(5),
            (status, body) -> body.equals("good\n") ? null : "not the backend's answer");
    loads.add(l);
    return l;
  }

  private static void hold(long seconds) throws InterruptedException {
    TimeUnit.SECONDS.sleep(seconds);
  }

  @Test
  void hundredsOfSlowClientsCannotPinTheEventLoops() throws Exception {
    stack = OverloadStack.start(dir, List.of("-Xmx256m"), "", List.of("--workers", "" + WORKERS));
    long seconds = EtcdDataplane.seconds();
    var good = load(8).start();
    Load.Result result;
    long slowConnections;
    double direct;
    try (var slow =
        new SlowClients(stack.httpPort())
            .start(SlowClients.Kind.SLOWLORIS, SLOW_EACH)
            .start(SlowClients.Kind.SLOW_UPLOAD, SLOW_EACH)
            .start(SlowClients.Kind.NEVER_READS, SLOW_EACH)) {
      hold(seconds);
      result = good.stop();
      slowConnections = slow.connections();
      direct = stack.metric("archway_overload_memory_ratio{memory=\"direct\"}");
    }
    ChaosReport.add(
        "overload: " + 3 * SLOW_EACH + " slow clients (slowloris, slow upload, never reading)",
        seconds,
        result,
        null);
    System.out.printf(
        "slow clients: %d connections, direct memory at %.1f%%; good load: %s%n",
        slowConnections, direct * 100, result);
    // Every slow client is connected at once, and the good load, on the same 2 event loops, sees
    // not one failure: no slow client holds a loop.
    assertThat(slowConnections).isGreaterThanOrEqualTo(3 * SLOW_EACH);
    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).isPositive();
  }

  /**
   * The bound: a flood of {@link #FLOOD} idle connections against {@code --max-connections} {@link
   * #MAX_CONNECTIONS}. Keep-alive clients admitted before it fail no request. A client that opens a
   * new connection for each request is refused while the flood holds every slot: its failures may
   * only be {@code RESET} (its connection closed at once), never a timeout, a wrong answer or
   * anything else; at most every request it sent during the flood.
   */
  @Test
  void aConnectionFloodPastMaxConnectionsIsRefusedAtOnceAndTheAdmittedAreServed() throws Exception {
    stack =
        OverloadStack.start(
            dir,
            List.of("-Xmx256m"),
            "",
            List.of("--workers", "" + WORKERS, "--max-connections", "" + MAX_CONNECTIONS));
    long seconds = EtcdDataplane.seconds();
    // Three keep-alive clients, each its own connection (a load of one client keeps it alive).
    var admitted = List.of(load(1).start(), load(1).start(), load(1).start());
    // One more keep-alive client and one that opens a new connection per request.
    var mixed = load(2).start();
    await()
        .atMost(EtcdDataplane.WAIT)
        .until(() -> admitted.stream().allMatch(l -> l.result().requests() > 5));
    var flood = new SlowClients(stack.httpPort()).start(SlowClients.Kind.IDLE, FLOOD);
    double refused;
    try {
      hold(seconds);
      refused =
          stack.metric("archway_overload_connections_refused_total{reason=\"max_connections\"}");
    } finally {
      flood.close();
    }
    long ended = System.nanoTime();
    var recovery = recovery(ended);
    var results = new ArrayList<Load.Result>();
    for (var l : admitted) {
      results.add(l.stop());
    }
    var mixedResult = mixed.stop();
    var all = merge(results, mixedResult);
    ChaosReport.add(
        "overload: " + FLOOD + " connections flooding max_connections " + MAX_CONNECTIONS,
        seconds,
        all,
        recovery);
    System.out.printf(
        "flood: %.0f connections refused; admitted: %s; mixed: %s; recovery %d ms%n",
        refused, results, mixedResult, recovery.toMillis());
    assertThat(refused).as("connections refused over max_connections").isPositive();
    for (var r : results) {
      assertThat(r.failed()).as("admitted keep-alive client: %s", r).isZero();
    }
    assertThat(mixedResult.failures().keySet())
        .as("the new-connection client is refused cleanly: %s", mixedResult)
        .isSubsetOf(Load.Kind.RESET);
    // After the flood: every new connection is served again.
    var after = load(8).start();
    hold(1);
    var afterResult = after.stop();
    assertThat(afterResult.failed()).as("after the flood: %s", afterResult).isZero();
  }

  /**
   * Memory past its high-water mark: the dataplane's direct memory is capped low ({@code
   * -XX:MaxDirectMemorySize=32m}, the mark at 50 %, the low one at 30 %) and hundreds of clients
   * each send the first 60 kB of a big upload at once, which the dataplane holds while it waits for
   * the rest ({@code client_body_buffer_size}, 64 kB), then go on sending, streamed to the node.
   * (Clients that never read a big answer cost far less: about 100 kB each, the rest waits in the
   * kernel's buffers.) While shedding, the dataplane reads no more of those bodies and resets the
   * ones holding the most until memory is under the low mark: the uploads never take direct memory
   * to its cap ({@code OutOfDirectMemoryError}). The bound: every failure of the good load is a
   * clean shed, {@code STATUS} (503 with {@code Retry-After}) or {@code RESET} (a connection
   * closed, at once or after an answer with {@code Connection: close}), never a timeout, a wrong
   * answer or anything else. Once the pressure ends, full service again.
   */
  @Test
  void memoryPastItsHighWaterMarkIsShedCleanlyThenServedAgain() throws Exception {
    stack =
        OverloadStack.start(
            dir,
            List.of("-Xmx256m", "-XX:MaxDirectMemorySize=32m"),
            "memory_high_water: 50%\nmemory_low_water: 30%\n",
            List.of("--workers", "" + WORKERS));
    long seconds = EtcdDataplane.seconds();
    var good = load(8).start();
    double peak = 0;
    double shed;
    double episodes;
    double paused;
    double reset;
    try (var pressure =
        new SlowClients(stack.httpPort()).start(SlowClients.Kind.STREAMING_UPLOAD, 3 * SLOW_EACH)) {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        peak = Math.max(peak, stack.metric("archway_overload_memory_ratio{memory=\"direct\"}"));
        TimeUnit.MILLISECONDS.sleep(250);
      }
      shed = stack.metric("archway_overload_requests_shed_total");
      episodes = stack.metric("archway_overload_episodes_total");
      paused = stack.metric("archway_overload_body_reads_paused_total");
      reset = stack.metric("archway_overload_requests_reset_total");
    }
    long ended = System.nanoTime();
    var recovery = recovery(ended);
    var result = good.stop();
    ChaosReport.add(
        "overload: memory past its high-water mark (" + 3 * SLOW_EACH + " streaming uploads)",
        seconds,
        result,
        recovery);
    System.out.printf(
        "memory: direct peak %.1f%%, %.0f episode(s), %.0f requests shed, %.0f body reads"
            + " paused, %.0f uploads reset; good load: %s; recovery %d ms%n",
        peak * 100, episodes, shed, paused, reset, result, recovery.toMillis());
    assertThat(episodes).as("memory went past the mark").isPositive();
    assertThat(Files.readString(dir.resolve("dataplane.log")))
        .as("direct memory never reached its cap")
        .doesNotContain("OutOfDirectMemoryError");
    assertThat(result.failures().keySet())
        .as("every failure a clean shed: %s", result)
        .isSubsetOf(Load.Kind.STATUS, Load.Kind.RESET);
    await().atMost(EtcdDataplane.WAIT).until(() -> stack.status("/readyz").statusCode() == 200);
    var after = load(8).start();
    hold(1);
    var afterResult = after.stop();
    assertThat(afterResult.failed()).as("after the pressure: %s", afterResult).isZero();
  }

  /**
   * From {@code ended} until 10 requests in a row, each on a new connection, are answered 200: the
   * time the dataplane took to serve everyone again.
   */
  private Duration recovery(long ended) {
    int[] row = {0};
    await()
        .atMost(EtcdDataplane.WAIT)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              row[0] = ok() ? row[0] + 1 : 0;
              return row[0] >= 10;
            });
    return Duration.ofNanos(System.nanoTime() - ended);
  }

  private boolean ok() {
    try (var s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", stack.httpPort()), 5_000);
      s.setSoTimeout(5_000);
      s.getOutputStream()
          .write(
              "GET /good HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1)
          .startsWith("HTTP/1.1 200");
    } catch (Exception e) {
      return false;
    }
  }

  /** The requests and failures of several loads together; latencies of the worst. */
  private static Load.Result merge(List<Load.Result> some, Load.Result more) {
    var all = new ArrayList<>(some);
    all.add(more);
    long requests = 0;
    var failures = new java.util.EnumMap<Load.Kind, Long>(Load.Kind.class);
    var examples = new ArrayList<Load.Failure>();
    long p50 = 0;
    long p99 = 0;
    long max = 0;
    for (var r : all) {
      requests += r.requests();
      r.failures().forEach((k, n) -> failures.merge(k, n, Long::sum));
      examples.addAll(r.examples());
      p50 = Math.max(p50, r.p50Micros());
      p99 = Math.max(p99, r.p99Micros());
      max = Math.max(max, r.maxMicros());
    }
    return new Load.Result(requests, failures, examples, p50, p99, max);
  }
}
