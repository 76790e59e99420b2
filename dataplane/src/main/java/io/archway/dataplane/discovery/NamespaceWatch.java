package io.archway.dataplane.discovery;

import io.archway.model.EndpointSliceNodes;
import io.archway.model.ModelJson;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The Services and EndpointSlices of one namespace, for the Services the config references there:
 * two watches per namespace, however many Services (a watch per Service costs a connection each).
 * Objects of Services not referenced are not kept. Adding a Service to a namespace already watched
 * starts the watch again (one list), since what was not kept must be read.
 */
final class NamespaceWatch implements AutoCloseable {

  private final String namespace;
  private final Set<String> services;
  private final SharedIndexInformer<Service> serviceInformer;
  private final SharedIndexInformer<EndpointSlice> sliceInformer;

  /** Per Service, its slices as the shared rule takes them; dropped when they change. */
  private final Map<String, List<EndpointSliceNodes.Slice>> parsed = new ConcurrentHashMap<>();

  NamespaceWatch(
      KubernetesClient client, String namespace, Set<String> services, Consumer<String> changed) {
    this.namespace = namespace;
    this.services = Set.copyOf(services);
    serviceInformer = client.services().inNamespace(namespace).runnableInformer(0);
    serviceInformer.itemStore(new Kept<>(s -> s.getMetadata().getName(), this.services));
    sliceInformer =
        client
            .discovery()
            .v1()
            .endpointSlices()
            .inNamespace(namespace)
            .withLabel(KubernetesDiscovery.SERVICE_NAME_LABEL)
            .runnableInformer(0);
    sliceInformer.itemStore(new Kept<>(NamespaceWatch::serviceOf, this.services));
    serviceInformer.addEventHandler(handler(r -> r.getMetadata().getName(), changed));
    sliceInformer.addEventHandler(handler(NamespaceWatch::serviceOf, changed));
    serviceInformer.start();
    sliceInformer.start();
  }

  Set<String> services() {
    return services;
  }

  boolean watching() {
    return serviceInformer.isWatching() && sliceInformer.isWatching();
  }

  Service service(String name) {
    return serviceInformer.getStore().getByKey(namespace + "/" + name);
  }

  List<EndpointSliceNodes.Slice> slices(String service) {
    return parsed.computeIfAbsent(
        service,
        s ->
            sliceInformer.getStore().list().stream()
                .filter(slice -> s.equals(serviceOf(slice)))
                .map(slice -> EndpointSliceNodes.slice(ModelJson.mapper().valueToTree(slice)))
                .toList());
  }

  private static String serviceOf(EndpointSlice slice) {
    var labels = slice.getMetadata().getLabels();
    return labels == null ? null : labels.get(KubernetesDiscovery.SERVICE_NAME_LABEL);
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler(
      Function<T, String> serviceOf, Consumer<String> changed) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        on(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        on(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        on(obj);
      }

      private void on(T obj) {
        var service = serviceOf.apply(obj);
        if (service != null && services.contains(service)) {
          parsed.remove(service);
          changed.accept(namespace + "/" + service);
        }
      }
    };
  }

  @Override
  public void close() {
    serviceInformer.close();
    sliceInformer.close();
  }

  /** A store that keeps only the objects of the referenced Services. */
  private static final class Kept<T extends HasMetadata> implements ItemStore<T> {
    private final BasicItemStore<T> store = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);
    private final Function<T, String> serviceOf;
    private final Set<String> services;

    Kept(Function<T, String> serviceOf, Set<String> services) {
      this.serviceOf = serviceOf;
      this.services = services;
    }

    @Override
    public String getKey(T obj) {
      return store.getKey(obj);
    }

    @Override
    public T put(String key, T obj) {
      var service = serviceOf.apply(obj);
      if (service == null || !services.contains(service)) {
        return store.remove(key);
      }
      return store.put(key, obj);
    }

    @Override
    public T remove(String key) {
      return store.remove(key);
    }

    @Override
    public Stream<String> keySet() {
      return store.keySet();
    }

    @Override
    public Stream<T> values() {
      return store.values();
    }

    @Override
    public T get(String key) {
      return store.get(key);
    }

    @Override
    public int size() {
      return store.size();
    }
  }
}
