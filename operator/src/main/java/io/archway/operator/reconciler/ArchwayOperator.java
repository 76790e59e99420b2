package io.archway.operator.reconciler;

import io.archway.model.sink.EtcdConfigSink;
import io.archway.operator.etcd.EtcdWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The operator: shared caches, the etcd writer and one controller per kind, started under leader
 * election when it is configured (replicas wait; only the leader reconciles and writes).
 */
public final class ArchwayOperator implements AutoCloseable {

  /**
   * How it runs.
   *
   * @param namespaces the namespaces watched; empty for all
   * @param leaseName the Lease for leader election, or {@code null} to run without it
   * @param leaseNamespace the Lease's namespace
   * @param identity this replica's name in the Lease
   * @param leaseDuration how long a lost leader keeps the Lease (failover time)
   * @param controlPlaneDiscovery whether the operator writes Services' endpoints as nodes
   */
  public record Settings(
      java.util.Set<String> namespaces,
      String ingressClass,
      String publishService,
      String leaseName,
      String leaseNamespace,
      String identity,
      Duration leaseDuration,
      io.archway.operator.translate.Refs.ControlPlaneDiscovery controlPlaneDiscovery) {}

  private final Caches caches;
  private final Operator operator;
  private final OperatorMetrics metrics = new OperatorMetrics();
  private final EtcdWriter writer;
  private final GatewayApiCrds gatewayApi;
  private volatile boolean leader;
  private volatile Runnable onLostLeadership = () -> {};
  private final List<Runnable> fences = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile Runnable onLeading = () -> {};
  private final boolean elected;

  /** With the chart's dataplane selector and no privileged ports. */
  public ArchwayOperator(KubernetesClient client, EtcdConfigSink sink, Settings s) {
    this(client, sink, s, io.archway.operator.translate.GatewayServiceTranslator.Dataplane.DEFAULT);
  }

  /**
   * @param dataplane the dataplane pods' selector and port mapping, for the Services Archway keeps
   *     per Gateway (GatewayParameters with a {@code service})
   */
  public ArchwayOperator(
      KubernetesClient client,
      EtcdConfigSink sink,
      Settings s,
      io.archway.operator.translate.GatewayServiceTranslator.Dataplane dataplane) {
    this(client, sink, s, dataplane, io.archway.operator.registry.Registries.none());
  }

