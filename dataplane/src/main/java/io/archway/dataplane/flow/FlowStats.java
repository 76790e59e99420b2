package io.archway.dataplane.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.support.Prometheus;
import io.archway.model.ModelJson;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Live counts of every plugin flow, per node and per edge: totals for {@code /metrics} and a
 * history of the last hour for {@code GET /apisix/admin/plugin_flows/{id}/stats}. One instance per
 * dataplane ({@link #of}), kept across config changes: a flow compiled again keeps the counters of
 * the nodes (by id) and edges (by from, to, condition) it still has.
 *
 * <p>The request path only increments {@link LongAdder}s (no lock, no allocation, no shared hot
 * slot). One sampler (a daemon thread of its own, never an event loop) reads them once a second and
 * records the deltas into each counter's {@link History}: 60 one-second slots and 61 one-minute
 * slots, so a window up to an hour is answered at one-second resolution up to 60 s and one-minute
 * resolution past it.
 */
public final class FlowStats implements AutoCloseable {

  /** The longest window the histories answer for, in seconds. */
  public static final int MAX_WINDOW = 3600;

  private static final String SHARED_KEY = "archway:flow-stats";

  private final LongSupplier clockMillis;
  private final Map<String, Flow> flows = new ConcurrentHashMap<>();
  private volatile ScheduledExecutorService sampler;

  FlowStats(LongSupplier clockMillis) {
    this.clockMillis = clockMillis;
  }

  /** The dataplane's counters, kept with its plugin services, sampled once a second. */
  public static FlowStats of(PluginServices services) {
    return services.shared(
        SHARED_KEY,
        () -> {
          var stats = new FlowStats(System::currentTimeMillis);
          var timer =
              Executors.newSingleThreadScheduledExecutor(
                  Thread.ofPlatform().daemon().name("archway-flow-stats").factory());
          timer.scheduleAtFixedRate(stats::sampleQuietly, 1, 1, TimeUnit.SECONDS);
          stats.sampler = timer;
          return stats;
        });
  }

  @Override
  public void close() {
    var s = sampler;
    if (s != null) {
      s.shutdownNow();
    }
  }

  private void sampleQuietly() {
    try {
      sample();
    } catch (RuntimeException e) {
      // the next second samples again; a scheduled task that throws would stop for good
    }
  }

  /** Records, for every counter, what was counted since the last sample (the sampler's task). */
  void sample() {
    long second = clockMillis.getAsLong() / 1000;
    for (var f : flows.values()) {
      for (var c : f.nodes.values()) {
        c.runs.sample(second, c.runTotal());
        c.errors.sample(second, c.errorTotal.sum());
        c.rejected.sample(second, c.rejectedTotal.sum());
      }
      for (var e : f.edges) {
        e.history.sample(second, e.total.sum());
      }
    }
  }

  /** A flow's counters: its label in {@code /metrics}, its nodes by id, its edges. */
  record Flow(String label, Map<String, NodeCounters> nodes, List<EdgeCounter> edges) {}

  /** What a node did, by outcome; {@code errors}: 5xx or failed, {@code rejected}: 4xx. */
  public static final class NodeCounters {
    final String plugin;
    final LongAdder proceeded = new LongAdder();
    final LongAdder responded = new LongAdder();
    final LongAdder rejectedTotal = new LongAdder();
    final LongAdder errorTotal = new LongAdder();
    final History runs;
    final History errors;
    final History rejected;

    NodeCounters(String plugin, LongSupplier clock) {
      this.plugin = plugin;
      this.runs = new History(clock);
      this.errors = new History(clock);
      this.rejected = new History(clock);
    }

    long runTotal() {
      return proceeded.sum() + responded.sum() + rejectedTotal.sum() + errorTotal.sum();
    }

    /** The node finished with {@code respond} ({@code null}: it let the request go on). */
    public void record(Outcome.Respond respond) {
      if (respond == null) {
        proceeded.increment();
        return;
      }
      int status = respond.status();
      if (status >= 500) {
        errorTotal.increment();
      } else if (status >= 400) {
        rejectedTotal.increment();
      } else {
        responded.increment();
      }
    }
  }

  /** How often an edge was followed. */
  public static final class EdgeCounter {
    final String from;
    final String to;
    final String condition;
    final LongAdder total = new LongAdder();
    final History history;

    EdgeCounter(String from, String to, String condition, LongSupplier clock) {
      this.from = from;
      this.to = to;
      this.condition = condition;
      this.history = new History(clock);
    }

    public void taken() {
      total.increment();
    }
  }

  /** Counters not registered anywhere: a dry-run's flow counts nothing anyone sees. */
  static NodeCounters detachedNode(String plugin) {
    return new NodeCounters(plugin, System::currentTimeMillis);
  }

  static EdgeCounter detachedEdge(String from, String to, String condition) {
    return new EdgeCounter(from, to, condition, System::currentTimeMillis);
  }

  /**
   * The counters of flow {@code owner} ({@code plugin_flows/1}, or the route of an inline flow) for
   * its nodes now: those of nodes and edges it had before are kept, the others dropped.
   *
   * @param nodes node id → plugin name
   * @param edges each {@code [from, to, condition]}
   */
  synchronized Registered register(String owner, Map<String, String> nodes, List<String[]> edges) {
    var before = flows.get(owner);
    var ns = new LinkedHashMap<String, NodeCounters>();
    for (var n : nodes.entrySet()) {
      var old = before == null ? null : before.nodes.get(n.getKey());
      ns.put(
          n.getKey(),
          old != null && old.plugin.equals(n.getValue())
              ? old
              : new NodeCounters(n.getValue(), clockMillis));
    }
    var oldEdges = new HashMap<String, EdgeCounter>();
    if (before != null) {
      before.edges.forEach(e -> oldEdges.put(e.from + "\n" + e.to + "\n" + e.condition, e));
    }
    var es = new java.util.ArrayList<EdgeCounter>();
    for (var e : edges) {
      var old = oldEdges.get(e[0] + "\n" + e[1] + "\n" + e[2]);
      es.add(old != null ? old : new EdgeCounter(e[0], e[1], e[2], clockMillis));
    }
    var label = owner.startsWith("plugin_flows/") ? owner.substring(13) : owner;
    flows.put(owner, new Flow(label, Map.copyOf(ns), List.copyOf(es)));
    return new Registered(ns, es);
  }

  /** What {@link #register} gives the compiled flow. */
  record Registered(Map<String, NodeCounters> nodes, List<EdgeCounter> edges) {}

  /** Forgets the stored flows ({@code plugin_flows/...}) not in {@code owners}. */
  public synchronized void retainStored(Set<String> owners) {
    flows.keySet().removeIf(k -> k.startsWith("plugin_flows/") && !owners.contains(k));
  }

  /**
   * Forgets the counters of flow {@code owner}: a route deleted, disabled, not served or no longer
   * with an inline flow ({@code plugin_flow}).
   */
  public synchronized void forget(String owner) {
    flows.remove(owner);
  }

  /** How many flows have counters. */
  public int size() {
    return flows.size();
  }

  /**
   * {@code {"window", "nodes": {id: {runs, errors, rejected}}, "edges": [{from, to, condition,
   * count}]}} over the last {@code seconds} (1..{@link #MAX_WINDOW}); empty when the flow does not
   * run here.
   */
  public java.util.Optional<ObjectNode> window(String owner, int seconds) {
    var f = flows.get(owner);
    if (f == null) {
      return java.util.Optional.empty();
    }
    var out = ModelJson.mapper().createObjectNode();
    out.put("window", seconds);
    var nodes = out.putObject("nodes");
    f.nodes.forEach(
        (id, c) ->
            nodes
                .putObject(id)
                .put("plugin", c.plugin)
                .put("runs", c.runs.sum(seconds, c.runTotal()))
                .put("errors", c.errors.sum(seconds, c.errorTotal.sum()))
                .put("rejected", c.rejected.sum(seconds, c.rejectedTotal.sum())));
    var edges = out.putArray("edges");
    for (var e : f.edges) {
      edges
          .addObject()
          .put("from", e.from)
          .put("to", e.to)
          .put("condition", e.condition)
          .put("count", e.history.sum(seconds, e.total.sum()));
    }
    return java.util.Optional.of(out);
  }

  /** {@code archway_flow_node_runs_total} and {@code archway_flow_edge_taken_total}. */
  public void render(StringBuilder out) {
    Prometheus.head(
        out,
        "archway_flow_node_runs_total",
        "counter",
        "Plugin flow nodes run, by flow, node, plugin and outcome (continue, respond, rejected: 4xx,"
            + " error: 5xx or failed).");
    var sorted = new java.util.TreeMap<>(flows);
    for (var f : sorted.values()) {
      f.nodes.forEach(
          (id, c) -> {
            node(out, f.label, id, c.plugin, "continue", c.proceeded.sum());
            node(out, f.label, id, c.plugin, "respond", c.responded.sum());
            node(out, f.label, id, c.plugin, "rejected", c.rejectedTotal.sum());
            node(out, f.label, id, c.plugin, "error", c.errorTotal.sum());
          });
    }
    Prometheus.head(
        out,
        "archway_flow_edge_taken_total",
        "counter",
        "Plugin flow edges followed, by flow, from node and to node (summed over the conditions"
            + " leading there).");
    for (var f : sorted.values()) {
      // One series per (from, to): two conditions leading to the same node are summed.
      var byPair = new LinkedHashMap<List<String>, Long>();
      for (var e : f.edges) {
        byPair.merge(List.of(e.from, e.to), e.total.sum(), Long::sum);
      }
      byPair.forEach(
          (pair, n) ->
              out.append("archway_flow_edge_taken_total{flow=\"")
                  .append(Prometheus.escape(f.label))
                  .append("\",from=\"")
                  .append(Prometheus.escape(pair.get(0)))
                  .append("\",to=\"")
                  .append(Prometheus.escape(pair.get(1)))
                  .append("\"} ")
                  .append(n)
                  .append('\n'));
    }
  }

  private static void node(
      StringBuilder out, String flow, String node, String plugin, String outcome, long n) {
    out.append("archway_flow_node_runs_total{flow=\"")
        .append(Prometheus.escape(flow))
        .append("\",node=\"")
        .append(Prometheus.escape(node))
        .append("\",plugin=\"")
        .append(Prometheus.escape(plugin))
        .append("\",outcome=\"")
        .append(outcome)
        .append("\"} ")
        .append(n)
        .append('\n');
  }

  /**
   * What a counter counted, by second for the last 60 s and by minute for the last hour, as the
   * sampler recorded it; what was counted since its last sample is added when read. Only the
   * sampler writes; allocated on the first sample that saw a count (~2 KiB).
   */
  static final class History {
    static final int SECONDS = 60;
    static final int MINUTES = MAX_WINDOW / 60 + 1; // the current, partial minute too

    private final LongSupplier clockMillis;
    private long sampled; // the counter's total at the last sample
    private long[] secondStamp;
    private long[] secondCount;
    private long[] minuteStamp;
    private long[] minuteCount;

    History(LongSupplier clockMillis) {
      this.clockMillis = clockMillis;
    }

    /** The counter's total is {@code total} at {@code second}: records what it grew by. */
    synchronized void sample(long second, long total) {
      long delta = total - sampled;
      if (delta <= 0) {
        return;
      }
      sampled = total;
      if (secondStamp == null) {
        secondStamp = new long[SECONDS];
        secondCount = new long[SECONDS];
        minuteStamp = new long[MINUTES];
        minuteCount = new long[MINUTES];
        java.util.Arrays.fill(secondStamp, -1);
        java.util.Arrays.fill(minuteStamp, -1);
      }
      int i = (int) (second % SECONDS);
      if (secondStamp[i] != second) {
        secondStamp[i] = second;
        secondCount[i] = 0;
      }
      secondCount[i] += delta;
      long minute = second / 60;
      int j = (int) (minute % MINUTES);
      if (minuteStamp[j] != minute) {
        minuteStamp[j] = minute;
        minuteCount[j] = 0;
      }
      minuteCount[j] += delta;
    }

    /**
     * The counts of the last {@code seconds} seconds, now included ({@code total}: the counter's
     * total now); past 60 s by whole minutes, the window's first minute included.
     */
    synchronized long sum(int seconds, long total) {
      long out = Math.max(0, total - sampled);
      if (secondStamp == null) {
        return out;
      }
      long now = clockMillis.getAsLong() / 1000;
      long from = now - Math.min(seconds, MAX_WINDOW); // exclusive
      if (seconds <= SECONDS) {
        for (int i = 0; i < SECONDS; i++) {
          if (secondStamp[i] > from && secondStamp[i] <= now) {
            out += secondCount[i];
          }
        }
        return out;
      }
      long firstMinute = (from + 1) / 60;
      for (int j = 0; j < MINUTES; j++) {
        if (minuteStamp[j] >= firstMinute && minuteStamp[j] <= now / 60) {
          out += minuteCount[j];
        }
      }
      return out;
    }
  }
}
