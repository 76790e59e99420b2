package io.archway.dataplane.support;

import java.util.concurrent.atomic.LongAdder;

/**
 * A latency histogram for {@code /metrics}: lock-free counts per bucket, written on the event loops
 * and read when scraped, rendered in the Prometheus text format.
 */
public final class Histogram {

  /** Bucket bounds in milliseconds, as Prometheus {@code le} labels (in seconds). */
  static final double[] BUCKETS = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

  private final LongAdder[] counts = new LongAdder[BUCKETS.length + 1];
  private final LongAdder sumMicros = new LongAdder();

  public Histogram() {
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  public void observe(long nanos) {
    double ms = nanos / 1e6;
    int i = 0;
    while (i < BUCKETS.length && ms > BUCKETS[i]) {
      i++;
    }
    counts[i].increment();
    sumMicros.add(nanos / 1000);
  }

  /** Observations so far. */
  public long count() {
    long n = 0;
    for (var c : counts) {
      n += c.sum();
    }
    return n;
  }

  /**
   * Appends {@code name_bucket}, {@code _sum} and {@code _count} lines; {@code labels} are the
   * series' labels already formatted, e.g. {@code route="r1"}.
   */
  public void render(StringBuilder out, String name, String labels) {
    long cumulative = 0;
    for (int i = 0; i < counts.length; i++) {
      cumulative += counts[i].sum();
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
    out.append(sumMicros.sum() / 1e6).append('\n');
    out.append(name).append("_count{").append(labels).append("} ");
    out.append(cumulative).append('\n');
  }
}
