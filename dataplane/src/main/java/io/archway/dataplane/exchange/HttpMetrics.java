package io.archway.dataplane.exchange;

import static io.archway.dataplane.support.Prometheus.escape;
import static io.archway.dataplane.support.Prometheus.head;

import io.archway.dataplane.support.Histogram;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * HTTP traffic counters for {@code /metrics}: requests by route and status, latency histograms of
 * whole requests and of the upstream part, bytes each way, open connections, errors by cause. All
 * lock-free adders, written on the event loops and read when scraped.
 */
public final class HttpMetrics implements HttpRouteStats.Source {

  private final Map<String, HttpRouteStats> routes = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final AtomicLong connections = new AtomicLong();
  private final LongAdder connectionsTotal = new LongAdder();

  /**
   * The counters of one route, the same for an id from one compile to the next; {@code ""} for
   * requests no route matched.
   */
  @Override
  public HttpRouteStats route(String id) {
    return routes.computeIfAbsent(id, HttpRouteStats::new);
  }

  /**
   * Drops the counters of a route deleted from the config, so ids that come and go do not pile up;
   * the requests counted under no route ({@code ""}) stay.
   */
  @Override
  public void forget(String id) {
    if (!id.isEmpty()) {
      routes.remove(id);
    }
  }

  public void connectionOpened() {
    connections.incrementAndGet();
    connectionsTotal.increment();
  }

  public void connectionClosed() {
    connections.decrementAndGet();
  }

  /** An error answered or suffered, by cause: {@code upstream_timeout}, {@code bad_request}, ... */
  public void error(String cause) {
    errors.computeIfAbsent(cause, c -> new LongAdder()).increment();
  }

  public long errors(String cause) {
    var a = errors.get(cause);
    return a == null ? 0 : a.sum();
  }

  /** Client connections accepted since start. */
  public long connectionsAccepted() {
    return connectionsTotal.sum();
  }

  public long openConnections() {
    return connections.get();
  }

  /** Appends the HTTP metrics in the Prometheus text format. */
  public void render(StringBuilder out) {
    head(out, "archway_http_connections", "gauge", "Client connections open now.");
    out.append("archway_http_connections ").append(connections.get()).append('\n');
    head(out, "archway_http_connections_total", "counter", "Client connections accepted.");
    out.append("archway_http_connections_total ").append(connectionsTotal.sum()).append('\n');
    head(
        out,
        "archway_http_requests_total",
        "counter",
        "HTTP requests answered, by route and status.");
    var sorted = new java.util.TreeMap<>(routes);
    sorted.forEach(
        (id, s) ->
            s.statuses()
                .forEach(
                    (code, n) ->
                        out.append("archway_http_requests_total{route=\"")
                            .append(escape(id))
                            .append("\",code=\"")
                            .append(code)
                            .append("\"} ")
                            .append(n)
                            .append('\n')));
    head(
        out, "archway_http_request_duration_seconds", "histogram", "Whole request time, by route.");
    sorted.forEach(
        (id, s) -> histogram(out, "archway_http_request_duration_seconds", id, s.latency));
    head(
        out,
        "archway_http_upstream_duration_seconds",
        "histogram",
        "Time from sending to the upstream to its last byte, by route.");
    sorted.forEach(
        (id, s) -> histogram(out, "archway_http_upstream_duration_seconds", id, s.upstreamLatency));
    head(out, "archway_http_received_bytes_total", "counter", "Request body bytes, by route.");
    sorted.forEach((id, s) -> line(out, "archway_http_received_bytes_total", id, s.bytesIn.sum()));
    head(out, "archway_http_sent_bytes_total", "counter", "Response body bytes, by route.");
    sorted.forEach((id, s) -> line(out, "archway_http_sent_bytes_total", id, s.bytesOut.sum()));
    head(out, "archway_http_errors_total", "counter", "Errors by cause.");
    new java.util.TreeMap<>(errors)
        .forEach(
            (cause, n) ->
                out.append("archway_http_errors_total{cause=\"")
                    .append(cause)
                    .append("\"} ")
                    .append(n.sum())
                    .append('\n'));
  }

  private static void line(StringBuilder out, String name, String route, long v) {
    out.append(name)
        .append("{route=\"")
        .append(escape(route))
        .append("\"} ")
        .append(v)
        .append('\n');
  }

  private static void histogram(StringBuilder out, String name, String route, Histogram h) {
    h.render(out, name, "route=\"" + escape(route) + "\"");
  }
}
