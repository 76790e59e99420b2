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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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

  /** The runtimes of this snapshot's upstreams, by key. */
  Map<String, UpstreamRuntime> compile(ConfigSnapshot snapshot, References refs) {
    var wanted = wanted(snapshot, refs);
    SslCompiler.clientCertificates(wanted, snapshot.items(Kind.SSLS));
    return upstreams.update(discover(wanted));
  }

  private Map<String, Upstream> wanted(ConfigSnapshot snapshot, References refs) {
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
    }
    var routes = snapshot.items(Kind.ROUTES);
    routes.forEach(
        (id, item) -> {
          var r = (Route) item.value();
          var serviceItem = refs.service(r.serviceId());
          var pcItem = refs.pluginConfig(r.pluginConfigId());
          var known = byRoute.get(id);
          if (known == null
              || known.route != item
              || known.service != serviceItem
              || known.pluginConfig != pcItem) {
            known =
                new RouteUpstreams(
                    item, serviceItem, pcItem, routeUpstreams(id, r, serviceItem, refs));
            byRoute.put(id, known);
          }
          if (!known.upstreams.isEmpty()) {
            wanted.putAll(known.upstreams);
          }
        });
    if (byRoute.size() > routes.size()) {
      byRoute.keySet().removeIf(id -> !routes.containsKey(id));
    }
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

  /**
   * The upstreams a route carries (its inline one, its plugins' inline ones), by key: what it
   * depends on is its item, its service's and its plugin config's, so they are worked out again
   * only when one of those is another object than at the last compile. A change then costs a look
   * at each route, not parsing their plugins' upstreams again.
   */
  private Map<String, Upstream> routeUpstreams(
      String id, Route r, io.archway.model.source.ConfigItem serviceItem, References refs) {
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
      io.archway.model.source.ConfigItem route,
      io.archway.model.source.ConfigItem service,
      io.archway.model.source.ConfigItem pluginConfig,
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
