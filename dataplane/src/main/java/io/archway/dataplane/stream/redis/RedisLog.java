package io.archway.dataplane.stream.redis;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warnings about what clients did to the proxy (an output buffer over its limit, an HTTP request
 * sent to Redis). Clients choose how often these happen, so each kind is logged at most once a
 * minute, with the number left unlogged since; the counters in {@code /metrics} count every one.
 */
final class RedisLog {

  private static final Logger log = LoggerFactory.getLogger(RedisSession.class);
  private static final long EVERY = TimeUnit.MINUTES.toNanos(1);

  private record Kind(AtomicLong next, AtomicLong skipped) {}

  private static final Map<String, Kind> KINDS = new ConcurrentHashMap<>();

  private RedisLog() {}

  static void warnRarely(String kind, String message) {
    var k = KINDS.computeIfAbsent(kind, x -> new Kind(new AtomicLong(), new AtomicLong()));
    long now = System.nanoTime();
    long next = k.next().get();
    if ((next == 0 || now - next >= 0) && k.next().compareAndSet(next, now + EVERY)) {
      long skipped = k.skipped().getAndSet(0);
      log.warn(skipped == 0 ? message : message + " (and " + skipped + " more since last logged)");
    } else {
      k.skipped().incrementAndGet();
    }
  }
}
