package io.archway.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.LongSupplier;

/**
 * The operator's metrics in Prometheus text: reconciles by kind and result, their durations,
 * errors, and the sync lag — the time from the first event about a resource that was not yet
 * handled to the end of the reconcile that handled it.
 */
public final class OperatorMetrics implements Metrics {

  private static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();
  private final Map<String, Histogram> histograms = new ConcurrentHashMap<>();
  private final Map<ResourceID, Long> pendingSince = new ConcurrentHashMap<>();
  // Keyed by kind too: an ApisixRoute and an ApisixUpstream of one name reconcile side by side.
  private final Map<Running, Long> startedAt = new ConcurrentHashMap<>();

  private record Running(String kind, ResourceID id) {}

  private final Map<String, LongSupplier> gauges = new ConcurrentHashMap<>();

  private static final class Histogram {
    final AtomicLong[] buckets = new AtomicLong[BUCKETS.length];
    final AtomicLong count = new AtomicLong();
    final DoubleAdder sum = new DoubleAdder();

    Histogram() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new AtomicLong();
      }
    }

    void observe(double seconds) {
      for (int i = 0; i < BUCKETS.length; i++) {
        if (seconds <= BUCKETS[i]) {
          buckets[i].incrementAndGet();
        }
      }
      count.incrementAndGet();
      sum.add(seconds);
    }
  }

  @Override
  public void receivedEvent(Event event, Map<String, Object> metadata) {
    pendingSince.putIfAbsent(event.getRelatedCustomResourceID(), System.nanoTime());
  }

  @Override
  public void reconciliationExecutionStarted(HasMetadata r, Map<String, Object> metadata) {
    if (r == null) {
      return;
    }
    startedAt.put(new Running(r.getKind(), ResourceID.fromResource(r)), System.nanoTime());
  }

  @Override
  public void reconciliationExecutionFinished(HasMetadata r, Map<String, Object> metadata) {
    // The framework calls it without a resource when the resource left its cache before the
    // execution began (deleted meanwhile).
    if (r == null) {
      return;
    }
    var start = startedAt.remove(new Running(r.getKind(), ResourceID.fromResource(r)));
    if (start != null) {
      observe(
          "archway_operator_reconcile_duration_seconds", r.getKind(), System.nanoTime() - start);
    }
  }

  @Override
  public void finishedReconciliation(HasMetadata r, Map<String, Object> metadata) {
    count("archway_operator_reconciles_total{kind=\"" + r.getKind() + "\",result=\"ok\"}");
    var since = pendingSince.remove(ResourceID.fromResource(r));
    if (since != null) {
      observe("archway_operator_sync_lag_seconds", r.getKind(), System.nanoTime() - since);
    }
  }

  @Override
  public void cleanupDoneFor(ResourceID id, Map<String, Object> metadata) {
    pendingSince.remove(id);
  }

  @Override
  public void failedReconciliation(HasMetadata r, Exception e, Map<String, Object> metadata) {
    count("archway_operator_reconciles_total{kind=\"" + r.getKind() + "\",result=\"error\"}");
  }

  @Override
  public void reconcileCustomResource(
      HasMetadata r, RetryInfo retry, Map<String, Object> metadata) {
    if (retry != null && retry.getAttemptCount() > 0) {
      count("archway_operator_retries_total{kind=\"" + r.getKind() + "\"}");
    }
  }

  /** A resource refused as invalid (its reconcile itself succeeded). */
  void invalid(String kind) {
    count("archway_operator_invalid_total{kind=\"" + kind + "\"}");
  }

  /** An etcd failure reported on a resource. */
  void error(String kind) {
    count("archway_operator_etcd_errors_total{kind=\"" + kind + "\"}");
  }

  /** How many reconciles are running now. */
  long inProgress() {
    return startedAt.size();
  }

  /** Whether a reconcile of this resource is running now. */
  boolean reconciling(String kind, ResourceID id) {
    return startedAt.containsKey(new Running(kind, id));
  }

  /**
   * The counts of each registry: {@code archway_operator_registry_updates_total{registry}} (node
   * sets written after damping) and {@code archway_operator_registry_errors_total{registry}}.
   */
  public io.archway.operator.registry.Registries.Metrics registryMetrics() {
    return new io.archway.operator.registry.Registries.Metrics() {
      @Override
      public void updated(String registry) {
        count("archway_operator_registry_updates_total{registry=\"" + registry + "\"}");
      }

      @Override
      public void failed(String registry) {
        count("archway_operator_registry_errors_total{registry=\"" + registry + "\"}");
      }
    };
  }

  /** A value read when metrics are scraped, e.g. {@code archway_operator_leader}. */
  public void gauge(String name, LongSupplier value) {
    gauges.put(name, value);
  }

  private void count(String series) {
    counters.computeIfAbsent(series, k -> new AtomicLong()).incrementAndGet();
  }

  private void observe(String name, String kind, long nanos) {
    histograms.computeIfAbsent(name + "|" + kind, k -> new Histogram()).observe(nanos / 1e9);
  }

  /** The Prometheus text exposition of every metric. */
  public String render() {
    var sb = new StringBuilder();
    new TreeMap<>(counters)
        .forEach((k, v) -> sb.append(k).append(' ').append(v.get()).append('\n'));
    new TreeMap<>(gauges)
        .forEach((k, v) -> sb.append(k).append(' ').append(v.getAsLong()).append('\n'));
    new TreeMap<>(histograms)
        .forEach(
            (key, h) -> {
              var name = key.substring(0, key.indexOf('|'));
              var kind = key.substring(key.indexOf('|') + 1);
              for (int i = 0; i < BUCKETS.length; i++) {
                sb.append(name)
                    .append("_bucket{kind=\"")
                    .append(kind)
                    .append("\",le=\"")
                    .append(BUCKETS[i])
                    .append("\"} ")
                    .append(h.buckets[i].get())
                    .append('\n');
              }
              sb.append(name)
                  .append("_bucket{kind=\"")
                  .append(kind)
                  .append("\",le=\"+Inf\"} ")
                  .append(h.count.get())
                  .append('\n');
              sb.append(name)
                  .append("_sum{kind=\"")
                  .append(kind)
                  .append("\"} ")
                  .append(h.sum.sum())
                  .append('\n');
              sb.append(name)
                  .append("_count{kind=\"")
                  .append(kind)
                  .append("\"} ")
                  .append(h.count.get())
                  .append('\n');
            });
    return sb.toString();
  }
}
