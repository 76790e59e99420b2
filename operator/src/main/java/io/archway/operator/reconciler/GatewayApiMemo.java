package io.archway.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * What Gateway API reconciles would otherwise compute again for every route: a Gateway's served
 * listeners (each route translation asks, per parent; computing them translates the Gateway and
 * reads its Secrets) and, per route and Gateway, the listeners the route attaches to (each Gateway
 * reconcile counts {@code attachedRoutes} over every route naming it; computing it is the route's
 * status). Without them, N routes on one Gateway cost O(N²).
 *
 * <p>An entry holds while what it was computed from holds: the Gateway's {@code resourceVersion}
 * (served listeners), or the route's {@code resourceVersion} with the Gateway's uid and generation
 * and its GatewayClass's {@code resourceVersion} (attached listeners); and, for both, the {@link
 * #changed epoch} of the other objects the translators read (Secrets, ReferenceGrants, Namespaces,
 * Services, ...), which any change of them moves on. EndpointSlices and Pods do not move it: they
 * give upstream nodes, never listeners or attachment.
 */
final class GatewayApiMemo {

  private record Entry(String version, Set<String> listeners) {}

  private final AtomicLong epoch = new AtomicLong();
  private final Map<String, Entry> served = new ConcurrentHashMap<>();

  /** Per route ({@link References#key}), per Gateway ({@code namespace/name}). */
  private final Map<String, Map<String, Entry>> attached = new ConcurrentHashMap<>();

  /** Something a translation reads changed (a {@link Caches} informer event). */
  void changed(HasMetadata r) {
    if (!(r instanceof EndpointSlice) && !(r instanceof Pod)) {
      epoch.incrementAndGet();
    }
  }

  /** The Gateway's served listeners, computed when its version or what it reads changed. */
  Set<String> servedListeners(Gateway gw, Supplier<Set<String>> compute) {
    // Read before computing: a change while computing leaves an entry that no longer matches.
    var version =
        epoch.get() + " " + gw.getMetadata().getUid() + " " + gw.getMetadata().getResourceVersion();
    return lookup(served, gw, version, compute);
  }

  /**
   * The names of {@code gw}'s listeners {@code route} attaches to (none when it is not accepted
   * there), computed when the route, the Gateway's spec, its class ({@code classVersion}) or what
   * they read changed.
   */
  Set<String> attached(
      HasMetadata route, Gateway gw, String classVersion, Supplier<Set<String>> compute) {
    var version =
        epoch.get()
            + " "
            + route.getMetadata().getResourceVersion()
            + " "
            + gw.getMetadata().getUid()
            + " "
            + gw.getMetadata().getGeneration()
            + " "
            + classVersion;
    var perGateway =
        attached.computeIfAbsent(References.key(route), k -> new ConcurrentHashMap<>());
    return lookup(perGateway, gw, version, compute);
  }

  /** The Gateway's entry in {@code memo} when it is of {@code version}, else computed and kept. */
  private static Set<String> lookup(
      Map<String, Entry> memo, Gateway gw, String version, Supplier<Set<String>> compute) {
    var key = gw.getMetadata().getNamespace() + "/" + gw.getMetadata().getName();
    var e = memo.get(key);
    if (e != null && e.version().equals(version)) {
      return e.listeners();
    }
    var listeners = Set.copyOf(compute.get());
    memo.put(key, new Entry(version, listeners));
    return listeners;
  }

  /** The route is gone. */
  void forget(HasMetadata route) {
    attached.remove(References.key(route));
  }
}