  /**
   * @param registries the registries whose nodes the operator writes for ApisixUpstreams with a
   *     {@code discovery} of their type (ZooKeeper, DNS); the caller closes them after the operator
   */
  public ArchwayOperator(
      KubernetesClient client,
      EtcdConfigSink sink,
      Settings s,
      io.archway.operator.translate.GatewayServiceTranslator.Dataplane dataplane,
      io.archway.operator.registry.Registries registries) {
    caches = new Caches(client, s.namespaces(), s.publishService(), s.controlPlaneDiscovery());
    caches.registries(registries);
    registries.metrics(metrics.registryMetrics());
    // Gateway API: only the kinds whose CRDs are installed are watched.
    gatewayApi = GatewayApiCrds.detect(client);
    if (gatewayApi.has("ReferenceGrant", "v1beta1")) {
      caches.watchReferenceGrants(client, s.namespaces());
    }
    writer = new EtcdWriter(sink, () -> existing(client, s.namespaces(), gatewayApi));
    var ctx =
        new OperatorContext(client, writer, caches, metrics, s.ingressClass(), s.publishService());
    operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withMetrics(metrics)
                  .withUseSSAToPatchPrimaryResource(false)
                  .withCloseClientOnStop(false)
                  .withConcurrentReconciliationThreads(64);
              if (s.leaseName() != null) {
                var d = s.leaseDuration();
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        s.leaseName(),
                        s.leaseNamespace(),
                        d,
                        d.multipliedBy(2).dividedBy(3),
                        d.dividedBy(5),
                        s.identity(),
                        new io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks(
                            this::startedLeading, this::stoppedLeading, id -> {}),
                        false));
              }
            });
    var primaries = new ArrayList<Dependents.Primaries>();
    register(new ApisixRouteReconciler(ctx), "ApisixRoute", primaries, s);
    register(new IngressReconciler(ctx), "Ingress", primaries, s);
    register(new StreamRouteReconciler(ctx), "StreamRoute", primaries, s);
    register(new PluginFlowReconciler(ctx), "PluginFlow", primaries, s);
    register(new ApisixUpstreamReconciler(ctx), "ApisixUpstream", primaries, s);
    register(new ApisixTlsReconciler(ctx), "ApisixTls", primaries, s);
    register(new ApisixConsumerReconciler(ctx), "ApisixConsumer", primaries, s);
    register(new ApisixPluginConfigReconciler(ctx), "ApisixPluginConfig", primaries, s);
    register(new ApisixGlobalRuleReconciler(ctx), "ApisixGlobalRule", primaries, s);
    register(new ApisixClusterConfigReconciler(ctx), "ApisixClusterConfig", primaries, s);
    // The APISIX Ingress Controller 2.x kinds (apisix.apache.org/v1alpha1).
    register(new PluginConfigReconciler(ctx), "PluginConfig", primaries, s);
    register(new ConsumerReconciler(ctx), "Consumer", primaries, s);
    register(new GatewayProxyReconciler(ctx), "GatewayProxy", primaries, s);
    register(new BackendTrafficPolicyReconciler(ctx), "BackendTrafficPolicy", primaries, s);
    register(new HTTPRoutePolicyReconciler(ctx), "HTTPRoutePolicy", primaries, s);
    register(new L4RoutePolicyReconciler(ctx), "L4RoutePolicy", primaries, s);
    GatewayReconciler gateways = null;
    if (gatewayApi.has("Gateway", "v1")) {
      gateways = new GatewayReconciler(ctx, new GatewayServices(ctx, dataplane));
      register(gateways, "Gateway", primaries, s);
      var gatewayDependents = new GatewayDependents(ctx, gateways);
      caches.onChange(gatewayDependents::changed);
    }
    // The Gateway API route kinds, each only when its CRD is installed.
    var routeKinds = new ArrayList<GatewayRouteReconciler<?>>();
    if (gatewayApi.has("HTTPRoute", "v1")) {
      routeKinds.add(new HTTPRouteReconciler(ctx));
    }
    if (gatewayApi.has("GRPCRoute", "v1")) {
      routeKinds.add(new GRPCRouteReconciler(ctx));
    }
    if (gatewayApi.has("TLSRoute", "v1alpha2")) {
      routeKinds.add(new TLSRouteReconciler(ctx));
    }
    if (gatewayApi.has("TCPRoute", "v1alpha2")) {
      routeKinds.add(new TCPRouteReconciler(ctx));
    }
    if (gatewayApi.has("UDPRoute", "v1alpha2")) {
      routeKinds.add(new UDPRouteReconciler(ctx));
    }
    if (!routeKinds.isEmpty()) {
      // A listener's namespace selector matches Namespace labels: watched only for routes.
      caches.watchNamespaces(client);
    }
    var routeDependents = new ArrayList<RouteDependents>();
    for (var routes : routeKinds) {
      registerRoutes(routes, primaries, s);
      var d = new RouteDependents(routes);
      routeDependents.add(d);
      caches.onChange(d::changed);
      if (gateways != null) {
        var g = gateways;
        routes.onGatewayChanged(
            key -> {
              int slash = key.indexOf('/');
              var ns = key.substring(0, slash);
              var name = key.substring(slash + 1);
              g.trigger.fire(
                  new io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayBuilder()
                      .withNewMetadata()
                      .withNamespace(ns)
                      .withName(name)
                      .endMetadata()
                      .build());
            });
      }
    }
    if (gateways != null) {
      gateways.routes(routeKinds);
      gateways.onChanged(key -> routeDependents.forEach(d -> d.gatewayChanged(key)));
    }
    if (gatewayApi.has("GatewayClass", "v1")) {
      var g = gateways;
      Runnable gatewaysChanged = g == null ? () -> {} : () -> g.all().forEach(g.trigger::fire);
      register(
          new GatewayClassReconciler(ctx, gatewayApi.bundleVersion(), gatewaysChanged),
          "GatewayClass",
          primaries,
          s);
    }
    var dependents = new Dependents(ctx, primaries);
    // A registry service no ApisixUpstream names any more is no longer followed. The claim comes
    // before the reconciles a change fires, so no other user of the registries (the seed) stops a
    // service between a translation's lookup and this claim.
    caches.onChange(
        x -> {
          if (x instanceof io.archway.crds.apisix.ApisixUpstream) {
            registries.retain(caches.registryServices());
          }
        });
    caches.onChange(dependents::changed);
    registries.onChange(dependents::registryChanged);
    elected = s.leaseName() != null;
    if (!elected) {
      leader = true;
    }
    metrics.gauge("archway_operator_leader", () -> leader ? 1 : 0);
    metrics.gauge("archway_operator_reconciles_in_progress", metrics::inProgress);
    metrics.gauge("archway_operator_etcd_puts_total", writer::puts);
    metrics.gauge("archway_operator_etcd_deletes_total", writer::deletes);
  }

  private <R extends io.fabric8.kubernetes.api.model.HasMetadata> void register(
      ResourceReconciler<R> reconciler,
      String kind,
      List<Dependents.Primaries> primaries,
      Settings s) {
    Consumer<ControllerConfigurationOverrider<R>> config =
        o -> {
          // A cluster-scoped kind (ApisixClusterConfig) is watched whatever the namespaces.
          if (!s.namespaces().isEmpty() && !CLUSTER_SCOPED.contains(kind)) {
            o.settingNamespaces(s.namespaces());
          }
          o.withGenericFilter(reconciler::accepts);
          // etcd outages are retried for as long as they last, at most every 30 s.
          o.withRetry(
              new GenericRetry()
                  .setInitialInterval(500)
                  .setIntervalMultiplier(2)
                  .setMaxInterval(30_000)
                  .withoutMaxAttempts());
        };
    operator.register(reconciler, config);
    caches.primaries(kind, reconciler::all, reconciler.trigger::isRunning);
    primaries.add(new Dependents.Primaries(reconciler::all, reconciler.trigger));
  }

  private <R extends io.fabric8.kubernetes.api.model.HasMetadata> void registerRoutes(
      GatewayRouteReconciler<R> routes, List<Dependents.Primaries> primaries, Settings s) {
    register(routes, routes.kind(), primaries, s);
  }

  private static final java.util.Set<String> CLUSTER_SCOPED =
      java.util.Set.of("ApisixClusterConfig", "GatewayClass");

  /**
   * Which owners of etcd keys exist, asked of the API server itself (not of caches that may not
   * have synced yet): a key is removed as an orphan only when its resource is really gone.
   */
  private static java.util.function.Predicate<io.archway.model.sink.Owner> existing(
      KubernetesClient client, java.util.Set<String> namespaces, GatewayApiCrds gatewayApi) {
    var names = new java.util.HashSet<String>();
    var types = new ArrayList<Class<? extends io.fabric8.kubernetes.api.model.HasMetadata>>();
    if (gatewayApi.has("Gateway", "v1")) {
      types.add(io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway.class);
    }
    if (gatewayApi.has("HTTPRoute", "v1")) {
      types.add(io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute.class);
    }
    if (gatewayApi.has("GRPCRoute", "v1")) {
      types.add(io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute.class);
    }
    if (gatewayApi.has("TLSRoute", "v1alpha2")) {
      types.add(io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRoute.class);
    }
    if (gatewayApi.has("TCPRoute", "v1alpha2")) {
      types.add(io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRoute.class);
    }
    if (gatewayApi.has("UDPRoute", "v1alpha2")) {
      types.add(io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRoute.class);
    }
    for (var type :
        List.<Class<? extends io.fabric8.kubernetes.api.model.HasMetadata>>of(
            io.archway.crds.apisix.ApisixRoute.class,
            io.archway.crds.apisix.ApisixUpstream.class,
            io.archway.crds.archway.StreamRoute.class,
            io.archway.crds.archway.PluginFlow.class,
            io.archway.crds.apisix.ApisixTls.class,
            io.archway.crds.apisix.ApisixConsumer.class,
            io.archway.crds.apisix.ApisixPluginConfig.class,
            io.archway.crds.apisix.ApisixGlobalRule.class,
            io.archway.crds.apisix.ApisixClusterConfig.class,
            io.archway.crds.apisix.v1alpha1.PluginConfig.class,
            io.archway.crds.apisix.v1alpha1.Consumer.class,
            io.archway.crds.apisix.v1alpha1.GatewayProxy.class,
            io.fabric8.kubernetes.api.model.networking.v1.Ingress.class)) {
      types.add(type);
    }
    for (var type : types) {
      var op = client.resources(type);
      var clusterScoped = type == io.archway.crds.apisix.ApisixClusterConfig.class;
      var lists =
          namespaces.isEmpty() || clusterScoped
              ? List.of(op.inAnyNamespace().list())
              : namespaces.stream().map(ns -> op.inNamespace(ns).list()).toList();
      for (var list : lists) {
        for (var r : list.getItems()) {
          // A cluster-scoped owner's namespace is written as _cluster (ResourceReconciler.owner).
          var ns =
              r.getMetadata().getNamespace() == null ? "_cluster" : r.getMetadata().getNamespace();
          names.add(r.getKind() + "/" + ns + "/" + r.getMetadata().getName());
        }
      }
    }
    // Keys of kinds this operator does not write, or of namespaces it does not watch, are not
    // its to judge.
    var kinds = new java.util.HashSet<String>();
    if (gatewayApi.has("Gateway", "v1")) {
      kinds.add("Gateway");
    }
    if (gatewayApi.has("HTTPRoute", "v1")) {
      kinds.add("HTTPRoute");
    }
    if (gatewayApi.has("GRPCRoute", "v1")) {
      kinds.add("GRPCRoute");
    }
    for (var l4 : List.of("TLSRoute", "TCPRoute", "UDPRoute")) {
      if (gatewayApi.has(l4, "v1alpha2")) {
        kinds.add(l4);
      }
    }
    java.util.Collections.addAll(
        kinds,
        "ApisixRoute",
        "ApisixUpstream",
        "StreamRoute",
        "PluginFlow",
        "ApisixTls",
        "ApisixConsumer",
        "ApisixPluginConfig",
        "ApisixGlobalRule",
        "ApisixClusterConfig",
        "PluginConfig",
        "Consumer",
        "GatewayProxy",
        "Ingress");
    return owner ->
        !kinds.contains(owner.kind())
            || (!namespaces.isEmpty()
                && !namespaces.contains(owner.namespace())
                && !CLUSTER_SCOPED.contains(owner.kind()))
            || names.contains(owner.kind() + "/" + owner.namespace() + "/" + owner.name());
  }

  /**
   * The Lease was lost (not renewed in time: the API server unreachable, a long pause). The
   * framework would go on reconciling next to the new leader, so every writer is fenced first (no
   * etcd write from here on, not even by reconciles in flight): the leader-only ones ({@link
   * #fenceOnLoss}, the seed), then the reconcilers'; then {@link #onLostLeadership} runs: the
   * command exits, so that the replica restarts and waits as a follower.
   */
  private void stoppedLeading() {
    fences.forEach(Runnable::run);
    writer.fence();
    leader = false;
    onLostLeadership.run();
  }

  private void startedLeading() {
    leader = true;
    onLeading.run();
  }

  /**
   * What to do once this replica leads (at {@link #start} without leader election): start what only
   * the leader runs, such as the seed.
   */
  public void onLeading(Runnable r) {
    onLeading = r;
  }

  /**
   * How to stop, at once and before anything else, the etcd writes of what {@link #onLeading}
   * started (the seed's {@code fence}) when the Lease is lost.
   */
  public void fenceOnLoss(Runnable fence) {
    fences.add(fence);
  }

  /** What to do once this replica lost its Lease, after its writes are fenced. */
  public void onLostLeadership(Runnable r) {
    onLostLeadership = r;
  }

  /** Fills the caches, then starts the controllers (or the wait for leadership). */
  public void start() {
    caches.start();
    operator.start();
    if (!elected) {
      onLeading.run();
    }
  }

  /** The Gateway API kinds found installed at start-up. */
  public GatewayApiCrds gatewayApi() {
    return gatewayApi;
  }

  public boolean leader() {
    return leader;
  }

  public OperatorMetrics metrics() {
    return metrics;
  }

  @Override
  public void close() {
    operator.stop();
    writer.close();
    caches.close();
  }
}
