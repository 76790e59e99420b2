package io.archway.dataplane.config;

import io.archway.dataplane.discovery.KubernetesDiscovery;
import io.archway.dataplane.exchange.HttpRouteStats;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.RouteEntry;
import io.archway.dataplane.route.Router;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.dataplane.tls.CertificateCompiler;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Kind;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Compiles each {@link ConfigSnapshot} into a {@link CompiledConfig}, once per change, on the
 * config source's thread. Each kind has its compiler ({@link UpstreamCompiler}, {@link
 * RouteCompiler}, {@link ConsumerCompiler}, {@link GlobalRuleCompiler}, {@link FlowCompiler},
 * {@link StreamRouteCompiler}, {@link SslCompiler}); what they share is the resolution of what
 * objects refer to ({@link References}) and the count of what is left out ({@link Rejections}).
 * Work is incremental where it costs: a route whose item (and service) did not change keeps its
 * compiled entry (parsed vars, address ranges, resolved upstream), an unchanged upstream keeps its
 * runtime, and the router is updated ({@link Router#update}) with the entries that changed only,
 * sharing the rest of the previous router's index (measured in {@code bench/}: see {@code
 * bench/RESULTS.md}). The router is built from scratch on the first compile, or after a compile
 * that did not finish.
 */
public final class ConfigCompiler implements Consumer<ConfigSnapshot> {

  private final PluginServices services;
  private final PluginRegistry registry;
  private final UpstreamCompiler upstreams;
  private final ConsumerCompiler consumers;
  private final GlobalRuleCompiler globalRules;
  private final FlowCompiler flows;
  private final RouteCompiler routes;
  private final StreamRouteCompiler streamRoutes;
  private final SslCompiler ssls;
  private final ProtoCompiler protos;
  private final ListenerCompiler listeners = new ListenerCompiler();
  private volatile CompiledListeners.Settings listenerSettings;
  private final PluginNames pluginNames = new PluginNames();
  private final SecretStore secrets = new SecretStore();
  private final io.archway.dataplane.discovery.DnsDiscovery dns;
  private volatile CompiledConfig current = CompiledConfig.EMPTY;
  private volatile long lastCompileNanos;
  private volatile Map<Kind, Integer> rejected = Map.of();
  private volatile java.util.List<String> rejections = java.util.List.of();
  private ConfigSnapshot last;
  // Whether current's router no longer matches the route compiler's cache (a compile failed).
  private boolean rebuildRouter = true;

