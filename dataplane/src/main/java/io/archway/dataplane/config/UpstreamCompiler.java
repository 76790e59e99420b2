package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.discovery.KubernetesDiscovery;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.archway.model.Service;
import io.archway.model.StreamRoute;
import io.archway.model.Upstream;
import io.archway.model.UpstreamNode;
import io.archway.model.UpstreamNodes;
import io.archway.model.source.ConfigItem;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Upstreams: every upstream traffic can go to, by key ({@link Keys#item}) — the upstream objects
 * ({@code upstreams/<id>}), the inline upstreams of services, routes and stream routes (under their
 * owner's key) and the upstreams plugins such as traffic-split carry inline (under the keys the
 * plugin gives). Kubernetes-discovered upstreams get their nodes, a {@code tls.client_cert_id} its
 * certificate, and {@link Upstreams#update} keeps the runtime of every upstream whose written form
 * did not change.
 */
final class UpstreamCompiler {

  private static final String KUBERNETES = "kubernetes";
  private static final String DNS = "dns";

  private final Upstreams upstreams;
  private final KubernetesDiscovery discovery;
  private final io.archway.dataplane.discovery.DnsDiscovery dns;
  private final PluginRegistry registry;
  private List<Plugin<?>> inlineUpstreamPlugins = List.of();
  // Each route's upstreams as worked out at the last compile (compiles are serialized).
  private final Map<String, RouteUpstreams> byRoute = new HashMap<>();
  // The union of byRoute's upstreams (their keys are their owner's: no two routes share one).
  private final Map<String, Upstream> routesWanted = new HashMap<>();

  /**
   * @param discovery nodes for upstreams with {@code discovery_type: kubernetes}, or {@code null}
   */
  UpstreamCompiler(
      Upstreams upstreams,
      KubernetesDiscovery discovery,
      io.archway.dataplane.discovery.DnsDiscovery dns,
      PluginRegistry registry) {
    this.upstreams = upstreams;
    this.discovery = discovery;
    this.dns = dns;
    this.registry = registry;
  }

  /**
   * The runtimes of this snapshot's upstreams, by key.
   *
   * @param changes the ids changed since the last compile, by kind, when known ({@code null}: every
   *     route is looked at)
   */
  Map<String, UpstreamRuntime> compile(
      ConfigSnapshot snapshot, Map<Kind, Set<String>> changes, References refs) {
    var wanted = wanted(snapshot, changes, refs);
    SslCompiler.clientCertificates(wanted, snapshot.items(Kind.SSLS));
    return upstreams.update(discover(wanted));
  }

  private Map<String, Upstream> wanted(
      ConfigSnapshot snapshot, Map<Kind, Set<String>> changes, References refs) {
    var wanted = new HashMap<String, Upstream>();
    snapshot
        .items(Kind.UPSTREAMS)
        .forEach((id, item) -> wanted.put(Keys.item(Kind.UPSTREAMS, id), (Upstream) item.value()));
    snapshot
        .items(Kind.SERVICES)
        .forEach(
            (id, item) -> {
              var s = (Service) item.value();
              if (s.upstream() != null) {
                wanted.put(Keys.item(Kind.SERVICES, id), s.upstream());
              }
            });
    var withInline = registry.withInlineUpstreams();
    if (!withInline.equals(inlineUpstreamPlugins)) {
      inlineUpstreamPlugins = withInline;
      byRoute.clear();
      routesWanted.clear();
    }
    var routes = snapshot.items(Kind.ROUTES);
    if (changes == null
        || byRoute.isEmpty()
        || changes.containsKey(Kind.SERVICES)
        || changes.containsKey(Kind.PLUGIN_CONFIGS)) {
      // What every route depends on may have changed: each is looked at (by identity).
      routes.forEach((id, item) -> route(id, item, refs));
      if (byRoute.size() > routes.size()) {
        for (var it = byRoute.entrySet().iterator(); it.hasNext(); ) {
          var e = it.next();
          if (!routes.containsKey(e.getKey())) {
            it.remove();
            routesWanted.keySet().removeAll(e.getValue().upstreams.keySet());
          }
        }
      }
    } else {
      for (var id : changes.getOrDefault(Kind.ROUTES, Set.of())) {
        var item = routes.get(id);
        if (item != null) {
          route(id, item, refs);
        } else {
          var gone = byRoute.remove(id);
          if (gone != null) {
            routesWanted.keySet().removeAll(gone.upstreams.keySet());
          }
        }
      }
    }
    wanted.putAll(routesWanted);
    snapshot
        .items(Kind.STREAM_ROUTES)
        .forEach(
            (id, item) -> {
              var r = (StreamRoute) item.value();
              if (r.upstream() != null) {
                wanted.put(Keys.item(Kind.STREAM_ROUTES, id), r.upstream());
              }
            });
    return wanted;
  }

  /** Works out a route's upstreams again if what they depend on is another object than before. */
  private void route(String id, ConfigItem item, References refs) {
    var r = (Route) item.value();
    var serviceItem = refs.service(r.serviceId());
    var pcItem = refs.pluginConfig(r.pluginConfigId());
    var known = byRoute.get(id);
    if (known != null
        && known.route == item
        && known.service == serviceItem
        && known.pluginConfig == pcItem) {
      return;
    }
    if (known != null) {
      routesWanted.keySet().removeAll(known.upstreams.keySet());
    }
    known = new RouteUpstreams(item, serviceItem, pcItem, routeUpstreams(id, r, serviceItem, refs));
    byRoute.put(id, known);
    routesWanted.putAll(known.upstreams);
  }

  /**
   * The upstreams a route carries (its inline one, its plugins' inline ones), by key: what it
   * depends on is its item, its service's and its plugin config's, so they are worked out again
   * only when one of those is another object than at the last compile. A change then costs a look
   * at each route, not parsing their plugins' upstreams again.
   */
  private Map<String, Upstream> routeUpstreams(
      String id, Route r, ConfigItem serviceItem, References refs) {
    var out = new HashMap<String, Upstream>();
    var key = Keys.item(Kind.ROUTES, id);
    if (r.upstream() != null) {
      out.put(key, r.upstream());
    }
    for (var p : inlineUpstreamPlugins) {
      var conf = refs.plugin(p.name(), r, serviceItem);
      if (conf != null) {
        inlineUpstreams(p, key, conf, out);
      }
    }
    return out.isEmpty() ? Map.of() : out;
  }

  private record RouteUpstreams(
      ConfigItem route,
      ConfigItem service,
      ConfigItem pluginConfig,
      Map<String, Upstream> upstreams) {}

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
                Rejections.log.warn("{}: not served: {}", key, ex.getMessage());
              }
            });
  }

  /**
   * Upstreams with {@code discovery_type: kubernetes} get the nodes discovery has for their Service
   * now; discovery watches exactly the Services referenced.
   */
  private Map<String, Upstream> discover(Map<String, Upstream> wanted) {
    var names = new HashSet<String>();
    for (var up : wanted.values()) {
      if (DNS.equals(up.discoveryType()) && up.serviceName() != null) {
        names.add(up.serviceName());
      }
    }
    // New names are resolved before their upstreams are compiled (off the event loops: this is
    // the config source's thread), so a new upstream does not start with no nodes.
    dns.retain(names);
    var services = new HashSet<String>();
    var subsets = new HashSet<String>();
    for (var e : wanted.entrySet()) {
      var up = e.getValue();
      if (DNS.equals(up.discoveryType()) && up.serviceName() != null) {
        e.setValue(up.withNodes(UpstreamNodes.list(dns.nodes(up.serviceName()))));
      } else if (KUBERNETES.equals(up.discoveryType()) && up.serviceName() != null) {
        services.add(up.serviceName());
        var labels = subsetLabels(up);
        int slash = up.serviceName().indexOf('/');
        if (!labels.isEmpty() && slash > 0) {
          subsets.add(KubernetesDiscovery.subsetKey(up.serviceName().substring(0, slash), labels));
        }
        var nodes =
            discovery == null ? List.<UpstreamNode>of() : discovery.nodes(up.serviceName(), labels);
        e.setValue(up.withNodes(UpstreamNodes.list(nodes)));
      }
    }
    if (discovery != null) {
      discovery.retain(services, subsets);
    }
    return wanted;
  }

  /** {@code discovery_args.labels}: a subset, the Pods that carry these labels. */
  private static Map<String, String> subsetLabels(Upstream up) {
    var args = up.discoveryArgs();
    var labels = args == null ? null : args.get("labels");
    if (labels == null || !labels.isObject()) {
      return Map.of();
    }
    var out = new TreeMap<String, String>();
    labels.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }
}
