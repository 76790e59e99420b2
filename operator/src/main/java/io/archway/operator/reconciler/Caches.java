package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.apisix.v1alpha1.BackendTrafficPolicy;
import io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy;
import io.archway.crds.archway.PluginFlow;
import io.archway.model.EndpointSliceNodes;
import io.archway.model.ModelJson;
import io.archway.operator.translate.Refs;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.Indexer;
import io.fabric8.kubernetes.client.informers.cache.ReducedStateItemStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One informer per kind the translators read (per watched namespace), shared by every reconciler:
 * the {@link Refs} they translate against, and the source of "something a resource references
 * changed" notices ({@link #onChange}), which {@link Dependents} turns into reconciles of the
 * resources that reference it. The resources the controllers reconcile are not watched twice: their
 * lists come from the controllers' own caches ({@link #primaries}).
 */
public final class Caches implements Refs, AutoCloseable {

  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final List<Consumer<HasMetadata>> listeners = new CopyOnWriteArrayList<>();
  private final GatewayApiMemo memo = new GatewayApiMemo();
  private final io.archway.operator.translate.ClaimIndex claims =
      new io.archway.operator.translate.ClaimIndex(this);
  private final Map<String, Supplier<List<? extends HasMetadata>>> primaries =
      new ConcurrentHashMap<>();
  private final Watched<Service> services;
  private final Watched<Secret> secrets;
  private final Watched<EndpointSlice> slices;
  private final Watched<io.fabric8.kubernetes.api.model.Pod> pods;
  private final ControlPlaneDiscovery controlPlaneDiscovery;
  private final KubernetesClient client;
  private final Watched<ApisixUpstream> upstreams;
  private volatile io.archway.operator.registry.Registries registries =
      io.archway.operator.registry.Registries.none();
  private final Watched<PluginFlow> flows;
  private final Watched<io.archway.crds.archway.GatewayParameters> gatewayParameters;
  private final Watched<BackendTrafficPolicy> backendPolicies;
  private final Watched<HTTPRoutePolicy> routePolicies;
  private final Watched<io.archway.crds.apisix.v1alpha1.L4RoutePolicy> l4Policies;
  private final Watched<io.archway.crds.apisix.ApisixPluginConfig> pluginConfigs;
  private final Watched<io.archway.crds.apisix.v1alpha1.PluginConfig> v1alpha1PluginConfigs;
  private final SharedIndexInformer<IngressClass> ingressClasses;
  private volatile Watched<io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant>
      referenceGrants;

  /** The informers of one kind: one for all namespaces, or one per watched namespace. */
  private static final class Watched<T> {
    final Map<String, SharedIndexInformer<T>> byNamespace = new java.util.LinkedHashMap<>();

    List<T> list(String ns) {
      var informer = byNamespace.getOrDefault(ns, byNamespace.get(ALL));
      return informer == null
          ? List.of()
          : informer.getIndexer().list().stream()
              .filter(r -> ns.equals(((HasMetadata) r).getMetadata().getNamespace()))
              .toList();
    }

    Optional<T> get(String ns, String name) {
      var informer = byNamespace.getOrDefault(ns, byNamespace.get(ALL));
      return informer == null
          ? Optional.empty()
          : Optional.ofNullable(informer.getIndexer().getByKey(Cache.namespaceKeyFunc(ns, name)));
    }
  }

  private static final String ALL = "";

