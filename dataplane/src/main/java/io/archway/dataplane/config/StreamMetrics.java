package io.archway.dataplane.config;

import static io.archway.dataplane.support.Prometheus.escape;
import static io.archway.dataplane.support.Prometheus.head;

import io.archway.dataplane.support.Histogram;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Stream counters for {@code /metrics}: connections by route, errors by cause, and for Redis routes
 * a count and a latency histogram per command. Command names come from clients, so a route keeps at
 * most {@value #MAX_COMMANDS} of them; later names are counted as {@code other}.
 *
 * <p>Here rather than in {@code stream} because a compiled stream route carries its counters (so a
 * connection finds them without a lookup) and the compiler counts the routes it rejects; the TCP
 * and Redis adapters above both write to it.
 */
public final class StreamMetrics {

  static final int MAX_COMMANDS = 300;

  private final Map<String, RouteStats> routes = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final AtomicLong open = new AtomicLong();
  private final AtomicLong sharedUpstreams = new AtomicLong();
  private final AtomicLong ownUpstreams = new AtomicLong();

  RouteStats route(String id) {
    return routes.computeIfAbsent(id, RouteStats::new);
  }

  public void opened() {
    open.incrementAndGet();
  }

  public void closed() {
    open.decrementAndGet();
  }

  public long openConnections() {
    return open.get();
  }

  /** A Redis upstream connection opened: shared by sessions, or a session's own. */
  public void upstreamOpened(boolean shared) {
    (shared ? sharedUpstreams : ownUpstreams).incrementAndGet();
  }

  public void upstreamClosed(boolean shared) {
    (shared ? sharedUpstreams : ownUpstreams).decrementAndGet();
  }

  /** Redis upstream connections open now: shared ones, or sessions' own. */
  public long upstreams(boolean shared) {
    return (shared ? sharedUpstreams : ownUpstreams).get();
  }

  /** An error by cause: {@code no_route}, {@code upstream_connect_failed}, {@code bad_resp}, ... */
  public void error(String cause) {
    errors.computeIfAbsent(cause, c -> new LongAdder()).increment();
  }

  public long errors(String cause) {
    var a = errors.get(cause);
    return a == null ? 0 : a.sum();
  }

  /** One stream route's counters. */
  public static final class RouteStats {
    private final String id;
    final LongAdder connections = new LongAdder();
    private final Map<String, Histogram> commands = new ConcurrentHashMap<>();

    RouteStats(String id) {
      this.id = id;
    }

    /** A connection matched the route. */
    public void connected() {
      connections.increment();
    }

    /** The histogram of one command (lower-case name). */
    public Histogram command(String name) {
      var h = commands.get(name);
      if (h != null) {
        return h;
      }
      if (commands.size() >= MAX_COMMANDS) {
        return commands.computeIfAbsent("other", c -> new Histogram());
      }
      return commands.computeIfAbsent(name, c -> new Histogram());
    }

    /** Commands seen with that name so far (0 when none). */
    public long commands(String name) {
      var h = commands.get(name);
      return h == null ? 0 : h.count();
    }
  }

  public void render(StringBuilder out) {
    head(out, "archway_stream_connections", "gauge", "Stream client connections open now.");
    out.append("archway_stream_connections ").append(open.get()).append('\n');
    head(
        out,
        "archway_redis_upstream_connections",
        "gauge",
        "Redis upstream connections open now: shared by client sessions, or a session's own.");
    out.append("archway_redis_upstream_connections{kind=\"shared\"} ")
        .append(sharedUpstreams.get())
        .append('\n');
    out.append("archway_redis_upstream_connections{kind=\"own\"} ")
        .append(ownUpstreams.get())
        .append('\n');
    var sorted = new TreeMap<>(routes);
    head(out, "archway_stream_connections_total", "counter", "Stream connections, by route.");
    sorted.forEach(
        (id, s) ->
            out.append("archway_stream_connections_total{route=\"")
                .append(escape(id))
                .append("\"} ")
                .append(s.connections.sum())
                .append('\n'));
    head(
        out,
        "archway_redis_command_duration_seconds",
        "histogram",
        "Redis commands through the proxy, by route and command: time from the command read whole"
            + " to its reply's last byte.");
    sorted.forEach(
        (id, s) ->
            new TreeMap<>(s.commands)
                .forEach(
                    (cmd, h) ->
                        h.render(
                            out,
                            "archway_redis_command_duration_seconds",
                            "route=\"" + escape(id) + "\",cmd=\"" + escape(cmd) + "\"")));
    head(out, "archway_stream_errors_total", "counter", "Stream errors by cause.");
    new TreeMap<>(errors)
        .forEach(
            (cause, n) ->
                out.append("archway_stream_errors_total{cause=\"")
                    .append(cause)
                    .append("\"} ")
                    .append(n.sum())
                    .append('\n'));
  }
}