  /**
   * @param routeStats each HTTP route's counters, by route id (the same for an id while it is in
   *     the config; forgotten when it leaves it)
   */
  public ConfigCompiler(
      Upstreams upstreams,
      HttpRouteStats.Source routeStats,
      StreamMetrics streamMetrics,
      SyslogSinks sinks,
      KubernetesDiscovery discovery,
      CertificateCompiler certificates) {
    this(
        upstreams,
        routeStats,
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
      HttpRouteStats.Source routeStats,
      StreamMetrics streamMetrics,
      SyslogSinks sinks,
      KubernetesDiscovery discovery,
      CertificateCompiler certificates,
      PluginRegistry registry,
      PluginServices services) {
    this(
        upstreams,
        routeStats,
        streamMetrics,
        sinks,
        discovery,
        certificates,
        registry,
        services,
        io.archway.dataplane.discovery.DnsSettings.SYSTEM);
  }

  /**
   * @param dnsSettings how upstreams with {@code discovery_type: dns} are resolved
   */
  public ConfigCompiler(
      Upstreams upstreams,
      HttpRouteStats.Source routeStats,
      StreamMetrics streamMetrics,
      SyslogSinks sinks,
      KubernetesDiscovery discovery,
      CertificateCompiler certificates,
      PluginRegistry registry,
      PluginServices services,
      io.archway.dataplane.discovery.DnsSettings dnsSettings) {
    this.services = services;
    this.dns = new io.archway.dataplane.discovery.DnsDiscovery(dnsSettings, this::recompile);
    this.registry = registry;
    this.upstreams = new UpstreamCompiler(upstreams, discovery, dns, registry);
    this.consumers = new ConsumerCompiler(registry, services);
    this.globalRules = new GlobalRuleCompiler(registry, services);
    this.flows = new FlowCompiler(registry, services);
    this.routes = new RouteCompiler(registry, services, routeStats);
    this.streamRoutes = new StreamRouteCompiler(streamMetrics, sinks, services);
    this.ssls = new SslCompiler(certificates);
    this.protos = new ProtoCompiler();
    registry.secrets(secrets);
  }

  public CompiledConfig current() {
    return current;
  }

  /** Stops what the compiler started (DNS discovery's resolutions). */
  public void close() {
    dns.close();
  }

  public PluginServices pluginServices() {
    return services;
  }

  /** The plugins this compiler compiles with (its secret managers set). */
  public PluginRegistry registry() {
    return registry;
  }

  /** Objects of each kind not served now because they did not compile (bad plugins, flows). */
  public Map<Kind, Integer> rejected() {
    return rejected;
  }

  /**
   * Why objects were left out by the last compile, one line each ({@code routes/1: not served:
   * plugins.x: ...}); an object rejected before and unchanged since is not repeated.
   */
  public java.util.List<String> lastRejections() {
    return rejections;
  }

  /** How long the last compile took, in nanoseconds. */
  public long lastCompileNanos() {
    return lastCompileNanos;
  }

  /**
   * The ports the dataplane's options bind and whether it may bind privileged ports: until they are
   * given (once those ports are bound), no {@code listeners} object is compiled into a port.
   */
  public void listenerSettings(CompiledListeners.Settings settings) {
    this.listenerSettings = settings;
  }

  /** Compiles the last snapshot again: discovered endpoints changed. */
  public synchronized void recompile() {
    if (last != null) {
      // Upstream runtimes change under unchanged routes: every route is looked at.
      compile(last, null);
    }
  }

  /**
   * Upstreams first (routes resolve their runtimes), then what routes use at request time
   * (consumers, global rules, stored flows), the routes, the stream routes and the certificates.
   */
  @Override
  public synchronized void accept(ConfigSnapshot snapshot) {
    compile(snapshot, rebuildRouter ? null : snapshot.changesSince(last));
  }

  /**
   * @param changes the ids changed since the last compile, by kind, when known; only routes
   *     changed: the route compiler visits those only
   */
  private void compile(ConfigSnapshot snapshot, Map<Kind, Set<String>> changes) {
    long start = System.nanoTime();
    boolean rebuild = rebuildRouter;
    rebuildRouter = true;
    last = snapshot;
    var refs = new References(snapshot);
    var runtimes = upstreams.compile(snapshot, changes, refs);
    refs.runtimes(runtimes);
    var rejections = new Rejections();
    if (secrets.update(snapshot)) {
      // Plugins read their $secret:// references when they were compiled.
      routes.forget();
    }
    PluginMetadataApplier.apply(snapshot.items(Kind.PLUGIN_METADATA), registry, services);
    if (protos.compile(snapshot.items(Kind.PROTOS), rejections)) {
      // grpc-transcode looked its proto up when it was compiled: its routes compile again.
      services.protos(protos.compiled());
      routes.forget();
    }
    var consumers =
        this.consumers.compile(
            snapshot.items(Kind.CONSUMERS),
            snapshot.items(Kind.CREDENTIALS),
            snapshot.items(Kind.CONSUMER_GROUPS),
            rejections);
    var global = globalRules.compile(snapshot.items(Kind.GLOBAL_RULES), rejections);
    var flows = this.flows.compile(snapshot.items(Kind.PLUGIN_FLOWS), rejections);
    List<RouteEntry<CompiledRoute>> entries = null;
    if (changes != null && changes.keySet().equals(Set.of(Kind.ROUTES))) {
      routes.update(changes.get(Kind.ROUTES), snapshot.items(Kind.ROUTES), refs, rejections);
    } else {
      entries = routes.compile(snapshot.items(Kind.ROUTES), refs, rejections);
    }
    pluginNames.check(snapshot, changes, rejections);
    var streams = streamRoutes.compile(snapshot.items(Kind.STREAM_ROUTES), refs, rejections);
    var served = ssls.compile(snapshot.items(Kind.SSLS), rejections);
    var ports =
        listeners.compile(snapshot.items(Kind.LISTENERS), listenerSettings, served, rejections);
    rejected = rejections.counts();
    this.rejections = java.util.List.copyOf(rejections.messages());
    var router =
        entries != null && (rebuild || rebuildCheaper(entries.size()))
            ? Router.build(entries)
            : current.router().update(routes.removedEntries(), routes.changedEntries());
    routes.handedOver();
    current =
        new CompiledConfig(
            router,
            streams,
            runtimes,
            global,
            consumers,
            flows,
            served,
            ports,
            snapshot.revision());
    rebuildRouter = false;
    lastCompileNanos = System.nanoTime() - start;
  }

  /**
   * Whether building the router anew costs less than updating it: an update copies the trie nodes
   * on each changed path (and sorts each path's routes again), which at a whole new config (the
   * first load into the empty router, a full re-read) is many times a build's linear cost.
   */
  private boolean rebuildCheaper(int served) {
    return routes.changedEntries().size() + routes.removedEntries().size() > served / 4;
  }
}