  /**
   * @param namespaces the namespaces watched; empty for all
   * @param publishService {@code namespace/name} of the dataplane Service, watched even outside
   *     those namespaces; or {@code null}
   */
  public Caches(
      KubernetesClient client,
      java.util.Set<String> namespaces,
      String publishService,
      ControlPlaneDiscovery controlPlaneDiscovery) {
    this.controlPlaneDiscovery = controlPlaneDiscovery;
    // EndpointSlices are watched only when the operator resolves endpoints itself.
    slices =
        controlPlaneDiscovery == ControlPlaneDiscovery.OFF
            ? null
            : inform(client, EndpointSlice.class, namespaces);
    if (slices != null) {
      // A translation asks for one Service's slices: indexed by it, not scanned for.
      for (var informer : slices.byNamespace.values()) {
        informer.addIndexers(Map.of(BY_SERVICE, Caches::serviceOf));
      }
    }
    // Pods, for subsets: their labels only.
    pods =
        controlPlaneDiscovery == ControlPlaneDiscovery.OFF
            ? null
            : inform(client, io.fabric8.kubernetes.api.model.Pod.class, namespaces);
    if (pods != null) {
      for (var informer : pods.byNamespace.values()) {
        informer.itemStore(
            new ReducedStateItemStore<>(
                ReducedStateItemStore.NAME_KEY_STATE,
                io.fabric8.kubernetes.api.model.Pod.class,
                client.getKubernetesSerialization(),
                "metadata.resourceVersion",
                "metadata.labels"));
      }
    }
    var serviceNamespaces = new java.util.TreeSet<>(namespaces);
    if (!namespaces.isEmpty() && publishService != null) {
      serviceNamespaces.add(publishService.substring(0, publishService.indexOf('/')));
    }
    services = inform(client, Service.class, serviceNamespaces);
    this.client = client;
    secrets = inform(client, Secret.class, namespaces);
    // Secrets are many and can be large (Helm keeps its release history in them): only their
    // names and versions are kept, to notice changes; a translation reads a Secret when it needs
    // it.
    for (var informer : secrets.byNamespace.values()) {
      informer.itemStore(
          new ReducedStateItemStore<>(
              ReducedStateItemStore.NAME_KEY_STATE,
              Secret.class,
              client.getKubernetesSerialization(),
              "metadata.resourceVersion"));
    }
    upstreams = inform(client, ApisixUpstream.class, namespaces);
    flows = inform(client, PluginFlow.class, namespaces);
    gatewayParameters = inform(client, io.archway.crds.archway.GatewayParameters.class, namespaces);
    backendPolicies = inform(client, BackendTrafficPolicy.class, namespaces);
    routePolicies = inform(client, HTTPRoutePolicy.class, namespaces);
    l4Policies = inform(client, io.archway.crds.apisix.v1alpha1.L4RoutePolicy.class, namespaces);
    pluginConfigs = inform(client, io.archway.crds.apisix.ApisixPluginConfig.class, namespaces);
    v1alpha1PluginConfigs =
        inform(client, io.archway.crds.apisix.v1alpha1.PluginConfig.class, namespaces);
    var classes = client.resources(IngressClass.class).runnableInformer(0);
    ingressClasses = classes;
    informers.add(classes);
    classes.addEventHandler(handler());
  }

