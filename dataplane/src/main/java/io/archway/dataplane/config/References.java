package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.PluginConfig;
import io.archway.model.Route;
import io.archway.model.Service;
import io.archway.model.Upstream;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What routes and stream routes refer to by id, resolved in one snapshot: their service ({@code
 * service_id}), their plugin config ({@code plugin_config_id}), the upstream they send to (inline,
 * their service's, or {@code upstream_id}) and the plugins they run by APISIX's precedence.
 * Services and plugin configs are compiled nowhere else: they are what routes resolve here.
 */
final class References {

  private final Map<String, ConfigItem> services;
  private final Map<String, ConfigItem> pluginConfigs;
  private Map<String, UpstreamRuntime> runtimes = Map.of();

  References(ConfigSnapshot snapshot) {
    this.services = snapshot.items(Kind.SERVICES);
    this.pluginConfigs = snapshot.items(Kind.PLUGIN_CONFIGS);
  }

  /** The upstream runtimes of this compile, once the upstreams are compiled. */
  void runtimes(Map<String, UpstreamRuntime> runtimes) {
    this.runtimes = runtimes;
  }

  Map<String, UpstreamRuntime> runtimes() {
    return runtimes;
  }

  /** The service item a route names, or {@code null} (none named, or missing). */
  ConfigItem service(String serviceId) {
    return serviceId == null ? null : services.get(serviceId);
  }

  /** The plugin config item a route names, or {@code null} (none named, or missing). */
  ConfigItem pluginConfig(String pluginConfigId) {
    return pluginConfigId == null ? null : pluginConfigs.get(pluginConfigId);
  }

  /**
   * The runtime of an inline upstream a route (HTTP or stream) sends to: its own (under {@code
   * ownKey}), else its service's when it names no {@code upstream_id}; {@code null} when it sends
   * to an upstream object.
   */
  UpstreamRuntime inlineUpstream(String ownKey, Upstream own, String upstreamId, String serviceId) {
    if (own != null) {
      return runtimes.get(ownKey);
    }
    if (upstreamId == null && serviceId != null) {
      return runtimes.get(Keys.item(Kind.SERVICES, serviceId));
    }
    return null;
  }

  /** The key of the upstream object a route without an inline upstream sends to, or null. */
  static String upstreamKey(String upstreamId, ConfigItem serviceItem) {
    var service = serviceItem == null ? null : (Service) serviceItem.value();
    var id = upstreamId != null ? upstreamId : service == null ? null : service.upstreamId();
    return id == null ? null : Keys.item(Kind.UPSTREAMS, id);
  }

  /**
   * Where a route's plugins come from, by APISIX's precedence, lowest first: its service's, its
   * own, its plugin config's.
   */
  private List<Map<String, ObjectNode>> pluginSources(Route route, ConfigItem serviceItem) {
    var service = serviceItem == null ? null : (Service) serviceItem.value();
    var pcItem = pluginConfig(route.pluginConfigId());
    var out = new ArrayList<Map<String, ObjectNode>>(3);
    if (service != null && service.plugins() != null) {
      out.add(service.plugins());
    }
    if (route.plugins() != null) {
      out.add(route.plugins());
    }
    if (pcItem != null) {
      out.add(((PluginConfig) pcItem.value()).plugins());
    }
    return out;
  }

  /** The plugins a route runs: its sources merged, a later one's plugin replacing an earlier's. */
  Map<String, ObjectNode> plugins(Route route, ConfigItem serviceItem) {
    var sources = pluginSources(route, serviceItem);
    if (sources.isEmpty()) {
      return Map.of();
    }
    var out = new LinkedHashMap<String, ObjectNode>();
    sources.forEach(out::putAll);
    return out;
  }

  /** The configuration of one plugin the route runs, or {@code null}, without merging them all. */
  ObjectNode plugin(String name, Route route, ConfigItem serviceItem) {
    var sources = pluginSources(route, serviceItem);
    for (int i = sources.size() - 1; i >= 0; i--) {
      var conf = sources.get(i).get(name);
      if (conf != null) {
        return conf;
      }
    }
    return null;
  }
}
