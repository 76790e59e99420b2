package io.archway.dataplane.discovery;

import io.archway.model.EndpointSliceNodes;
import io.archway.model.UpstreamNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nodes of upstreams with {@code discovery_type: kubernetes}, from the EndpointSlices of the
 * Service their {@code service_name} ({@code namespace/name:port}) names. Only Services the current
 * config references are watched: {@link #retain} starts and stops the informers (one for the
 * Service, for its port names, and one for its EndpointSlices, selected by {@code
 * kubernetes.io/service-name}).
 *
 * <p>Ready endpoints get traffic. An endpoint that is not ready, or terminating, is left out: the
 * dataplane stops sending it new requests and its in-flight ones finish on their connections (the
 * drain of a node that leaves the config). When no endpoint is ready, the terminating ones still
 * serving get the traffic, as kube-proxy does ({@link EndpointSliceNodes}). When the API server is
 * unreachable the informers keep the last endpoints they saw and reconnect with backoff.
 *
 * <p>Changes are coalesced: {@code onChange} runs at most once per 20 ms burst, on this class's own
 * thread, never on an event loop.
 */
public final class KubernetesDiscovery implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KubernetesDiscovery.class);
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  private final Supplier<KubernetesClient> clientFactory;
  private final Runnable onChange;
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            var t = new Thread(r, "archway-discovery");
            t.setDaemon(true);
            return t;
          });
  private final AtomicBoolean pending = new AtomicBoolean();

  /** The watches by namespace, each for the Services referenced there. */
  private final Map<String, NamespaceWatch> watched = new HashMap<>();

  private Set<String> referenced = Set.of();

  /** Pods by {@code namespace|selector}, for subsets ({@code discovery_args.labels}). */
  private final Map<String, SharedIndexInformer<io.fabric8.kubernetes.api.model.Pod>> subsets =
      new HashMap<>();

  private KubernetesClient client;
  private volatile String clientError;

  /**
   * @param clientFactory makes the Kubernetes client when a first Service is referenced
   * @param onChange called after endpoints change (coalesced, on the discovery thread)
   */
  public KubernetesDiscovery(Supplier<KubernetesClient> clientFactory, Runnable onChange) {
    this.clientFactory = clientFactory;
    this.onChange = onChange;
  }

  /**
   * Watches exactly the Services of these {@code service_name}s; the others stop being watched.
   * Returns at once: informers fill in the background and report through {@code onChange}.
   */
  public synchronized void retain(Set<String> serviceNames) {
    retain(serviceNames, Set.of());
  }

  /**
   * As {@link #retain(Set)}, and watches the Pods of these subsets ({@code namespace|k=v,...}, from
   * {@link #subsetKey}) so that their endpoints can be told apart.
   */
  public synchronized void retain(Set<String> serviceNames, Set<String> subsetKeys) {
    var gone = subsets.entrySet().iterator();
    while (gone.hasNext()) {
      var e = gone.next();
      if (!subsetKeys.contains(e.getKey())) {
        e.getValue().close();
        gone.remove();
      }
    }
    for (var key : subsetKeys) {
      if (subsets.containsKey(key) || client() == null) {
        continue;
      }
      int bar = key.indexOf('|');
      var selector = new HashMap<String, String>();
      for (var kv : key.substring(bar + 1).split(",")) {
        int eq = kv.indexOf('=');
        selector.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
      var informer =
          client.pods().inNamespace(key.substring(0, bar)).withLabels(selector).runnableInformer(0);
      informer.addEventHandler(podHandler());
      informer.start();
      subsets.put(key, informer);
    }
    var byNamespace = new HashMap<String, Set<String>>();
    var services = new LinkedHashSet<String>();
    for (var s : serviceNames) {
      var ref = ServiceRef.parse(s);
      if (ref != null) {
        byNamespace
            .computeIfAbsent(ref.namespace(), k -> new java.util.TreeSet<>())
            .add(ref.name());
        services.add(ref.namespace() + "/" + ref.name());
      }
    }
    referenced = Set.copyOf(services);
    var it = watched.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      var wanted = byNamespace.get(e.getKey());
      if (wanted == null || !wanted.equals(e.getValue().services())) {
        e.getValue().close();
        it.remove();
        if (wanted == null) {
          log.info("discovery: no longer watching namespace {}", e.getKey());
        }
      }
    }
    for (var e : byNamespace.entrySet()) {
      if (watched.containsKey(e.getKey())) {
        continue;
      }
      var c = client();
      if (c == null) {
        return;
      }
      watched.put(
          e.getKey(), new NamespaceWatch(c, e.getKey(), e.getValue(), service -> changed()));
      log.info("discovery: watching Services {} in namespace {}", e.getValue(), e.getKey());
    }
  }

  private KubernetesClient client() {
    if (client == null) {
      try {
        client = clientFactory.get();
        clientError = null;
      } catch (RuntimeException e) {
        clientError = e.getMessage();
        log.warn("discovery: no Kubernetes client: {}", e.getMessage());
        return null;
      }
    }
    return client;
  }

  private <T> ResourceEventHandler<T> podHandler() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        changed();
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        changed();
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        changed();
      }
    };
  }

  private void changed() {
    if (pending.compareAndSet(false, true)) {
      thread.schedule(
          () -> {
            pending.set(false);
            try {
              onChange.run();
            } catch (RuntimeException e) {
              log.warn("discovery: applying an endpoint change failed", e);
            }
          },
          20,
          TimeUnit.MILLISECONDS);
    }
  }

  /**
   * The ready nodes of {@code serviceName} ({@code namespace/name:port}) as last seen; empty when
   * it is not watched yet, the Service does not exist, or no endpoint is ready.
   */
  public synchronized List<UpstreamNode> nodes(String serviceName) {
    return nodes(serviceName, Map.of());
  }

  /** The key of a subset's Pods: {@code namespace|k=v,k2=v2}, labels sorted. */
  public static String subsetKey(String namespace, Map<String, String> labels) {
    var sb = new StringBuilder(namespace).append('|');
    new java.util.TreeMap<>(labels)
        .forEach((k, v) -> sb.append(k).append('=').append(v).append(','));
    return sb.substring(0, sb.length() - 1);
  }

  /**
   * The ready nodes of {@code serviceName} whose Pods carry {@code labels} (a subset); all of them
   * when {@code labels} is empty.
   */
  public synchronized List<UpstreamNode> nodes(String serviceName, Map<String, String> labels) {
    var ref = ServiceRef.parse(serviceName);
    if (ref == null) {
      return List.of();
    }
    var w = watched.get(ref.namespace());
    if (w == null || !w.services().contains(ref.name())) {
      return List.of();
    }
    var svc = w.service(ref.name());
    var slices = w.slices(ref.name());
    java.util.function.Predicate<String> pods = null;
    if (!labels.isEmpty()) {
      var informer = subsets.get(subsetKey(ref.namespace(), labels));
      var names = new java.util.HashSet<String>();
      if (informer != null) {
        informer.getStore().list().forEach(p -> names.add(p.getMetadata().getName()));
      }
      pods = names::contains;
    }
    return EndpointSliceNodes.nodes(slices, ref.portName(svc), ref.number(), pods);
  }

  /** How many Services are watched, and how many of them have their watches up. */
  public synchronized Status status() {
    int up = 0;
    for (var w : watched.values()) {
      if (w.watching()) {
        up += w.services().size();
      }
    }
    return new Status(referenced.size(), up, clientError);
  }

  /**
   * @param error why there is no Kubernetes client, or {@code null}
   */
  public record Status(int services, int watching, String error) {
    public boolean connected() {
      return error == null && watching == services;
    }
  }

  @Override
  public synchronized void close() {
    subsets.values().forEach(SharedIndexInformer::close);
    subsets.clear();
    watched.values().forEach(NamespaceWatch::close);
    watched.clear();
    thread.shutdownNow();
    if (client != null) {
      client.close();
    }
  }
}
