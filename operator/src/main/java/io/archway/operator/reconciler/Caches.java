package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.archway.PluginFlow;
import io.archway.operator.translate.Refs;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One informer per kind the translators read, shared by every reconciler: the {@link Refs} they
 * translate against, and the source of "something a resource references changed" notices ({@link
 * #onChange}), which {@link Dependents} turns into reconciles of the resources that reference it.
 */
public final class Caches implements Refs, AutoCloseable {

  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final List<Consumer<HasMetadata>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Supplier<List<? extends HasMetadata>>> primaries =
      new ConcurrentHashMap<>();
  private final SharedIndexInformer<Service> services;
  private final SharedIndexInformer<Secret> secrets;
  private final SharedIndexInformer<ApisixUpstream> upstreams;
  private final SharedIndexInformer<PluginFlow> flows;
  private final SharedIndexInformer<IngressClass> ingressClasses;

  /**
   * @param namespace the one namespace watched, or {@code null} for all
   */
  public Caches(KubernetesClient client, String namespace) {
    services = inform(client, Service.class, namespace);
    secrets = inform(client, Secret.class, namespace);
    upstreams = inform(client, ApisixUpstream.class, namespace);
    flows = inform(client, PluginFlow.class, namespace);
    var classes = client.resources(IngressClass.class).runnableInformer(0);
    ingressClasses = classes;
    informers.add(classes);
    classes.addEventHandler(handler());
  }

  private <T extends HasMetadata> SharedIndexInformer<T> inform(
      KubernetesClient client, Class<T> type, String namespace) {
    var op = client.resources(type);
    SharedIndexInformer<T> informer =
        namespace == null
            ? op.inAnyNamespace().runnableInformer(0)
            : op.inNamespace(namespace).runnableInformer(0);
    informer.addEventHandler(handler());
    informers.add(informer);
    return informer;
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
    for (var l : listeners) {
      l.accept(r);
    }
  }

  /** Starts every informer and waits until each has listed its kind once. */
  public void start() {
    var started = informers.stream().map(i -> i.start().toCompletableFuture()).toList();
    java.util.concurrent.CompletableFuture.allOf(
            started.toArray(java.util.concurrent.CompletableFuture[]::new))
        .join();
  }

  public void onChange(Consumer<HasMetadata> listener) {
    listeners.add(listener);
  }

  private static <T> Optional<T> get(SharedIndexInformer<T> informer, String ns, String name) {
    return Optional.ofNullable(informer.getIndexer().getByKey(Cache.namespaceKeyFunc(ns, name)));
  }

  @Override
  public Optional<Service> service(String namespace, String name) {
    return get(services, namespace, name);
  }

  @Override
  public Optional<Secret> secret(String namespace, String name) {
    return get(secrets, namespace, name);
  }

  @Override
  public Optional<ApisixUpstream> apisixUpstream(String namespace, String name) {
    return get(upstreams, namespace, name);
  }

  @Override
  public Optional<PluginFlow> pluginFlow(String namespace, String name) {
    return get(flows, namespace, name);
  }

  public Optional<IngressClass> ingressClass(String name) {
    return Optional.ofNullable(ingressClasses.getIndexer().getByKey(name));
  }

  public List<IngressClass> ingressClasses() {
    return ingressClasses.getIndexer().list();
  }

  public Optional<Service> serviceByKey(String namespaceName) {
    return Optional.ofNullable(services.getIndexer().getByKey(namespaceName));
  }

  public List<PluginFlow> pluginFlows() {
    return flows.getIndexer().list();
  }

  public List<ApisixUpstream> apisixUpstreams() {
    return upstreams.getIndexer().list();
  }

  /**
   * Registers the resources of a kind a controller watches (its own cache, not a second watch): for
   * conflict checks, dependents and the start-up clean-up.
   */
  void primaries(String kind, Supplier<List<? extends HasMetadata>> list) {
    primaries.put(kind, list);
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
