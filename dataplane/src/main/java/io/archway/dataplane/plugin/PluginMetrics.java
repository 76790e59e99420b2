package io.archway.dataplane.plugin;

import static io.archway.dataplane.support.Prometheus.escape;
import static io.archway.dataplane.support.Prometheus.head;

import io.archway.dataplane.support.Histogram;
import io.archway.dataplane.upstream.UpstreamRuntime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters plugins keep for {@code /metrics}: the {@code prometheus} plugin's, under APISIX's
 * metric names ({@code apisix_http_status}, {@code apisix_http_latency}, {@code apisix_bandwidth})
 * so existing dashboards work, and the loggers' entries sent and dropped.
 */
public final class PluginMetrics {

  private record StatusKey(String route, String consumer, int code) {}

  private final Map<StatusKey, LongAdder> status = new ConcurrentHashMap<>();
  private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
  private final Map<String, LongAdder[]> bandwidth = new ConcurrentHashMap<>();
  private final Map<String, LongAdder[]> loggers = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> streamConnections = new ConcurrentHashMap<>();
  private final Map<String, Series> routes = new ConcurrentHashMap<>();
  private volatile boolean apisixMetrics;

  /**
   * What the gateway as a whole reports for APISIX's gateway-wide metrics: requests answered,
   * client connections open, whether the config source is reachable and its revision, and the
   * health-checked upstreams.
   */
  public record Gateway(
      long requests,
      long connections,
      boolean configReachable,
      long configRevision,
      List<UpstreamRuntime> checked) {}

  /**
   * Whether {@code /metrics} also has APISIX's gateway-wide metrics ({@code
   * apisix_upstream_status}, {@code apisix_http_requests_total}, {@code
   * apisix_nginx_http_current_connections}, {@code apisix_etcd_reachable}, {@code
   * apisix_etcd_modify_indexes}, {@code apisix_node_info}): set by {@code
   * plugin_metadata/prometheus}'s {@code apisix_metrics}.
   */
  public void apisixMetrics(boolean on) {
    apisixMetrics = on;
  }

  public boolean apisixMetrics() {
    return apisixMetrics;
  }

  /** One request seen by the prometheus plugin. */
  public void request(String route, String consumer, int code, long nanos, long in, long out) {
    series(route).request(consumer, code, nanos, in, out);
  }

  /**
   * The counters of one route, for a caller to keep between requests: the route's latency and
   * bandwidth are found once, and its status counters by consumer and code without a map lookup
   * while requests keep the same ones.
   */
  public Series series(String route) {
    var s = routes.get(route);
    return s != null ? s : routes.computeIfAbsent(route, Series::new);
  }

  /**
   * Drops a route's counters (the route was deleted): a gateway whose routes come and go keeps only
   * the live ones.
   */
  public void forget(String route) {
    var s = routes.remove(route);
    latency.remove(route);
    bandwidth.remove(route);
    if (s != null) {
      s.forgotten = true;
      s.keys.forEach(status::remove);
    }
  }

  /** The counters of one route. */
  public final class Series {
    private final String route;
    private final Histogram latency;
    private final LongAdder[] bandwidth;
    // Its status counters' keys, for forget().
    private final java.util.Set<StatusKey> keys = ConcurrentHashMap.newKeySet();
    // Its route was deleted: a caller that kept it looks the route up again.
    private volatile boolean forgotten;
    // The status counter last used: shared by the event loops, replaced whole (final fields).
    private Last last;

    private record Last(String consumer, int code, LongAdder requests) {}

    private Series(String route) {
      this.route = route;
      this.latency = PluginMetrics.this.latency.computeIfAbsent(route, k -> new Histogram());
      this.bandwidth =
          PluginMetrics.this.bandwidth.computeIfAbsent(
              route, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
    }

    public String route() {
      return route;
    }

    /** Whether its route's counters were dropped ({@link #forget}): not to be counted into. */
    public boolean forgotten() {
      return forgotten;
    }

    /** One request: its consumer (or null), status, time, and body bytes in and out. */
    public void request(String consumer, int code, long nanos, long in, long out) {
      var c = consumer == null ? "" : consumer;
      var l = last;
      LongAdder requests;
      if (l != null && l.code == code && l.consumer.equals(c)) {
        requests = l.requests;
      } else {
        requests =
            status.computeIfAbsent(
                new StatusKey(route, c, code),
                k -> {
                  keys.add(k);
                  return new LongAdder();
                });
        last = new Last(c, code, requests);
      }
      requests.increment();
      latency.observe(nanos);
      bandwidth[0].add(in);
      bandwidth[1].add(out);
    }
  }

  /** One connection of a stream route seen by the stream prometheus plugin. */
  public void streamConnection(String route) {
    streamConnections.computeIfAbsent(route, k -> new LongAdder()).increment();
  }

  /**
   * Log entries of one logger plugin: {@code sent}, {@code dropped} (queue full or give up), and
   * {@code queued} (waiting in its batchers' queues now).
   */
  public LongAdder[] logger(String plugin) {
    return loggers.computeIfAbsent(
        plugin, k -> new LongAdder[] {new LongAdder(), new LongAdder(), new LongAdder()});
  }

  public long loggerQueued(String plugin) {
    return logger(plugin)[2].sum();
  }