  private <T extends HasMetadata> Watched<T> inform(
      KubernetesClient client, Class<T> type, java.util.Set<String> namespaces) {
    var op = client.resources(type);
    var watched = new Watched<T>();
    if (namespaces.isEmpty()) {
      watched.byNamespace.put(ALL, op.inAnyNamespace().runnableInformer(0));
    } else {
      namespaces.forEach(ns -> watched.byNamespace.put(ns, op.inNamespace(ns).runnableInformer(0)));
    }
    for (var informer : watched.byNamespace.values()) {
      informer.addEventHandler(handler());
      informers.add(informer);
    }
    return watched;
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        changed(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        if (!java.util.Objects.equals(
            oldObj.getMetadata().getResourceVersion(), newObj.getMetadata().getResourceVersion())) {
          if (oldObj instanceof BackendTrafficPolicy || oldObj instanceof HTTPRoutePolicy) {
            // What a policy targeted before matters too: those lose its settings.
            changed(oldObj);
          }
          changed(newObj);
        }
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        changed(obj);
      }
    };
  }

  private void changed(HasMetadata r) {
    memo.changed(r);
    if (r instanceof HTTPRoutePolicy) {
      // It tells the claims of the Ingresses it targets apart.
      claims.refsChanged(r.getMetadata().getNamespace());
    }
    for (var l : listeners) {
      l.accept(r);
    }
  }

  /**
   * Watches ReferenceGrants too (when their CRD is installed: {@link GatewayApiCrds}); before
   * {@link #start}.
   */
  void watchReferenceGrants(KubernetesClient client, java.util.Set<String> namespaces) {
    referenceGrants =
        inform(
            client,
            io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant.class,
            namespaces);
  }

  @Override
  public List<io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant> referenceGrants(
      String namespace) {
    var watched = referenceGrants;
    return watched == null ? List.of() : watched.list(namespace);
  }

  /** A GatewayProxy (GatewayClass parameters), from the GatewayProxy controller's cache. */
  @Override
  public Optional<io.archway.crds.apisix.v1alpha1.GatewayProxy> gatewayProxy(
      String namespace, String name) {
    return primaries("GatewayProxy").stream()
        .filter(r -> namespace.equals(r.getMetadata().getNamespace()))
        .filter(r -> name.equals(r.getMetadata().getName()))
        .map(io.archway.crds.apisix.v1alpha1.GatewayProxy.class::cast)
        .findFirst();
  }

  /** Starts every informer and waits until each has listed its kind once. */
  public void start() {
    var started = informers.stream().map(i -> i.start().toCompletableFuture()).toList();
    java.util.concurrent.CompletableFuture.allOf(
            started.toArray(java.util.concurrent.CompletableFuture[]::new))
        .join();
  }

  /**
   * The host and path claims of the ApisixRoutes and Ingresses in the controllers' caches (fed by
   * {@link ResourceReconciler}), for conflict checks.
   */
  io.archway.operator.translate.ClaimIndex claims() {
    return claims;
  }

  public void onChange(Consumer<HasMetadata> listener) {
    listeners.add(listener);
  }

  @Override
  public Optional<Service> service(String namespace, String name) {
    return services.get(namespace, name);
  }

  @Override
  public Optional<Secret> secret(String namespace, String name) {
    return Optional.ofNullable(client.secrets().inNamespace(namespace).withName(name).get());
  }

  @Override
  public Optional<ApisixUpstream> apisixUpstream(String namespace, String name) {
    // One being deleted (its finalizer not yet run) counts as gone: the routes that use it are
    // written once, without it, not with it and again without it a moment later.
    return upstreams
        .get(namespace, name)
        .filter(u -> u.getMetadata().getDeletionTimestamp() == null);
  }

  /** The registries the operator follows (none by default). */
  void registries(io.archway.operator.registry.Registries registries) {
    this.registries = registries;
  }

  @Override
  public io.archway.operator.translate.RegistryLookup registry(String type, String serviceName) {
    return registries.lookup(type, serviceName);
  }

  /** The registry services the ApisixUpstreams name, of the registries the operator follows. */
  java.util.Set<io.archway.operator.registry.Registries.Service> registryServices() {
    var out = new java.util.HashSet<io.archway.operator.registry.Registries.Service>();
    for (var informer : upstreams.byNamespace.values()) {
      for (var au : informer.getIndexer().list()) {
        var d = au.getSpec() == null ? null : au.getSpec().discovery;
        if (d != null && d.type != null && d.serviceName != null && registries.serves(d.type)) {
          out.add(new io.archway.operator.registry.Registries.Service(d.type, d.serviceName));
        }
      }
    }
    return out;
  }

  @Override
  public Optional<PluginFlow> pluginFlow(String namespace, String name) {
    return flows.get(namespace, name);
  }

  @Override
  public Optional<io.archway.crds.archway.GatewayParameters> gatewayParameters(
      String namespace, String name) {
    return gatewayParameters.get(namespace, name);
  }

  @Override
  public List<BackendTrafficPolicy> backendTrafficPolicies(String namespace) {
    return backendPolicies.list(namespace);
  }

  @Override
  public List<HTTPRoutePolicy> httpRoutePolicies(String namespace) {
    return routePolicies.list(namespace);
  }

  /** The L4RoutePolicies of a namespace: what the TLSRoutes, TCPRoutes and UDPRoutes apply. */
  @Override
  public List<io.archway.crds.apisix.v1alpha1.L4RoutePolicy> l4RoutePolicies(String namespace) {
    return l4Policies.list(namespace);
  }

  @Override
  public Optional<io.archway.crds.apisix.ApisixPluginConfig> apisixPluginConfig(
      String namespace, String name) {
    return pluginConfigs.get(namespace, name);
  }

  @Override
  public Optional<io.archway.crds.apisix.v1alpha1.PluginConfig> pluginConfig(
      String namespace, String name) {
    return v1alpha1PluginConfigs.get(namespace, name);
  }

  // Gateway API lookups: Gateways and GatewayClasses from their controllers' caches (no second
  // watch), Namespaces from their informer (started only when a Gateway API route kind is
  // installed). Until a controller's cache is running (start-up) the API server is asked, so a
  // route reconciled first does not see its Gateway as missing; a kind that is not installed is
  // simply not found.
  @Override
  public Optional<io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway> gateway(
      String namespace, String name) {
    if (!primaries.containsKey("Gateway")) {
      return Optional.empty();
    }
    if (ready("Gateway")) {
      return primaries("Gateway").stream()
          .filter(r -> namespace.equals(r.getMetadata().getNamespace()))
          .filter(r -> name.equals(r.getMetadata().getName()))
          .map(io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway.class::cast)
          .findFirst();
    }
    return gatewayApi(
        () ->
            client
                .resources(io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway.class)
                .inNamespace(namespace)
                .withName(name)
                .get());
  }

  /** Memoized ({@link GatewayApiMemo}): asked for every parent of every route translation. */
  @Override
  public java.util.Set<String> servedListeners(
      io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway gateway) {
    return memo.servedListeners(gateway, () -> Refs.super.servedListeners(gateway));
  }

  GatewayApiMemo memo() {
    return memo;
  }

  @Override
  public Optional<io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass> gatewayClass(
      String name) {
    if (!primaries.containsKey("GatewayClass")) {
      return Optional.empty();
    }
    if (ready("GatewayClass")) {
      return primaries("GatewayClass").stream()
          .filter(r -> name.equals(r.getMetadata().getName()))
          .map(io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass.class::cast)
          .findFirst();
    }
    return gatewayApi(
        () ->
            client
                .resources(io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass.class)
                .withName(name)
                .get());
  }

  @Override
  public Optional<io.fabric8.kubernetes.api.model.Namespace> namespace(String name) {
    var informer = namespaces;
    return informer == null
        ? Optional.empty()
        : Optional.ofNullable(informer.getIndexer().getByKey(name));
  }

  /**
   * Watches Namespaces (cluster-wide: their labels are what {@code allowedRoutes.namespaces.from:
   * Selector} matches); before {@link #start}. Only when a Gateway API route kind is installed.
   */
  void watchNamespaces(KubernetesClient client) {
    var informer = client.namespaces().runnableInformer(0);
    informer.addEventHandler(handler());
    informers.add(informer);
    namespaces = informer;
  }

  private volatile SharedIndexInformer<io.fabric8.kubernetes.api.model.Namespace> namespaces;

  private static <T> Optional<T> gatewayApi(java.util.function.Supplier<T> get) {
    try {
      return Optional.ofNullable(get.get());
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      return Optional.empty();
    }
  }

  @Override
  public ControlPlaneDiscovery controlPlaneDiscovery() {
    return controlPlaneDiscovery;
  }

  @Override
  public List<EndpointSliceNodes.Slice> endpointSlices(String namespace, String service) {
    if (slices == null) {
      return List.of();
    }
    var informer = slices.byNamespace.getOrDefault(namespace, slices.byNamespace.get(ALL));
    if (informer == null) {
      return List.of();
    }
    return byIndex(informer.getIndexer(), BY_SERVICE, namespace + "/" + service).stream()
        .map(s -> EndpointSliceNodes.slice(ModelJson.mapper().valueToTree(s)))
        .toList();
  }

  /**
   * The objects of an informer's index under {@code key}, read as of one whole change. fabric8's
   * {@code byIndex} does not take the lock its {@code put} holds, and a put rewrites the index
   * entry of the object it updates: the key out (an emptied entry is dropped), then in again. A
   * read in between found no EndpointSlice for a Service whose only slice was being updated, and
   * the operator wrote its upstream with no nodes (503s until the next change, found by the chaos
   * suite's rolling update). Reading under the cache's own lock (its put and remove are
   * synchronized on it) sees each change whole.
   */
  static <T> List<T> byIndex(Indexer<T> indexer, String index, String key) {
    synchronized (indexer) {
      return indexer.byIndex(index, key);
    }
  }

  private static final String BY_SERVICE = "service";

  /** {@code namespace/service} of an EndpointSlice, from its service-name label. */
  private static List<String> serviceOf(EndpointSlice s) {
    var labels = s.getMetadata().getLabels();
    var service = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
    return service == null ? List.of() : List.of(s.getMetadata().getNamespace() + "/" + service);
  }

  @Override
  public Map<String, String> podLabels(String namespace, String pod) {
    return pods == null
        ? null
        : pods.get(namespace, pod).map(p -> p.getMetadata().getLabels()).orElse(null);
  }

  /** The label that ties an EndpointSlice to its Service. */
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  public Optional<IngressClass> ingressClass(String name) {
    return Optional.ofNullable(ingressClasses.getIndexer().getByKey(name));
  }

  public List<IngressClass> ingressClasses() {
    return ingressClasses.getIndexer().list();
  }

  public Optional<Service> serviceByKey(String namespaceName) {
    int slash = namespaceName.indexOf('/');
    return services.get(namespaceName.substring(0, slash), namespaceName.substring(slash + 1));
  }

  /**
   * Registers the resources of a kind a controller watches (its own cache, not a second watch): for
   * conflict checks, dependents and the start-up clean-up.
   */
  void primaries(String kind, Supplier<List<? extends HasMetadata>> list) {
    primaries.put(kind, list);
  }

  /** As {@link #primaries(String, Supplier)}, with whether the controller's cache is running. */
  void primaries(
      String kind,
      Supplier<List<? extends HasMetadata>> list,
      java.util.function.BooleanSupplier ready) {
    primaries.put(kind, list);
    this.ready.put(kind, ready);
  }

  private final Map<String, java.util.function.BooleanSupplier> ready = new ConcurrentHashMap<>();

  private boolean ready(String kind) {
    var r = ready.get(kind);
    return r != null && r.getAsBoolean();
  }

  List<? extends HasMetadata> primaries(String kind) {
    var list = primaries.get(kind);
    return list == null ? List.of() : list.get();
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
