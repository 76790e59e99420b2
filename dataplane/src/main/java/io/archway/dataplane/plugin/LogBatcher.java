package io.archway.dataplane.plugin;

import io.archway.dataplane.support.WarnEvery;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A logger plugin's queue, as APISIX's batch processor: entries are taken on the event loop without
 * waiting (a full queue drops the entry and counts it), and sent off the event loop in batches of
 * {@code batch_max_size}, or after {@code inactive_timeout} seconds, with {@code max_retry_count}
 * retries {@code retry_delay} seconds apart. A slow or dead peer fills the queue and costs dropped
 * entries, never request time.
 *
 * <p>Each batcher sends from a virtual thread of its own, one at a time: a sink that hangs (a
 * syslog server that never reads, an HTTP collector that answers after many seconds, a Kafka broker
 * that is gone) holds only its own batcher, never the plugins' shared I/O threads, so the other
 * loggers (and the HTTP client whose executor those threads are) keep going. What one batcher holds
 * is bounded: its queue's {@code capacity} plus the one batch being sent. Drops are counted ({@code
 * archway_plugin_log_entries_total{result="dropped"}}), the queue's length is a gauge ({@code
 * archway_plugin_log_queued}), and the warning about them is logged at most every 10 s.
 */
public final class LogBatcher {

  private static final Logger log = LoggerFactory.getLogger(LogBatcher.class);

  /** Sends one batch, on an I/O thread; throws when the peer did not take it. */
  @FunctionalInterface
  public interface Sender {
    void send(List<byte[]> batch) throws Exception;
  }

  /** The batching settings every logger has (APISIX's names). */
  public record Settings(
      int batchMaxSize,
      long inactiveMillis,
      int maxRetryCount,
      long retryDelayMillis,
      int capacity) {}

  // No flush is waiting or running; one is waiting for its delay; one is sending.
  private static final int IDLE = 0;
  private static final int WAITING = 1;
  private static final int RUNNING = 2;

  private final String name;
  private final Settings settings;
  private final Sender sender;
  private final PluginServices services;
  private final ConcurrentLinkedQueue<byte[]> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final AtomicInteger state = new AtomicInteger(IDLE);
  private final WarnEvery warnings = new WarnEvery(log, 10, TimeUnit.SECONDS);

  public LogBatcher(String name, Settings settings, Sender sender, PluginServices services) {
    this.name = name;
    this.settings = settings;
    this.sender = sender;
    this.services = services;
  }

  /** Queues an entry; never waits. */
  public void offer(byte[] entry) {
    var counters = services.metrics().logger(name);
    if (size.incrementAndGet() > settings.capacity()) {
      size.decrementAndGet();
      counters[1].increment();
      warnings.warn(
          "{}: queue full ({} entries: the sink is slower than the requests), entries dropped",
          name,
          settings.capacity());
      return;
    }
    queue.add(entry);
    counters[2].increment();
    boolean full = size.get() >= settings.batchMaxSize();
    if (state.compareAndSet(IDLE, WAITING)) {
      schedule(full ? 0 : settings.inactiveMillis());
    } else if (full) {
      run(); // a waiting flush goes now; a running one takes this batch next
    }
  }

  private void schedule(long delayMillis) {
    if (delayMillis <= 0) {
      run();
      return;
    }
    try {
      services.io().schedule(this::run, delayMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      state.set(IDLE); // shutting down
    }
  }

  /** Starts the waiting flush, unless it already started. */
  private void run() {
    if (state.compareAndSet(WAITING, RUNNING)) {
      Thread.ofVirtual().name("archway-log-" + name).start(this::flush);
    }
  }

  private void flush() {
    var counters = services.metrics().logger(name);
    try {
      while (true) {
        var batch = new ArrayList<byte[]>(Math.min(size.get(), settings.batchMaxSize()));
        byte[] e;
        while (batch.size() < settings.batchMaxSize() && (e = queue.poll()) != null) {
          batch.add(e);
          size.decrementAndGet();
        }
        counters[2].add(-batch.size());
        if (!batch.isEmpty()) {
          send(batch, counters);
        }
        if (size.get() < settings.batchMaxSize()) {
          break;
        }
      }
    } finally {
      state.set(IDLE);
    }
    if (size.get() > 0 && state.compareAndSet(IDLE, WAITING)) {
      schedule(size.get() >= settings.batchMaxSize() ? 0 : settings.inactiveMillis());
    }
  }

  private void send(List<byte[]> batch, LongAdder[] counters) {
    for (int attempt = 0; ; attempt++) {
      try {
        sender.send(batch);
        counters[0].add(batch.size());
        return;
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        counters[1].add(batch.size());
        return;
      } catch (Exception ex) {
        if (attempt >= settings.maxRetryCount()) {
          counters[1].add(batch.size());
          warnings.warn("{}: {} entries dropped: {}", name, batch.size(), ex.toString());
          return;
        }
        try {
          Thread.sleep(settings.retryDelayMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          counters[1].add(batch.size());
          return;
        }
      }
    }
  }
}
