package io.archway.dataplane.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.support.Prometheus;
import io.archway.model.ModelJson;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Live counts of every plugin flow, per node and per edge: totals for {@code /metrics} and a
 * per-second ring of the last hour for {@code GET /apisix/admin/plugin_flows/{id}/stats}. One
 * instance per dataplane ({@link #of}), kept across config changes: a flow compiled again keeps the
 * counters of the nodes (by id) and edges (by from, to, condition) it still has. Counting takes no
 * lock and allocates nothing: {@link LongAdder}s and one compare-and-set on a packed slot.
 */
public final class FlowStats {

  /** The longest window the rings answer for, in seconds. */
  public static final int MAX_WINDOW = 3600;

  private static final String SHARED_KEY = "archway:flow-stats";

  private final LongSupplier clockMillis;
  private final Map<String, Flow> flows = new ConcurrentHashMap<>();

  FlowStats(LongSupplier clockMillis) {
    this.clockMillis = clockMillis;
  }

  /** The dataplane's counters, kept with its plugin services. */
  public static FlowStats of(PluginServices services) {
    return services.shared(SHARED_KEY, () -> new FlowStats(System::currentTimeMillis));
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
    final Ring runs;
    final Ring errors;
    final Ring rejected;

    NodeCounters(String plugin, LongSupplier clock) {
      this.plugin = plugin;
      this.runs = new Ring(clock);
      this.errors = new Ring(clock);
      this.rejected = new Ring(clock);
    }

    /** The node finished with {@code respond} ({@code null}: it let the request go on). */
    public void record(Outcome.Respond respond) {
      runs.add();
      if (respond == null) {
        proceeded.increment();
        return;
      }
      int status = respond.status();
      if (status >= 500) {
        errorTotal.increment();
        errors.add();
      } else if (status >= 400) {
        rejectedTotal.increment();
        rejected.add();
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
    final Ring ring;

    EdgeCounter(String from, String to, String condition, LongSupplier clock) {
      this.from = from;
      this.to = to;
      this.condition = condition;
      this.ring = new Ring(clock);
    }

    public void taken() {
      total.increment();
      ring.add();
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
                .put("runs", c.runs.sum(seconds))
                .put("errors", c.errors.sum(seconds))
                .put("rejected", c.rejected.sum(seconds)));
    var edges = out.putArray("edges");
    for (var e : f.edges) {
      edges
          .addObject()
          .put("from", e.from)
          .put("to", e.to)
          .put("condition", e.condition)
          .put("count", e.ring.sum(seconds));
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
        "Plugin flow edges followed, by flow, from node and to node.");
    for (var f : sorted.values()) {
      for (var e : f.edges) {
        out.append("archway_flow_edge_taken_total{flow=\"")
            .append(Prometheus.escape(f.label))
            .append("\",from=\"")
            .append(Prometheus.escape(e.from))
            .append("\",to=\"")
            .append(Prometheus.escape(e.to))
            .append("\"} ")
            .append(e.total.sum())
            .append('\n');
      }
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
   * Counts per second over the last {@link #MAX_WINDOW} seconds: slot {@code second % MAX_WINDOW}
   * holds the second (high 32 bits) and its count (low 32); a slot of an older second is restarted
   * by the first count of the new one. Allocated on the first count.
   */
  static final class Ring {
    private static final VarHandle SLOTS;

    static {
      try {
        SLOTS = MethodHandles.lookup().findVarHandle(Ring.class, "slots", AtomicLongArray.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private final LongSupplier clockMillis;

    @SuppressWarnings("unused") // through SLOTS
    private volatile AtomicLongArray slots;

    Ring(LongSupplier clockMillis) {
      this.clockMillis = clockMillis;
    }

    void add() {
      var a = slots;
      if (a == null) {
        SLOTS.compareAndSet(this, null, new AtomicLongArray(MAX_WINDOW));
        a = slots;
      }
      long second = clockMillis.getAsLong() / 1000;
      int i = (int) (second % MAX_WINDOW);
      long stamp = second << 32;
      while (true) {
        long v = a.get(i);
        long next = (v & 0xFFFF_FFFF_0000_0000L) == stamp ? v + 1 : stamp | 1;
        if (a.compareAndSet(i, v, next)) {
          return;
        }
      }
    }

    /** The counts of the last {@code seconds} seconds, this one included. */
    long sum(int seconds) {
      var a = slots;
      if (a == null) {
        return 0;
      }
      long now = clockMillis.getAsLong() / 1000;
      long total = 0;
      for (int k = 0; k < Math.min(seconds, MAX_WINDOW); k++) {
        long second = now - k;
        long v = a.get((int) (second % MAX_WINDOW));
        if (v >>> 32 == second) {
          total += v & 0xFFFF_FFFFL;
        }
      }
      return total;
    }
  }
}
