package io.archway.dataplane.plugin;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A logger plugin's queue, as APISIX's batch processor: entries are taken on the event loop without
 * waiting (a full queue drops the entry and counts it), and sent off the event loop in batches of
 * {@code batch_max_size}, or after {@code inactive_timeout} seconds, with {@code max_retry_count}
 * retries {@code retry_delay} seconds apart. A slow or dead peer fills the queue and costs dropped
 * entries, never request time.
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

  private final String name;
  private final Settings settings;
  private final Sender sender;
  private final PluginServices services;
  private final ConcurrentLinkedQueue<byte[]> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final AtomicBoolean scheduled = new AtomicBoolean();

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
      return;
    }
    queue.add(entry);
    if (scheduled.compareAndSet(false, true)) {
      long delay = size.get() >= settings.batchMaxSize() ? 0 : settings.inactiveMillis();
      schedule(delay);
    } else if (size.get() == settings.batchMaxSize()) {
      schedule(0);
    }
  }

  private void schedule(long delayMillis) {
    try {
      services.io().schedule(this::flush, delayMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      scheduled.set(false); // shutting down
    }
  }

  private void flush() {
    while (true) {
      var batch = new ArrayList<byte[]>(Math.min(size.get(), settings.batchMaxSize()));
      byte[] e;
      while (batch.size() < settings.batchMaxSize() && (e = queue.poll()) != null) {
        batch.add(e);
        size.decrementAndGet();
      }
      if (!batch.isEmpty()) {
        send(batch);
      }
      if (size.get() < settings.batchMaxSize()) {
        break;
      }
    }
    scheduled.set(false);
    if (size.get() > 0 && scheduled.compareAndSet(false, true)) {
      schedule(settings.inactiveMillis());
    }
  }

  private void send(List<byte[]> batch) {
    var counters = services.metrics().logger(name);
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
          log.warn("{}: {} entries dropped: {}", name, batch.size(), ex.toString());
          counters[1].add(batch.size());
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
