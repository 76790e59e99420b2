package io.archway.dataplane.config.xds;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a delta xDS stream keeps per resource type: the version of every accepted resource by name
 * (sent back as {@code initial_resource_versions} on a new stream, so the server can skip what has
 * not changed), and, for a type subscribed by name, the names asked for. Used on the source's
 * thread only.
 */
final class XdsDeltaState {

  /** What to add to and take from a subscription. */
  record Subscription(List<String> subscribe, List<String> unsubscribe) {
    boolean empty() {
      return subscribe.isEmpty() && unsubscribe.isEmpty();
    }
  }

  private final String type;
  private final boolean wildcard;
  private final Map<String, String> versions = new TreeMap<>();
  private final TreeSet<String> names = new TreeSet<>();

  XdsDeltaState(String type, boolean wildcard) {
    this.type = type;
    this.wildcard = wildcard;
  }

  /**
   * The first request of a stream: the names asked for (none for a wildcard type, which asks for
   * everything) and the versions held, or {@code null} when nothing is asked for.
   */
  DeltaDiscoveryRequest.Builder initial() {
    if (!wildcard && names.isEmpty()) {
      return null;
    }
    return DeltaDiscoveryRequest.newBuilder()
        .setTypeUrl(type)
        .addAllResourceNamesSubscribe(names)
        .putAllInitialResourceVersions(held());
  }

  /** Asks for {@code wanted} from now on: the change to send (nothing for a wildcard type). */
  Subscription follow(Set<String> wanted) {
    if (wildcard) {
      return new Subscription(List.of(), List.of());
    }
    var subscribe = new TreeSet<>(wanted);
    subscribe.removeAll(names);
    var unsubscribe = new TreeSet<>(names);
    unsubscribe.removeAll(wanted);
    names.removeAll(unsubscribe);
    names.addAll(subscribe);
    // The server forgets what is unsubscribed; a later subscribe gets it whole again.
    versions.keySet().removeAll(unsubscribe);
    return new Subscription(List.copyOf(subscribe), List.copyOf(unsubscribe));
  }

  /** Whether a resource of this name is asked for (all are, for a wildcard type). */
  boolean wanted(String name) {
    return wildcard || names.contains(name);
  }

  /** Records an accepted response: the versions of what it sent, and what it removed. */
  void accepted(List<Resource> resources, Collection<String> removed) {
    for (var r : resources) {
      if (!wanted(r.getName())) {
        continue; // in flight when it was unsubscribed
      }
      versions.put(r.getName(), r.getVersion());
    }
    versions.keySet().removeAll(removed);
  }

  /** The versions of the resources held that are still asked for. */
  private Map<String, String> held() {
    var held = new TreeMap<>(versions);
    held.keySet().removeIf(n -> !wanted(n));
    return held;
  }

  /** The version of each resource held. */
  Map<String, String> versions() {
    return Map.copyOf(versions);
  }

  Set<String> names() {
    return Set.copyOf(names);
  }
}
