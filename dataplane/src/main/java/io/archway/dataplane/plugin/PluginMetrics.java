package io.archway.dataplane.plugin;

import static io.archway.dataplane.support.Prometheus.escape;
import static io.archway.dataplane.support.Prometheus.head;

import io.archway.dataplane.support.Histogram;
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

  /** One request seen by the prometheus plugin. */
  public void request(String route, String consumer, int code, long nanos, long in, long out) {
    status
        .computeIfAbsent(
            new StatusKey(route, consumer == null ? "" : consumer, code), k -> new LongAdder())
        .increment();
    latency.computeIfAbsent(route, k -> new Histogram()).observe(nanos);
    var bw =
        bandwidth.computeIfAbsent(route, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
    bw[0].add(in);
    bw[1].add(out);
  }

  /** Log entries of one logger plugin: {@code sent}, {@code dropped} (queue full or give up). */
  public LongAdder[] logger(String plugin) {
    return loggers.computeIfAbsent(plugin, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
  }

  public long loggerDropped(String plugin) {
    return logger(plugin)[1].sum();
  }

  public long loggerSent(String plugin) {
    return logger(plugin)[0].sum();
  }

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
  }
}
