package io.archway.dataplane.server;

import io.archway.dataplane.exchange.LoadShedding;
import io.archway.dataplane.support.Prometheus;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dataplane's overload state, as Envoy's overload manager keeps it: a sampler off the request
 * path (a thread of its own, so that no event loop's load delays it) reads how full memory is
 * ({@link MemoryProbe}) every {@link #SAMPLE_MILLIS} ms; past the high-water mark the dataplane
 * sheds (new requests get 503 with {@code Retry-After} and {@code Connection: close}, HTTP/2
 * streams {@code REFUSED_STREAM} and their connection {@code GOAWAY}, new connections are closed at
 * once, {@code /readyz} answers 503, request bodies still arriving stop being read) until both heap
 * and direct memory are back under the low-water mark. While it sheds and memory is not yet under
 * the low mark, each sample resets the requests whose bodies hold the most, largest first, as many
 * as the excess over the low mark ({@link LoadShedding#resetLargest}). The hot path reads one
 * volatile flag. Connections refused over {@code max_connections} ({@link ConnectionLimit}) are
 * counted and logged here too, the log at most once per {@link #LOG_EVERY_NANOS}.
 */
final class Overload implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Overload.class);

  static final long SAMPLE_MILLIS = 250;
  static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** While shedding for the heap with no GC for this long, one is asked for (see sample). */
  static final long GC_NUDGE_MILLIS = 5_000;

  /** What a refused connection was refused for. */
  enum Reason {
    MAX_CONNECTIONS,
    MEMORY;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final OverloadSettings settings;
  private volatile MemoryProbe probe;
  private final LongAdder[] refused = {new LongAdder(), new LongAdder()};
  private final LoadShedding shedding = new LoadShedding();
  private final AtomicLong refusedSinceLog = new AtomicLong();
  private final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
  private final AtomicLong episodes = new AtomicLong();
  private volatile double heap;
  private volatile double direct;
  // The sampler's own (one thread): the GC whose heap figure last led to resets, and the log.
  private long heapResetGc = Long.MIN_VALUE;
  private long resetsSinceLog;
  private long lastResetLog = System.nanoTime() - LOG_EVERY_NANOS;
  private ScheduledExecutorService sampler;

  Overload(OverloadSettings settings, MemoryProbe probe) {
    this.settings = settings;
    this.probe = probe;
  }

  /** Reads memory from {@code probe} from now on (tests: a figure they choose). */
  void probe(MemoryProbe probe) {
    this.probe = probe;
  }

  OverloadSettings settings() {
    return settings;
  }

  /** What the request path reads of the state. */
  LoadShedding loadShedding() {
    return shedding;
  }

  /**
   * Starts the sampler, unless the high-water mark is off: a daemon thread of its own (a sample is
   * a few MXBean reads), not an event loop, where a connection storm or busy requests would delay
   * the very decision that relieves them.
   */
  Overload start() {
    if (settings.memoryHighWater() > 0) {
      sampler =
          Executors.newSingleThreadScheduledExecutor(
              r -> Thread.ofPlatform().name("archway-overload").daemon().unstarted(r));
      sampler.scheduleWithFixedDelay(this::sampleSafely, 0, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
    }
    return this;
  }

  @Override
  public void close() {
    if (sampler != null) {
      sampler.shutdownNow();
    }
  }

  private void sampleSafely() {
    try {
      sample();
    } catch (RuntimeException e) {
      // A failed sample must not end the schedule (the executor would drop it silently).
      log.warn("overload: sample failed", e);
    }
  }

  /** One sample: updates the figures and enters or leaves shedding. */
  void sample() {
    if (settings.memoryHighWater() <= 0) {
      return;
    }
    var probe = this.probe;
    try {
      heap = probe.heap();
      direct = probe.direct();
    } catch (RuntimeException e) {
      log.warn("overload: cannot read memory figures: {}", e.toString());
      return;
    }
    double worst = Math.max(heap, direct);
    boolean shedding = this.shedding.shedding();
    if (!shedding && worst >= settings.memoryHighWater()) {
      this.shedding.startShedding();
      episodes.incrementAndGet();
      log.warn(
          "overload: memory past its high-water mark {} (heap after GC {}, direct {}): new requests"
              + " get 503, new connections are closed and request bodies are not read until both"
              + " are under {}",
          percent(settings.memoryHighWater()),
          percent(heap),
          percent(direct),
          percent(settings.memoryLowWater()));
    } else if (shedding && worst < settings.memoryLowWater()) {
      this.shedding.stopShedding();
      log.info(
          "overload: memory under its low-water mark {} (heap after GC {}, direct {}): serving"
              + " again",
          percent(settings.memoryLowWater()),
          percent(heap),
          percent(direct));
    } else if (shedding) {
      resetLargest(probe);
      if (heap >= settings.memoryLowWater()) {
        // The heap figure is the one the last GC left. An idle process (its traffic gone
        // elsewhere, since /readyz says 503) runs none, and would shed for ever: ask for one now
        // and then.
        long last = probe.lastGcMillis();
        long uptime = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
        if (last < 0 || uptime - last > GC_NUDGE_MILLIS) {
          System.gc();
        }
      }
    }
  }

  /**
   * Still shedding and past the low mark: resets the requests whose bodies hold the most, as many
   * bytes as the excess. Direct memory's figure is fresh at every sample; the heap's only after a
   * GC, so the heap leads to one round per GC (else every sample would reset more for the same
   * figure).
   */
  private void resetLargest(MemoryProbe probe) {
    double low = settings.memoryLowWater();
    long excess = 0;
    if (direct >= low) {
      excess = (long) ((direct - low) * probe.directLimit());
    }
    long gc = probe.lastGcMillis();
    boolean byHeap = heap >= low && gc != heapResetGc;
    if (byHeap) {
      excess = Math.max(excess, (long) ((heap - low) * probe.heapLimit()));
    }
    if (excess <= 0 || shedding.parked() == 0) {
      return;
    }
    long before = shedding.resets();
    long freed = shedding.resetLargest(excess);
    if (freed <= 0) {
      return;
    }
    if (byHeap) {
      heapResetGc = gc;
    }
    resetsSinceLog += shedding.resets() - before;
    long now = System.nanoTime();
    if (now - lastResetLog >= LOG_EVERY_NANOS) {
      lastResetLog = now;
      log.warn(
          "overload: memory still past its low-water mark {} (heap after GC {}, direct {}): reset"
              + " {} request(s) whose bodies held the most, {} bytes in this round",
          percent(low),
          percent(heap),
          percent(direct),
          resetsSinceLog,
          freed);
      resetsSinceLog = 0;
    }
  }

  /** Whether new work is being shed (memory past the high-water mark). */
  boolean shedding() {
    return shedding.shedding();
  }

  /**
   * For the request pipeline: whether this request is to be shed, counting it if so. One volatile
   * read when not shedding.
   */
  boolean shedRequest() {
    return shedding.shedRequest();
  }

  /** A connection on the listener at {@code port} was closed as soon as accepted. */
  void refused(Reason reason, int port) {
    refused[reason.ordinal()].increment();
    long n = refusedSinceLog.incrementAndGet();
    long now = System.nanoTime();
    long last = lastLog.get();
    if (now - last >= LOG_EVERY_NANOS && lastLog.compareAndSet(last, now)) {
      refusedSinceLog.addAndGet(-n);
      log.warn(
          "overload: refused {} connection(s) in the last {} s; this one on port {}: {}",
          n,
          Math.min(TimeUnit.NANOSECONDS.toSeconds(now - last), 999_999),
          port,
          reason == Reason.MEMORY
              ? "memory past its high-water mark"
              : "max_connections " + settings.maxConnections() + " reached");
    }
  }

  long refused(Reason reason) {
    return refused[reason.ordinal()].sum();
  }

  long shedRequests() {
    return shedding.shedRequests();
  }

  void render(StringBuilder out) {
    Prometheus.head(
        out,
        "archway_overload_shedding",
        "gauge",
        "Whether new work is shed (1): memory past its high-water mark.");
    out.append("archway_overload_shedding ").append(shedding() ? 1 : 0).append('\n');
    Prometheus.head(
        out,
        "archway_overload_episodes_total",
        "counter",
        "Times memory went past its high-water mark.");
    out.append("archway_overload_episodes_total ").append(episodes.get()).append('\n');
    Prometheus.head(
        out,
        "archway_overload_memory_ratio",
        "gauge",
        "Heap in use after the last GC, and direct memory in use, as fractions of their limits.");
    out.append("archway_overload_memory_ratio{memory=\"heap\"} ").append(heap).append('\n');
    out.append("archway_overload_memory_ratio{memory=\"direct\"} ").append(direct).append('\n');
    Prometheus.head(
        out,
        "archway_overload_requests_shed_total",
        "counter",
        "Requests answered 503 because memory was past its high-water mark.");
    out.append("archway_overload_requests_shed_total ").append(shedRequests()).append('\n');
    Prometheus.head(
        out,
        "archway_overload_body_reads_paused",
        "gauge",
        "Requests whose body is not read now, until memory is under its low-water mark.");
    out.append("archway_overload_body_reads_paused ").append(shedding.parked()).append('\n');
    Prometheus.head(
        out,
        "archway_overload_body_reads_paused_total",
        "counter",
        "Times a request body's reading was paused because memory was past its high-water mark.");
    out.append("archway_overload_body_reads_paused_total ").append(shedding.parks()).append('\n');
    Prometheus.head(
        out,
        "archway_overload_requests_reset_total",
        "counter",
        "Requests reset while their bodies were paused, those holding the most first, to bring"
            + " memory under its low-water mark.");
    out.append("archway_overload_requests_reset_total ").append(shedding.resets()).append('\n');
    Prometheus.head(
        out,
        "archway_overload_reset_body_bytes_total",
        "counter",
        "Request body bytes those resets freed.");
    out.append("archway_overload_reset_body_bytes_total ")
        .append(shedding.resetBytes())
        .append('\n');
    Prometheus.head(
        out,
        "archway_overload_connections_refused_total",
        "counter",
        "Connections closed as soon as accepted: over max_connections, or memory past its mark.");
    for (var r : Reason.values()) {
      out.append("archway_overload_connections_refused_total{reason=\"")
          .append(r.label())
          .append("\"} ")
          .append(refused(r))
          .append('\n');
    }
  }

  private static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.1f%%", fraction * 100);
  }
}
