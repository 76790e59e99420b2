package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.discovery.KubernetesDiscovery;
import io.archway.dataplane.flow.CompiledFlow;
import io.archway.dataplane.http.HttpMetrics;
import io.archway.dataplane.plugin.Consumers;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.Cidr;
import io.archway.dataplane.route.RouteEntry;
import io.archway.dataplane.route.Router;
import io.archway.dataplane.stream.CompiledStream;
import io.archway.dataplane.stream.StreamMetrics;
import io.archway.dataplane.stream.StreamRoutes;
import io.archway.dataplane.stream.SyslogSink;
import io.archway.dataplane.stream.SyslogSinks;
import io.archway.dataplane.stream.redis.RedisProtocol;
import io.archway.dataplane.tls.CertificateCompiler;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.GlobalRule;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.ModelJson;
import io.archway.model.PluginConfig;
import io.archway.model.PluginFlow;
import io.archway.model.Problem;
import io.archway.model.Route;
import io.archway.model.Service;
import io.archway.model.StreamRoute;
import io.archway.model.Upstream;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
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
  private final CertificateCompiler certificates;
  private ConfigSnapshot last;

  private final PluginRegistry registry;
  private final PluginServices services;
  // What was compiled from the last snapshot, kept while its items stay the same.
  private Map<String, ConfigItem> consumerItems;
  private Consumers consumers = Consumers.EMPTY;
  private Map<String, ConfigItem> globalItems;
  private PluginChain global = PluginChain.EMPTY;
  private Map<String, CachedFlow> flowCache = Map.of();
  private volatile Map<Kind, Integer> rejected = Map.of();

  /** A route's compiled entry, or why it is not served ({@code entry == null}). */
  private record Cached(
      ConfigItem route,
      ConfigItem service,
      ConfigItem pluginConfig,
      UpstreamRuntime inline,
      RouteEntry<CompiledRoute> entry) {}

  private record CachedFlow(ConfigItem item, CompiledFlow flow) {}

  public ConfigCompiler(
      Upstreams upstreams,
      HttpMetrics metrics,
      StreamMetrics streamMetrics,
      SyslogSinks sinks,
      KubernetesDiscovery discovery,
      CertificateCompiler certificates) {
    this(
        upstreams,
        metrics,
        streamMetrics,
        sinks,
        discovery,
        certificates,
        PluginRegistry.load(),
        new PluginServices());
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
      KubernetesDiscovery discovery,
      CertificateCompiler certificates,
      PluginRegistry registry,
      PluginServices services) {
    this.certificates = certificates;
    this.registry = registry;
    this.services = services;
    this.discovery = discovery;
    this.upstreams = upstreams;
    this.metrics = metrics;
    this.streamMetrics = streamMetrics;
    this.sinks = sinks;
  }

  public CompiledConfig current() {
    return current;
  }

  public PluginServices pluginServices() {
    return services;
  }

  /** Objects of each kind not served now because they did not compile (bad plugins, flows). */
  public Map<Kind, Integer> rejected() {
    return rejected;
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
    var inlineUpstreamPlugins = registry.withInlineUpstreams();
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
    var pluginConfigs = snapshot.items(Kind.PLUGIN_CONFIGS);
    routes.forEach(
        (id, item) -> {
          var r = (Route) item.value();
          if (r.upstream() != null) {
            wanted.put("routes/" + id, r.upstream());
          }
          var serviceItem = r.serviceId() == null ? null : services.get(r.serviceId());
          for (var p : inlineUpstreamPlugins) {
            var conf = plugin(p.name(), r, serviceItem, pluginConfigs);
            if (conf != null) {
              inlineUpstreams(p, "routes/" + id, conf, wanted);
            }
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
    clientCertificates(wanted, snapshot.items(Kind.SSLS));
    var runtimes = upstreams.update(discover(wanted));
    var rejectedNow = new java.util.EnumMap<Kind, Integer>(Kind.class);
    compileConsumers(snapshot.items(Kind.CONSUMERS), rejectedNow);
    compileGlobalRules(snapshot.items(Kind.GLOBAL_RULES), rejectedNow);
    var flows = compileFlows(snapshot.items(Kind.PLUGIN_FLOWS), rejectedNow);
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
      var pcItem =
          route.pluginConfigId() == null ? null : pluginConfigs.get(route.pluginConfigId());
      var before = cache.get(id);
      if (before != null
          && before.route == item
          && before.service == serviceItem
          && before.pluginConfig == pcItem
          && before.inline == inline) {
        nextCache.put(id, before);
        if (before.entry != null) {
          entries.add(before.entry);
        } else {
          rejectedNow.merge(Kind.ROUTES, 1, Integer::sum);
        }
        continue;
      }
      RouteEntry<CompiledRoute> entry = null;
      try {
        entry = compile(id, route, serviceItem, pcItem, pluginConfigs, inline);
        entries.add(entry);
      } catch (RuntimeException ex) {
        log.warn("routes/{}: not served: {}", id, ex.getMessage());
        rejectedNow.merge(Kind.ROUTES, 1, Integer::sum);
      }
      nextCache.put(id, new Cached(item, serviceItem, pcItem, inline, entry));
    }
    cache = nextCache;
    var streams = compileStreams(streamRoutes, services, runtimes);
    var badSsls = new int[1];
    var served = certificates.compile(snapshot.items(Kind.SSLS), badSsls);
    if (badSsls[0] > 0) {
      rejectedNow.put(Kind.SSLS, badSsls[0]);
    }
    rejected = rejectedNow;
    current =
        new CompiledConfig(
            Router.build(entries),
            streams,
            runtimes,
            global,
            consumers,
            flows,
            served,
            snapshot.revision());
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

  /**
   * Upstreams whose {@code tls.client_cert_id} names an {@code ssls} object get its certificate and
   * key inline, so the connection pools need nothing else.
   */
  private static void clientCertificates(
      Map<String, Upstream> wanted, Map<String, ConfigItem> ssls) {
    for (var e : wanted.entrySet()) {
      var tls = e.getValue().tls();
      if (tls == null || tls.clientCertId() == null) {
        continue;
      }
      var item = ssls.get(tls.clientCertId());
      if (item == null) {
        log.warn(
            "{}: tls.client_cert_id: ssls/{} not found; connecting without a client certificate",
            e.getKey(),
            tls.clientCertId());
        continue;
      }
      var ssl = (io.archway.model.Ssl) item.value();
      e.setValue(e.getValue().withTls(tls.withClientCertificate(ssl.cert(), ssl.key())));
    }
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

  /**
   * Where a route's plugins come from, by APISIX's precedence, lowest first: its service's, its
   * own, its plugin config's.
   */
  private static List<Map<String, ObjectNode>> pluginSources(
      Route route, ConfigItem serviceItem, Map<String, ConfigItem> pluginConfigs) {
    var service = serviceItem == null ? null : (Service) serviceItem.value();
    var pcItem = route.pluginConfigId() == null ? null : pluginConfigs.get(route.pluginConfigId());
    var out = new ArrayList<Map<String, ObjectNode>>(3);
    if (service != null && service.plugins() != null) {
      out.add(service.plugins());
    }
    if (route.plugins() != null) {
      out.add(route.plugins());
    }
    if (pcItem != null) {
      out.add(((PluginConfig) pcItem.value()).plugins());
    }
    return out;
  }

  /** The plugins a route runs: its sources merged, a later one's plugin replacing an earlier's. */
  private static Map<String, ObjectNode> plugins(
      Route route, ConfigItem serviceItem, Map<String, ConfigItem> pluginConfigs) {
    var sources = pluginSources(route, serviceItem, pluginConfigs);
    if (sources.isEmpty()) {
      return Map.of();
    }
    var out = new LinkedHashMap<String, ObjectNode>();
    sources.forEach(out::putAll);
    return out;
  }

  /** The configuration of one plugin the route runs, or {@code null}, without merging them all. */
  private static ObjectNode plugin(
      String name, Route route, ConfigItem serviceItem, Map<String, ConfigItem> pluginConfigs) {
    var sources = pluginSources(route, serviceItem, pluginConfigs);
    for (int i = sources.size() - 1; i >= 0; i--) {
      var conf = sources.get(i).get(name);
      if (conf != null) {
        return conf;
      }
    }
    return null;
  }

  /** A plugin's inline upstreams become upstreams of their own, under the keys it gives. */
  private static void inlineUpstreams(
      Plugin<?> plugin, String owner, ObjectNode conf, Map<String, Upstream> wanted) {
    plugin
        .inlineUpstreams(conf, owner)
        .forEach(
            (key, up) -> {
              try {
                wanted.put(key, (Upstream) ModelJson.read(Kind.UPSTREAMS, up, null, key));
              } catch (Exception ex) {
                log.warn("{}: not served: {}", key, ex.getMessage());
              }
            });
  }

  private void compileConsumers(Map<String, ConfigItem> items, Map<Kind, Integer> rejectedNow) {
    if (items == consumerItems) {
      rejectedNow.put(Kind.CONSUMERS, this.rejected.getOrDefault(Kind.CONSUMERS, 0));
      return;
    }
    consumerItems = items;
    var byName = new HashMap<String, Consumers.Entry>();
    var byCredential = new HashMap<String, Map<String, Consumers.Entry>>();
    int bad = 0;
    for (var name : new java.util.TreeSet<>(items.keySet())) {
      var c = (io.archway.model.Consumer) items.get(name).value();
      var credentials = new HashMap<String, ObjectNode>();
      var others = new LinkedHashMap<String, ObjectNode>();
      if (c.plugins() != null) {
        c.plugins()
            .forEach(
                (plugin, conf) -> {
                  if (registry.credentialField(plugin) != null) {
                    credentials.put(plugin, conf);
                  } else {
                    others.put(plugin, conf);
                  }
                });
      }
      var problems = new ArrayList<Problem>();
      var chain =
          registry.compile(
              others, new PluginScope("consumers/" + name, services), "plugins", problems);
      for (var e : credentials.entrySet()) {
        var field = registry.credentialField(e.getKey());
        var value = e.getValue().path(field);
        if (!value.isTextual() || value.textValue().isEmpty()) {
          problems.add(
              new Problem(
                  "plugins." + e.getKey() + "." + field, "missing (expected: a non-empty string)"));
        }
      }
      if (!problems.isEmpty()) {
        log.warn("consumers/{}: not used: {}", name, Messages.join(problems));
        bad++;
        continue;
      }
      var entry = new Consumers.Entry(name, Map.copyOf(credentials), chain);
      byName.put(name, entry);
      for (var e : credentials.entrySet()) {
        var value = e.getValue().get(registry.credentialField(e.getKey())).textValue();
        var other =
            byCredential
                .computeIfAbsent(e.getKey(), k -> new HashMap<>())
                .putIfAbsent(value, entry);
        if (other != null) {
          log.warn(
              "consumers/{}: plugins.{}: the same {} as consumer {} (expected: unique); not used",
              name,
              e.getKey(),
              registry.credentialField(e.getKey()),
              other.username());
        }
      }
    }
    consumers = new Consumers(Map.copyOf(byName), byCredential);
    rejectedNow.put(Kind.CONSUMERS, bad);
  }

  private void compileGlobalRules(Map<String, ConfigItem> items, Map<Kind, Integer> rejectedNow) {
    if (items == globalItems) {
      rejectedNow.put(Kind.GLOBAL_RULES, this.rejected.getOrDefault(Kind.GLOBAL_RULES, 0));
      return;
    }
    globalItems = items;
    var all = new ArrayList<PluginChain.Entry>();
    int bad = 0;
    for (var id : new java.util.TreeSet<>(items.keySet())) {
      var rule = (GlobalRule) items.get(id).value();
      var problems = new ArrayList<Problem>();
      var chain =
          registry.compile(
              rule.plugins(), new PluginScope("global_rules/" + id, services), "plugins", problems);
      if (!problems.isEmpty()) {
        log.warn("global_rules/{}: not run: {}", id, Messages.join(problems));
        bad++;
        continue;
      }
      all.addAll(chain.entries());
    }
    global = PluginChain.of(all);
    rejectedNow.put(Kind.GLOBAL_RULES, bad);
  }

  private Map<String, CompiledFlow> compileFlows(
      Map<String, ConfigItem> items, Map<Kind, Integer> rejectedNow) {
    var next = new HashMap<String, CachedFlow>();
    var out = new HashMap<String, CompiledFlow>();
    int bad = 0;
    for (var e : items.entrySet()) {
      var before = flowCache.get(e.getKey());
      CompiledFlow flow;
      if (before != null && before.item == e.getValue()) {
        flow = before.flow;
      } else {
        flow = compileFlow((PluginFlow) e.getValue().value(), "plugin_flows/" + e.getKey());
      }
      next.put(e.getKey(), new CachedFlow(e.getValue(), flow));
      if (flow != null) {
        out.put(e.getKey(), flow);
      } else {
        bad++;
      }
    }
    flowCache = next;
    rejectedNow.put(Kind.PLUGIN_FLOWS, bad);
    return Map.copyOf(out);
  }

  /** A flow compiled, or {@code null} with every problem logged by node. */
  private CompiledFlow compileFlow(PluginFlow flow, String owner) {
    var problems = new ArrayList<Problem>();
    var compiled = CompiledFlow.compile(flow, owner, registry, services, problems);
    if (compiled == null) {
      log.warn("{}: not run: {}", owner, Messages.join(problems));
    }
    return compiled;
  }

  private RouteEntry<CompiledRoute> compile(
      String id,
      Route route,
      ConfigItem serviceItem,
      ConfigItem pcItem,
      Map<String, ConfigItem> pluginConfigs,
      UpstreamRuntime inline) {
    var service = serviceItem == null ? null : (Service) serviceItem.value();
    if (route.pluginConfigId() != null && pcItem == null) {
      throw new IllegalArgumentException(
          "plugin_config_id: \""
              + route.pluginConfigId()
              + "\" (expected: an existing plugin config)");
    }
    var problems = new ArrayList<Problem>();
    var chain =
        registry.compile(
            plugins(route, serviceItem, pluginConfigs),
            new PluginScope("routes/" + id, services),
            "plugins",
            problems);
    CompiledFlow flow = null;
    if (route.pluginFlow() != null) {
      var inner = new ArrayList<Problem>();
      flow = CompiledFlow.compile(route.pluginFlow(), "routes/" + id, registry, services, inner);
      inner.forEach(p -> problems.add(new Problem("plugin_flow." + p.path(), p.message())));
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(Messages.join(problems));
    }
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
            metrics.route(id),
            chain,
            route.pluginFlowId(),
            flow);
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
