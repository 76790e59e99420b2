package io.archway.dataplane.server;

import io.archway.dataplane.admin.AdminMetrics;
import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.config.ConfigHolder;
import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.config.xds.XdsConfigSource;
import io.archway.dataplane.discovery.KubernetesDiscovery;
import io.archway.dataplane.exchange.HttpMetrics;
import io.archway.dataplane.pipeline.InFlight;
import io.archway.dataplane.plugin.PluginMetrics;
import io.archway.dataplane.pubsub.PubSubMetrics;
import io.archway.dataplane.support.Prometheus;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.dataplane.tls.TlsMetrics;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Kind;
import io.archway.model.source.ConfigSource;
import java.util.function.Supplier;

/** Renders {@code /metrics} in the Prometheus text format (version 0.0.4). */
final class Metrics {

  private final ConfigHolder config;
  private final ConfigSource source;
  private final InFlight inFlight;
  private final HttpMetrics http;
  private final StreamMetrics stream;
  private final SyslogSinks sinks;
  private final Upstreams upstreams;
  private final ConfigCompiler compiler;
  private final PubSubMetrics pubsub;
  private final TlsMetrics tls;
  private final AdminMetrics admin;

  Metrics(
      ConfigHolder config,
      ConfigSource source,
      InFlight inFlight,
      HttpMetrics http,
      StreamMetrics stream,
      SyslogSinks sinks,
      Upstreams upstreams,
      ConfigCompiler compiler,
      PubSubMetrics pubsub,
      TlsMetrics tls,
      AdminMetrics admin,
      Supplier<KubernetesDiscovery.Status> discovery) {
    this.admin = admin;
    this.pubsub = pubsub;
    this.tls = tls;
    this.discovery = discovery;
    this.config = config;
    this.http = http;
    this.stream = stream;
    this.sinks = sinks;
    this.upstreams = upstreams;
    this.compiler = compiler;
    this.source = source;
    this.inFlight = inFlight;
  }

  private final Supplier<KubernetesDiscovery.Status> discovery;
  private volatile ConfiguredListeners listeners;

  private volatile Overload overload;

  /** The overload state, once the listeners are started. */
  void overload(Overload overload) {
    this.overload = overload;
  }

  /** Whether the dataplane sheds new work (memory past its high-water mark). */
  boolean overloaded() {
    var o = overload;
    return o != null && o.shedding();
  }

  /** The ports from listeners objects, once they are opened. */
  void listeners(ConfiguredListeners listeners) {
    this.listeners = listeners;
  }

