package io.archway.dataplane.config;

import io.archway.dataplane.discovery.KubernetesDiscovery;
import io.archway.dataplane.http.HttpMetrics;
import io.archway.dataplane.route.Cidr;
import io.archway.dataplane.route.RouteEntry;
import io.archway.dataplane.route.Router;
import io.archway.dataplane.stream.CompiledStream;
import io.archway.dataplane.stream.StreamMetrics;
import io.archway.dataplane.stream.StreamRoutes;
import io.archway.dataplane.stream.SyslogSink;
import io.archway.dataplane.stream.SyslogSinks;
import io.archway.dataplane.stream.redis.RedisProtocol;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Kind;
import io.archway.model.Route;
import io.archway.model.Service;
import io.archway.model.StreamRoute;
import io.archway.model.Upstream;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles each {@link ConfigSnapshot} into a {@link CompiledConfig}, once per change, on the
 * config source's thread. Work is incremental where it costs: a route whose item (and service) did
 * not change keeps its compiled entry (parsed vars, address ranges, resolved upstream), an
 * unchanged upstream keeps its runtime; only the router's index is rebuilt, which is linear and
 * cheap (measured in {@code bench/}: see {@code bench/RESULTS.md}).
 */
public final class ConfigCompiler implements Consumer<ConfigSnapshot> {

  private static final Logger log = LoggerFactory.getLogger(ConfigCompiler.class);

  private final Upstreams upstreams;
  private final HttpMetrics metrics;
  private final StreamMetrics streamMetrics;
  private final SyslogSinks sinks;
  private volatile CompiledConfig current = CompiledConfig.EMPTY;
  private Map<String, Cached> cache = Map.of();
  private volatile long lastCompileNanos;
  private final KubernetesDiscovery discovery;
  private ConfigSnapshot last;

  private record Cached(
      ConfigItem route,
      ConfigItem service,
      UpstreamRuntime inline,
      RouteEntry<CompiledRoute> entry) {}

  public ConfigCompiler(
      Upstreams upstreams, HttpMetrics metrics, StreamMetrics streamMetrics, SyslogSinks sinks) {
    this(upstreams, metrics, streamMetrics, sinks, null);
  }

  /**
   * @param discovery nodes for upstreams with {@code discovery_type: kubernetes}, or {@code null}
   *     when the dataplane has no Kubernetes access (those upstreams then have no nodes: 503)
   */
  public ConfigCompiler(
      Upstreams upstreams,
      HttpMetrics metrics,
      StreamMetrics streamMetrics,
      SyslogSinks sinks,
      KubernetesDiscovery discovery) {
    this.discovery = discovery;
    this.upstreams = upstreams;
    this.metrics = metrics;
    this.streamMetrics = streamMetrics;
    this.sinks = sinks;
  }

  public CompiledConfig current() {
    return current;
  }

  /** How long the last compile took, in nanoseconds. */
  public long lastCompileNanos() {
    return lastCompileNanos;
  }

  /** Compiles the last snapshot again: discovered endpoints changed. */
  public synchronized void recompile() {
    if (last != null) {
      accept(last);
    }
  }

  @Override
  public synchronized void accept(ConfigSnapshot snapshot) {
    long start = System.nanoTime();
    last = snapshot;
    var routes = snapshot.items(Kind.ROUTES);
    var services = snapshot.items(Kind.SERVICES);
    var wanted = new HashMap<String, Upstream>();
    snapshot
        .items(Kind.UPSTREAMS)
        .forEach((id, item) -> wanted.put("upstreams/" + id, (Upstream) item.value()));
    services.forEach(
        (id, item) -> {
          var s = (Service) item.value();
          if (s.upstream() != null) {
            wanted.put("services/" + id, s.upstream());
          }
        });
    routes.forEach(
        (id, item) -> {
          var r = (Route) item.value();
          if (r.upstream() != null) {
            wanted.put("routes/" + id, r.upstream());
          }
        });
    var streamRoutes = snapshot.items(Kind.STREAM_ROUTES);
    streamRoutes.forEach(
        (id, item) -> {
          var r = (StreamRoute) item.value();
          if (r.upstream() != null) {
            wanted.put("stream_routes/" + id, r.upstream());
          }
        });
    var runtimes = upstreams.update(discover(wanted));
    var nextCache = new HashMap<String, Cached>(routes.size() * 2);
    var entries = new ArrayList<RouteEntry<CompiledRoute>>(routes.size());
    for (var e : routes.entrySet()) {
      var id = e.getKey();
      var item = e.getValue();
      var route = (Route) item.value();
      if (!route.enabled()) {
        continue;
      }
      var serviceItem = route.serviceId() == null ? null : services.get(route.serviceId());
      var inline =
          inlineUpstream(
              "routes/" + id, route.upstream(), route.upstreamId(), route.serviceId(), runtimes);
      var before = cache.get(id);
      if (before != null
          && before.route == item
          && before.service == serviceItem
          && before.inline == inline) {
        nextCache.put(id, before);
        entries.add(before.entry);
        continue;
      }
      try {
        var entry = compile(id, route, serviceItem, inline);
        nextCache.put(id, new Cached(item, serviceItem, inline, entry));
        entries.add(entry);
      } catch (RuntimeException ex) {
        log.warn("routes/{}: not served: {}", id, ex.getMessage());
      }
    }
    cache = nextCache;
    var streams = compileStreams(streamRoutes, services, runtimes);
    current = new CompiledConfig(Router.build(entries), streams, runtimes, snapshot.revision());
    lastCompileNanos = System.nanoTime() - start;
  }

