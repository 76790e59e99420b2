package io.archway.dataplane.support;

import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.atomic.LongAdder;

/**
 * A latency histogram for {@code /metrics}: lock-free counts per bucket, written on the event loops
 * and read when scraped, rendered in the Prometheus text format. The counters are made on the first
 * observation: every route has two histograms, and at 100,000 routes eager counters were a third of
 * the heap for routes that may never be requested.
 */
public final class Histogram {

  /** Bucket bounds in milliseconds, as Prometheus {@code le} labels (in seconds). */
  static final double[] BUCKETS = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

  private static final AtomicReferenceFieldUpdater<Histogram, Counts> COUNTS =
      AtomicReferenceFieldUpdater.newUpdater(Histogram.class, Counts.class, "counts");

  private volatile Counts counts;

  private static final class Counts {
    final LongAdder[] buckets = new LongAdder[BUCKETS.length + 1];
    final LongAdder sumMicros = new LongAdder();

    Counts() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }
  }

  public void observe(long nanos) {
    var c = counts;
    if (c == null) {
      var made = new Counts();
      c = COUNTS.compareAndSet(this, null, made) ? made : counts;
    }
    double ms = nanos / 1e6;
    int i = 0;
    while (i < BUCKETS.length && ms > BUCKETS[i]) {
      i++;
    }
    c.buckets[i].increment();
    c.sumMicros.add(nanos / 1000);
  }

  /** Observations so far. */
  public long count() {
    var c = counts;
    long n = 0;
    if (c != null) {
      for (var b : c.buckets) {
        n += b.sum();
      }
    }
    return n;
  }

  /**
   * Appends {@code name_bucket}, {@code _sum} and {@code _count} lines; {@code labels} are the
   * series' labels already formatted, e.g. {@code route="r1"}.
   */
  public void render(StringBuilder out, String name, String labels) {
    var c = counts;
    long cumulative = 0;
    for (int i = 0; i <= BUCKETS.length; i++) {
      cumulative += c == null ? 0 : c.buckets[i].sum();
      out.append(name)
          .append("_bucket{")
          .append(labels)
          .append(",le=\"")
          .append(i < BUCKETS.length ? Double.toString(BUCKETS[i] / 1000) : "+Inf")
          .append("\"} ")
          .append(cumulative)
          .append('\n');
    }
    out.append(name).append("_sum{").append(labels).append("} ");
    out.append((c == null ? 0 : c.sumMicros.sum()) / 1e6).append('\n');
    out.append(name).append("_count{").append(labels).append("} ");
    out.append(cumulative).append('\n');
  }
}
