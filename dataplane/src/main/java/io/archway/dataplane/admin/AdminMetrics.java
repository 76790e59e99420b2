package io.archway.dataplane.admin;

import io.archway.dataplane.support.Prometheus;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** {@code archway_admin_requests_total{resource,method,status}}: every Admin API call, counted. */
public final class AdminMetrics {

  private record Labels(String resource, String method, int status) {}

  private final Map<Labels, LongAdder> requests = new ConcurrentHashMap<>();

  private static final java.util.Set<String> METHODS =
      java.util.Set.of("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS");

  /** Counts one answer; a method outside HTTP's usual ones is {@code other}, so labels stay few. */
  void count(String resource, String method, int status) {
    method = METHODS.contains(method) ? method : "other";
    requests
        .computeIfAbsent(new Labels(resource, method, status), l -> new LongAdder())
        .increment();
  }

  /** The resource a path names, bounded to the Admin API's directories (never an id). */
  static String resource(String path) {
    var rest = path.startsWith(AdminHandler.BASE) ? path.substring(AdminHandler.BASE.length()) : "";
    int slash = rest.indexOf('/');
    var dir = slash < 0 ? rest : rest.substring(0, slash);
    return dir.matches("[a-z_.]{1,32}") ? dir : "other";
  }

  /** Appends the counters in the Prometheus text format. */
  public void render(StringBuilder out) {
    Prometheus.head(
        out,
        "archway_admin_requests_total",
        "counter",
        "Admin API calls, by resource, method and status.");
    var sorted = new TreeMap<String, Long>();
    requests.forEach(
        (l, n) ->
            sorted.put(
                "{resource=\""
                    + Prometheus.escape(l.resource)
                    + "\",method=\""
                    + l.method
                    + "\",status=\""
                    + l.status
                    + "\"} ",
                n.sum()));
    sorted.forEach(
        (labels, n) ->
            out.append("archway_admin_requests_total").append(labels).append(n).append('\n'));
  }
}