  public long loggerDropped(String plugin) {
    return logger(plugin)[1].sum();
  }

  public long loggerSent(String plugin) {
    return logger(plugin)[0].sum();
  }

  /** The plugins' metrics, and APISIX's gateway-wide ones when asked for. */
  public void render(StringBuilder out, Gateway gateway) {
    render(out);
    if (apisixMetrics) {
      renderGateway(out, gateway);
    }
  }

  private static void renderGateway(StringBuilder out, Gateway g) {
    head(out, "apisix_http_requests_total", "gauge", "The total number of client requests.");
    out.append("apisix_http_requests_total ").append(g.requests()).append('\n');
    head(out, "apisix_nginx_http_current_connections", "gauge", "Number of HTTP connections.");
    out.append("apisix_nginx_http_current_connections{state=\"active\"} ")
        .append(g.connections())
        .append('\n');
    head(out, "apisix_etcd_reachable", "gauge", "Config server reachable from the gateway.");
    out.append("apisix_etcd_reachable ").append(g.configReachable() ? 1 : 0).append('\n');
    head(out, "apisix_etcd_modify_indexes", "gauge", "Revision of the config in force.");
    out.append("apisix_etcd_modify_indexes{key=\"x_etcd_index\"} ")
        .append(g.configRevision())
        .append('\n');
    head(out, "apisix_node_info", "gauge", "Info of the gateway node.");
    out.append("apisix_node_info{hostname=\"").append(escape(HOST)).append("\"} 1\n");
    head(out, "apisix_upstream_status", "gauge", "Health of upstream nodes (1 healthy).");
    for (var up : g.checked()) {
      for (var n : up.nodes()) {
        out.append("apisix_upstream_status{name=\"/apisix/")
            .append(escape(up.key()))
            .append("\",ip=\"")
            .append(escape(n.host()))
            .append("\",port=\"")
            .append(n.port())
            .append("\"} ")
            .append(n.healthy() ? 1 : 0)
            .append('\n');
      }
    }
  }

  private static final String HOST = hostName();

  private static String hostName() {
    var env = System.getenv("HOSTNAME");
    if (env != null && !env.isEmpty()) {
      return env;
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "localhost";
    }
  }

  /** The plugins' metrics. */
  public void render(StringBuilder out) {
    head(out, "apisix_http_status", "counter", "HTTP status codes per route (prometheus plugin).");
    var sorted = new TreeMap<String, Long>();
    status.forEach(
        (k, v) ->
            sorted.put(
                "{code=\""
                    + k.code
                    + "\",route=\""
                    + escape(k.route)
                    + "\",matched_uri=\"\",matched_host=\"\",service=\"\",consumer=\""
                    + escape(k.consumer)
                    + "\",node=\"\"}",
                v.sum()));
    sorted.forEach(
        (labels, v) ->
            out.append("apisix_http_status").append(labels).append(' ').append(v).append('\n'));
    head(out, "apisix_http_latency", "histogram", "Request latency per route (prometheus plugin).");
    new TreeMap<>(latency)
        .forEach(
            (route, h) ->
                h.render(
                    out,
                    "apisix_http_latency",
                    "type=\"request\",route=\"" + escape(route) + "\""));
    head(out, "apisix_bandwidth", "counter", "Bytes per route and direction (prometheus plugin).");
    new TreeMap<>(bandwidth)
        .forEach(
            (route, bw) -> {
              out.append("apisix_bandwidth{type=\"ingress\",route=\"")
                  .append(escape(route))
                  .append("\"} ")
                  .append(bw[0].sum())
                  .append('\n');
              out.append("apisix_bandwidth{type=\"egress\",route=\"")
                  .append(escape(route))
                  .append("\"} ")
                  .append(bw[1].sum())
                  .append('\n');
            });
    if (!streamConnections.isEmpty()) {
      head(
          out,
          "apisix_stream_connection_total",
          "counter",
          "Connections per stream route (prometheus stream plugin).");
      new TreeMap<>(streamConnections)
          .forEach(
              (route, n) ->
                  out.append("apisix_stream_connection_total{route=\"")
                      .append(escape(route))
                      .append("\"} ")
                      .append(n.sum())
                      .append('\n'));
    }
    head(
        out,
        "archway_plugin_log_entries_total",
        "counter",
        "Entries of logger plugins, sent or dropped.");
    new TreeMap<>(loggers)
        .forEach(
            (plugin, c) -> {
              out.append("archway_plugin_log_entries_total{plugin=\"")
                  .append(plugin)
                  .append("\",result=\"sent\"} ")
                  .append(c[0].sum())
                  .append('\n');
              out.append("archway_plugin_log_entries_total{plugin=\"")
                  .append(plugin)
                  .append("\",result=\"dropped\"} ")
                  .append(c[1].sum())
                  .append('\n');
            });
    head(
        out,
        "archway_plugin_log_queued",
        "gauge",
        "Entries of logger plugins waiting in their queues to be sent.");
    new TreeMap<>(loggers)
        .forEach(
            (plugin, c) ->
                out.append("archway_plugin_log_queued{plugin=\"")
                    .append(plugin)
                    .append("\"} ")
                    .append(c[2].sum())
                    .append('\n'));
  }
}