  String render() {
    var out = new StringBuilder(2048);
    var status = source.status();
    var snapshot = config.current();
    gauge(
        out,
        "archway_config_source_connected",
        "Whether the config source answers (1) or not (0).");
    out.append("archway_config_source_connected ").append(status.connected() ? 1 : 0).append('\n');
    gauge(out, "archway_config_loaded", "Whether a first full config has been loaded.");
    out.append("archway_config_loaded ").append(config.loaded() ? 1 : 0).append('\n');
    gauge(out, "archway_config_revision", "Revision of the config in force.");
    out.append("archway_config_revision ").append(snapshot.revision()).append('\n');
    gauge(out, "archway_config_items", "Valid config items in force, by kind.");
    for (var kind : Kind.values()) {
      out.append("archway_config_items{kind=\"")
          .append(kind.dir())
          .append("\"} ")
          .append(snapshot.count(kind))
          .append('\n');
    }
    gauge(
        out, "archway_config_items_invalid", "Config items skipped now because they are invalid.");
    out.append("archway_config_items_invalid ").append(status.invalid().size()).append('\n');
    counter(
        out,
        "archway_config_items_rejected_total",
        "Config items rejected since start, each version once.");
    out.append("archway_config_items_rejected_total ").append(status.rejectedTotal()).append('\n');
    counter(
        out,
        "archway_config_full_loads_total",
        "Full reads of the config (start, compaction, restore, reload).");
    out.append("archway_config_full_loads_total ").append(status.fullLoads()).append('\n');
    gauge(out, "archway_http_requests_in_flight", "HTTP requests being served.");
    out.append("archway_http_requests_in_flight ").append(inFlight.active()).append('\n');
    counter(out, "archway_http_responses_total", "HTTP responses sent, by status class.");
    for (int c = 1; c <= 5; c++) {
      out.append("archway_http_responses_total{code=\"")
          .append(c)
          .append("xx\"} ")
          .append(inFlight.answered(c))
          .append('\n');
    }
    gauge(out, "archway_config_compile_seconds", "Time the last config compile took.");
    out.append("archway_config_compile_seconds ")
        .append(compiler.lastCompileNanos() / 1e9)
        .append('\n');
    gauge(
        out,
        "archway_config_objects_rejected",
        "Objects not served now because their plugins or flow do not compile, by kind.");
    compiler
        .rejected()
        .forEach(
            (kind, n) ->
                out.append("archway_config_objects_rejected{kind=\"")
                    .append(kind.dir())
                    .append("\"} ")
                    .append(n)
                    .append('\n'));
    var ports = listeners;
    if (ports != null) {
      gauge(
          out,
          "archway_listener_ports",
          "Ports bound for listeners objects, by port bound, declared port (server_port) and transport.");
      ports
          .ports()
          .forEach(
              (bound, declared) ->
                  out.append("archway_listener_ports{port=\"")
                      .append(bound.port())
                      .append("\",server_port=\"")
                      .append(declared)
                      .append("\",transport=\"")
                      .append(bound.transport())
                      .append("\"} 1\n"));
      gauge(
          out,
          "archway_listener_bind_failed",
          "Ports of listeners objects that could not be bound at the last try (in use, say).");
      ports
          .failed()
          .forEach(
              (socket, why) ->
                  out.append("archway_listener_bind_failed{port=\"")
                      .append(socket.port())
                      .append("\",transport=\"")
                      .append(socket.transport())
                      .append("\"} 1\n"));
    }
    if (source instanceof XdsConfigSource xds) {
      xds.metrics().render(out);
    }
    http.render(out);
    var o = overload;
    if (o != null) {
      o.render(out);
    }
    long answered = 0;
    for (int c = 1; c <= 5; c++) {
      answered += inFlight.answered(c);
    }
    compiler
        .pluginServices()
        .metrics()
        .render(
            out,
            new PluginMetrics.Gateway(
                answered + inFlight.active(),
                http.openConnections(),
                status.connected(),
                snapshot.revision(),
                upstreams.checked()));
    io.archway.dataplane.flow.FlowStats.of(compiler.pluginServices()).render(out);
    stream.render(out);
    pubsub.render(out);
    tls.render(out);
    admin.render(out);
    var lines = sinks.totals();
    Prometheus.head(
        out, "archway_syslog_lines_total", "counter", "Log lines to syslog, sent or dropped.");
    out.append("archway_syslog_lines_total{result=\"sent\"} ").append(lines[0]).append('\n');
    out.append("archway_syslog_lines_total{result=\"dropped\"} ").append(lines[1]).append('\n');
    gauge(out, "archway_transport_info", "The network transport in use (io_uring, epoll, nio).");
    out.append("archway_transport_info{transport=\"")
        .append(upstreams.transport().label())
        .append("\"} 1\n");
    gauge(out, "archway_upstream_connections", "Connections open to upstream nodes.");
    out.append("archway_upstream_connections ").append(upstreams.pools().open()).append('\n');
    gauge(
        out, "archway_upstream_node_healthy", "Health of nodes of checked upstreams (1 healthy).");
    for (var up : upstreams.checked()) {
      for (var n : up.nodes()) {
        out.append("archway_upstream_node_healthy{upstream=\"")
            .append(up.key())
            .append("\",node=\"")
            .append(n.address())
            .append("\"} ")
            .append(n.healthy() ? 1 : 0)
            .append('\n');
      }
    }
    var d = discovery.get();
    gauge(out, "archway_discovery_services", "Kubernetes Services watched for upstream nodes.");
    out.append("archway_discovery_services ").append(d.services()).append('\n');
    gauge(
        out,
        "archway_discovery_services_watching",
        "Watched Services whose watches are up (fewer: the API server is not answering; the last"
            + " endpoints stay in force).");
    out.append("archway_discovery_services_watching ").append(d.watching()).append('\n');
    return out.toString();
  }

  private static void gauge(StringBuilder out, String name, String help) {
    Prometheus.head(out, name, "gauge", help);
  }

  private static void counter(StringBuilder out, String name, String help) {
    Prometheus.head(out, name, "counter", help);
  }
}
