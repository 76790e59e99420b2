package io.archway.dataplane.config.xds;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The resources an xDS source has accepted, by type, and their translation into model objects.
 * Listeners and clusters are replaced whole by each response (state of the world); route
 * configurations and load assignments are updated by name, and forgotten when no longer asked for.
 * Used on the source's thread only.
 */
final class XdsResources {

  private final Map<String, XdsTranslator.ListenerRoutes> listeners = new TreeMap<>();
  private final Map<String, XdsTranslator.RouteSet> inlineRoutes = new TreeMap<>();
  private final Map<String, XdsTranslator.RouteSet> routeSets = new TreeMap<>();
  private final Map<String, XdsTranslator.ClusterPart> clusters = new TreeMap<>();
  private final Map<String, ArrayNode> endpoints = new TreeMap<>();
  private final Map<String, XdsSecrets.SecretPem> secrets = new TreeMap<>();
  private final boolean agent;

  XdsResources() {
    this(false);
  }

  /** {@code agent}: secrets may come from Istio's agent too ({@link XdsAgentSds}). */
  XdsResources(boolean agent) {
    this.agent = agent;
  }

  /** A copy to apply a response to before it is accepted (the translations are immutable). */
  XdsResources copy() {
    var c = new XdsResources(agent);
    c.listeners.putAll(listeners);
    c.inlineRoutes.putAll(inlineRoutes);
    c.routeSets.putAll(routeSets);
    c.clusters.putAll(clusters);
    c.endpoints.putAll(endpoints);
    c.secrets.putAll(secrets);
    return c;
  }

  void apply(String type, List<Any> resources) throws XdsException {
    switch (type) {
      case XdsTranslator.LISTENER -> {
        var next = new TreeMap<String, XdsTranslator.ListenerRoutes>();
        var inline = new TreeMap<String, XdsTranslator.RouteSet>();
        for (var l : unpack(resources, Listener.class, "listener")) {
          var routes = XdsTranslator.listener(l);
          unique(next.put(l.getName(), routes), "listener", l.getName());
          for (var rc : routes.inline()) {
            inline.put(rc.getName(), XdsTranslator.routes(rc));
          }
        }
        listeners.clear();
        listeners.putAll(next);
        inlineRoutes.clear();
        inlineRoutes.putAll(inline);
      }
      case XdsTranslator.ROUTE -> {
        var next = new TreeMap<String, XdsTranslator.RouteSet>();
        for (var rc : unpack(resources, RouteConfiguration.class, "route configuration")) {
          unique(
              next.put(rc.getName(), XdsTranslator.routes(rc)),
              "route configuration",
              rc.getName());
        }
        routeSets.putAll(next);
      }
      case XdsTranslator.CLUSTER -> {
        var next = new TreeMap<String, XdsTranslator.ClusterPart>();
        for (var c : unpack(resources, Cluster.class, "cluster")) {
          unique(next.put(c.getName(), XdsTranslator.cluster(c, agent)), "cluster", c.getName());
        }
        clusters.clear();
        clusters.putAll(next);
      }
      case XdsTranslator.ENDPOINT -> {
        var next = new TreeMap<String, ArrayNode>();
        for (var cla : unpack(resources, ClusterLoadAssignment.class, "load assignment")) {
          var where = "load assignment \"" + cla.getClusterName() + "\"";
          unique(
              next.put(cla.getClusterName(), XdsTranslator.nodes(cla, where)),
              "load assignment",
              cla.getClusterName());
        }
        endpoints.putAll(next);
      }
      case XdsTranslator.SECRET -> {
        // Named, as load assignments are: a new version of a secret replaces it (rotation).
        var next = new TreeMap<String, XdsSecrets.SecretPem>();
        for (var s : unpack(resources, Secret.class, "secret")) {
          unique(next.put(s.getName(), XdsSecrets.secret(s)), "secret", s.getName());
        }
        secrets.putAll(next);
      }
      default -> throw new IllegalStateException(type);
    }
  }

  /**
   * Delta xDS: takes the resources of {@code type} that were sent (by name), each replacing the one
   * of its name, and forgets those {@code removed}; the rest stay as they were. A resource that
   * does not translate is left out alone, as Envoy does: returns those, name to reason (empty: all
   * taken).
   */
  Map<String, String> update(String type, Map<String, Any> sent, Collection<String> removed) {
    var part = new XdsResources(agent);
    var refused = new TreeMap<String, String>();
    for (var e : sent.entrySet()) {
      var one = new XdsResources(agent);
      try {
        one.apply(type, List.of(e.getValue()));
      } catch (XdsException | RuntimeException x) {
        var why = String.valueOf(x.getMessage());
        refused.put(e.getKey(), why.contains(e.getKey()) ? why : "\"" + e.getKey() + "\": " + why);
        continue;
      }
      part.listeners.putAll(one.listeners);
      part.inlineRoutes.putAll(one.inlineRoutes);
      part.routeSets.putAll(one.routeSets);
      part.clusters.putAll(one.clusters);
      part.endpoints.putAll(one.endpoints);
      part.secrets.putAll(one.secrets);
    }
    switch (type) {
      case XdsTranslator.LISTENER -> {
        for (var name : concat(removed, part.listeners.keySet())) {
          var old = listeners.remove(name);
          if (old != null) {
            old.inline().forEach(rc -> inlineRoutes.remove(rc.getName()));
          }
        }
        listeners.putAll(part.listeners);
        inlineRoutes.putAll(part.inlineRoutes);
      }
      case XdsTranslator.ROUTE -> merge(routeSets, part.routeSets, removed);
      case XdsTranslator.CLUSTER -> merge(clusters, part.clusters, removed);
      case XdsTranslator.ENDPOINT -> merge(endpoints, part.endpoints, removed);
      case XdsTranslator.SECRET -> merge(secrets, part.secrets, removed);
      default -> throw new IllegalStateException(type);
    }
    return refused;
  }