  /**
   * Upstreams with {@code discovery_type: kubernetes} get the nodes discovery has for their Service
   * now; discovery watches exactly the Services referenced.
   */
  private Map<String, Upstream> discover(Map<String, Upstream> wanted) {
    var services = new java.util.HashSet<String>();
    var subsets = new java.util.HashSet<String>();
    for (var e : wanted.entrySet()) {
      var up = e.getValue();
      if (KUBERNETES.equals(up.discoveryType()) && up.serviceName() != null) {
        services.add(up.serviceName());
        var labels = subsetLabels(up);
        int slash = up.serviceName().indexOf('/');
        if (!labels.isEmpty() && slash > 0) {
          subsets.add(KubernetesDiscovery.subsetKey(up.serviceName().substring(0, slash), labels));
        }
        var nodes =
            discovery == null
                ? List.<io.archway.model.UpstreamNode>of()
                : discovery.nodes(up.serviceName(), labels);
        e.setValue(up.withNodes(io.archway.model.UpstreamNodes.list(nodes)));
      }
    }
    if (discovery != null) {
      discovery.retain(services, subsets);
    }
    return wanted;
  }

  private static final String KUBERNETES = "kubernetes";

  /** {@code discovery_args.labels}: a subset, the Pods that carry these labels. */
  private static Map<String, String> subsetLabels(Upstream up) {
    var args = up.discoveryArgs();
    var labels = args == null ? null : args.get("labels");
    if (labels == null || !labels.isObject()) {
      return Map.of();
    }
    var out = new java.util.TreeMap<String, String>();
    labels.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }

  private StreamRoutes compileStreams(
      Map<String, ConfigItem> items,
      Map<String, ConfigItem> services,
      Map<String, UpstreamRuntime> runtimes) {
    var out = new ArrayList<CompiledStream>();
    var used = new HashSet<SyslogSink.Conf>();
    for (var e : items.entrySet()) {
      var id = e.getKey();
      var r = (StreamRoute) e.getValue().value();
      try {
        var inline =
            inlineUpstream(
                "stream_routes/" + id, r.upstream(), r.upstreamId(), r.serviceId(), runtimes);
        var serviceItem = r.serviceId() == null ? null : services.get(r.serviceId());
        var key = inline == null ? upstreamKey(r.upstreamId(), serviceItem) : null;
        RedisProtocol redis = null;
        if (r.protocol() != null) {
          if (!"redis".equals(r.protocol().name())) {
            throw new IllegalArgumentException(
                "protocol.name: \"" + r.protocol().name() + "\" (expected: redis)");
          }
          redis = RedisProtocol.compile(r.protocol(), sinks, used);
        }
        out.add(
            new CompiledStream(
                id,
                r,
                inline,
                key,
                r.serverPort(),
                r.remoteAddr() == null ? null : Cidr.parse(r.remoteAddr()),
                r.serverAddr() == null ? null : Cidr.parse(r.serverAddr()),
                redis,
                streamMetrics.route(id)));
      } catch (RuntimeException ex) {
        log.warn("stream_routes/{}: not served: {}", id, ex.getMessage());
        streamMetrics.error("route_rejected");
      }
    }
    sinks.retain(used);
    return StreamRoutes.of(out);
  }

  /**
   * The runtime of an inline upstream a route (HTTP or stream) sends to: its own (under {@code
   * ownKey}), else its service's when it names no {@code upstream_id}; {@code null} when it sends
   * to an upstream object.
   */
  private static UpstreamRuntime inlineUpstream(
      String ownKey,
      Upstream own,
      String upstreamId,
      String serviceId,
      Map<String, UpstreamRuntime> runtimes) {
    if (own != null) {
      return runtimes.get(ownKey);
    }
    if (upstreamId == null && serviceId != null) {
      return runtimes.get("services/" + serviceId);
    }
    return null;
  }

  /** The key of the upstream object a route without an inline upstream sends to, or null. */
  private static String upstreamKey(String upstreamId, ConfigItem serviceItem) {
    var service = serviceItem == null ? null : (Service) serviceItem.value();
    var id = upstreamId != null ? upstreamId : service == null ? null : service.upstreamId();
    return id == null ? null : "upstreams/" + id;
  }

  private RouteEntry<CompiledRoute> compile(
      String id, Route route, ConfigItem serviceItem, UpstreamRuntime inline) {
    var service = serviceItem == null ? null : (Service) serviceItem.value();
    var upstreamKey = inline == null ? upstreamKey(route.upstreamId(), serviceItem) : null;
    boolean websocket =
        route.enableWebsocket() != null
            ? route.enableWebsocket()
            : service != null && Boolean.TRUE.equals(service.enableWebsocket());
    var t = route.timeout();
    var target =
        new CompiledRoute(
            id,
            route,
            inline,
            upstreamKey,
            websocket,
            millis(t == null ? null : t.connect()),
            millis(t == null ? null : t.send()),
            millis(t == null ? null : t.read()),
            metrics.route(id));
    List<String> hosts =
        route.host() != null
            ? List.of(route.host())
            : route.hosts() != null
                ? route.hosts()
                : service != null && service.hosts() != null ? service.hosts() : List.of();
    return new RouteEntry<>(id, route, hosts, target);
  }

  private static long millis(Double seconds) {
    return seconds == null ? -1 : (long) (seconds * 1000);
  }
}
