package io.archway.e2e.chaos;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the chaos suite's non-HTTP load clients ({@link RedisLoad}, {@link PubSubLoad}) count, in
 * {@link Load}'s terms so that a scenario reports them as it reports HTTP: every call, every
 * failure by {@link Load.Kind}, the first few failures as examples, latencies (microseconds) in an
 * HdrHistogram. Thread-safe.
 */
final class Tally {

  private final AtomicLong calls = new AtomicLong();
  private final Map<Load.Kind, AtomicLong> failures = new EnumMap<>(Load.Kind.class);
  private final ConcurrentLinkedQueue<Load.Failure> examples = new ConcurrentLinkedQueue<>();
  private final Recorder latencies = new Recorder(3);
  private final Histogram total = new Histogram(3);

  Tally() {
    for (var k : Load.Kind.values()) {
      failures.put(k, new AtomicLong());
    }
  }

  /** A call starts: counted, and its start time returned. */
  long start() {
    calls.incrementAndGet();
    return System.nanoTime();
  }

  /** A call started at {@code start} got its answer (whether the answer is a failure or not). */
  void answered(long start) {
    latencies.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
  }

  void fail(Load.Kind kind, String answer, String error) {
    failures.get(kind).incrementAndGet();
    if (examples.size() < Load.EXAMPLES) {
      examples.add(
          new Load.Failure(
              kind, 0, answer.length() > 120 ? answer.substring(0, 120) : answer, error));
    }
  }

  synchronized Load.Result result() {
    total.add(latencies.getIntervalHistogram());
    var byKind = new EnumMap<Load.Kind, Long>(Load.Kind.class);
    failures.forEach(
        (k, n) -> {
          if (n.get() > 0) {
            byKind.put(k, n.get());
          }
        });
    return new Load.Result(
        calls.get(),
        byKind,
        List.copyOf(examples),
        total.getValueAtPercentile(50),
        total.getValueAtPercentile(99),
        total.getMaxValue());
  }
}