  /** Secrets from Istio's agent: each replaces the one of its name, kept apart from ADS's. */
  void applyAgent(List<Any> resources) throws XdsException {
    var next = new TreeMap<String, XdsSecrets.SecretPem>();
    for (var s : unpack(resources, Secret.class, "secret")) {
      unique(next.put(XdsAgentSds.key(s.getName()), XdsSecrets.secret(s)), "secret", s.getName());
    }
    secrets.putAll(next);
  }

  private static <V> void merge(Map<String, V> into, Map<String, V> sent, Collection<String> gone) {
    into.keySet().removeAll(gone);
    into.putAll(sent);
  }

  private static List<String> concat(Collection<String> a, Collection<String> b) {
    var all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static void unique(Object previous, String kind, String name) throws XdsException {
    if (previous != null) {
      throw new XdsException(kind + " \"" + name + "\": sent twice in one response");
    }
  }

  private static <T extends Message> List<T> unpack(List<Any> resources, Class<T> type, String kind)
      throws XdsException {
    var out = new ArrayList<T>(resources.size());
    for (int i = 0; i < resources.size(); i++) {
      try {
        out.add(resources.get(i).unpack(type));
      } catch (InvalidProtocolBufferException e) {
        throw new XdsException(
            "resources["
                + i
                + "]: "
                + resources.get(i).getTypeUrl()
                + " (expected: a "
                + kind
                + ", "
                + type.getName()
                + ")");
      }
    }
    return out;
  }

  TreeSet<String> routeNames() {
    var names = new TreeSet<String>();
    listeners.values().forEach(l -> names.addAll(l.rdsNames()));
    names.removeAll(inlineRoutes.keySet());
    return names;
  }

  TreeSet<String> endpointNames() {
    var names = new TreeSet<String>();
    clusters
        .values()
        .forEach(
            c -> {
              if (c.edsName() != null) {
                names.add(c.edsName());
              }
            });
    return names;
  }

  /** The secrets the clusters' and listeners' TLS name from ADS. */
  TreeSet<String> secretNames() {
    var names = allSecretNames();
    names.removeIf(XdsAgentSds::isKey);
    return names;
  }

  /** The secrets they name from Istio's agent, by their names there. */
  TreeSet<String> agentSecretNames() {
    var names = new TreeSet<String>();
    allSecretNames().stream()
        .filter(XdsAgentSds::isKey)
        .forEach(n -> names.add(XdsAgentSds.name(n)));
    return names;
  }

  private TreeSet<String> allSecretNames() {
    var names = new TreeSet<String>();
    clusters.values().stream()
        .filter(c -> c.tls() != null)
        .forEach(c -> names.addAll(c.tls().material().secretNames()));
    listeners
        .values()
        .forEach(l -> l.servers().forEach(s -> names.addAll(s.material().secretNames())));
    return names;
  }

  /** Forgets the route configurations, load assignments or secrets not in {@code names}. */
  void retain(String type, Set<String> names) {
    if (type.equals(XdsTranslator.ROUTE)) {
      routeSets.keySet().retainAll(names);
    } else if (type.equals(XdsTranslator.SECRET)) {
      secrets.keySet().removeIf(n -> !XdsAgentSds.isKey(n) && !names.contains(n));
    } else {
      endpoints.keySet().retainAll(names);
    }
  }

  /** Forgets the agent's secrets not in {@code names} (their names there). */
  void retainAgent(Set<String> names) {
    secrets.keySet().removeIf(n -> XdsAgentSds.isKey(n) && !names.contains(XdsAgentSds.name(n)));
  }

  /**
   * Whether listeners and clusters came, and every route configuration, load assignment and secret
   * asked for (Envoy's initial fetch).
   */
  boolean complete(Map<String, TypeState> types) {
    return types.get(XdsTranslator.LISTENER).received
        && types.get(XdsTranslator.CLUSTER).received
        && missing(
                types.get(XdsTranslator.ROUTE).names,
                types.get(XdsTranslator.ENDPOINT).names,
                types.get(XdsTranslator.SECRET).names)
            .isEmpty();
  }

  /** The route configurations, load assignments and secrets named that have not come. */
  List<String> missing(Set<String> routeNames, Set<String> endpointNames, Set<String> secretNames) {
    var out = new ArrayList<String>();
    routeNames.stream()
        .filter(n -> !routeSets.containsKey(n))
        .forEach(n -> out.add("route configuration \"" + n + "\""));
    endpointNames.stream()
        .filter(n -> !endpoints.containsKey(n))
        .forEach(n -> out.add("load assignment \"" + n + "\""));
    secretNames.stream()
        .filter(n -> !secrets.containsKey(n))
        .forEach(n -> out.add("secret \"" + n + "\""));
    return out;
  }

  /** The model objects of everything accepted ({@link XdsTranslator#assemble}). */
  Map<Key, ConfigObject> assemble() {
    var sets = new HashMap<String, XdsTranslator.RouteSet>(routeSets);
    sets.putAll(inlineRoutes);
    return XdsTranslator.assemble(listeners, sets, clusters, endpoints, secrets);
  }
}
