package io.archway.dataplane.config;

import io.archway.dataplane.exchange.HttpRouteStats;
import io.archway.dataplane.flow.CompiledFlow;
import io.archway.dataplane.flow.FlowStats;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.RouteEntry;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.Problem;
import io.archway.model.Route;
import io.archway.model.Service;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * HTTP routes: each enabled route becomes a {@link RouteEntry} for the router, with its {@link
 * CompiledRoute} (plugins merged from its service and plugin config, upstream resolved, inline flow
 * compiled). Incremental: a route keeps its entry — or stays rejected, without a second warning —
 * while its item, its service item, its plugin config item and its inline upstream's runtime are
 * the same objects as at the last compile.
 */
final class RouteCompiler {

  private final PluginRegistry registry;
  private final PluginServices services;
  private final HttpRouteStats.Source stats;
  // The ids whose counters were asked for: those still in the config keep them; the others are
  // forgotten when they leave it.
  private final Set<String> statsIds = new HashSet<>();
  private HashMap<String, Cached> cache = new HashMap<>();
  private int rejectedCount;
  // The entries of the routes forgotten since the last compile: the router still holds them.
  private Map<String, RouteEntry<CompiledRoute>> forgotten = new HashMap<>();
  private List<RouteEntry<CompiledRoute>> changedEntries = List.of();
  private List<RouteEntry<CompiledRoute>> removedEntries = List.of();

  /** A route's compiled entry, or why it is not served ({@code entry == null}). */
  private record Cached(
      ConfigItem route,
      ConfigItem service,
      ConfigItem pluginConfig,
      UpstreamRuntime inline,
      RouteEntry<CompiledRoute> entry) {}

  RouteCompiler(PluginRegistry registry, PluginServices services, HttpRouteStats.Source stats) {
    this.registry = registry;
    this.services = services;
    this.stats = stats;
  }

  /** Forgets every compiled route: the next compile compiles them all (the protos changed). */
  void forget() {
    cache.forEach(
        (id, c) -> {
          if (c.entry != null) {
            forgotten.put(id, c.entry);
          } else {
            forgotten.putIfAbsent(id, null);
          }
        });
    cache = new HashMap<>();
  }

  /**
   * The entries of the enabled routes that compile; the others are counted in {@code rejections}.
   */
  List<RouteEntry<CompiledRoute>> compile(
      Map<String, ConfigItem> routes, References refs, Rejections rejections) {
    var nextCache = new HashMap<String, Cached>(routes.size() * 2);
    var entries = new ArrayList<RouteEntry<CompiledRoute>>(routes.size());
    var touched = new HashSet<String>(forgotten.keySet());
    var forgotten = this.forgotten;
    this.forgotten = new HashMap<>();
    for (var e : routes.entrySet()) {
      var id = e.getKey();
      var item = e.getValue();
      var route = (Route) item.value();
      if (!route.enabled()) {
        continue;
      }
      var serviceItem = refs.service(route.serviceId());
      var inline =
          refs.inlineUpstream(
              Keys.item(Kind.ROUTES, id), route.upstream(), route.upstreamId(), route.serviceId());
      var pcItem = refs.pluginConfig(route.pluginConfigId());
      var before = cache.get(id);
      if (before != null
          && before.route == item
          && before.service == serviceItem
          && before.pluginConfig == pcItem
          && before.inline == inline) {
        nextCache.put(id, before);
        if (before.entry != null) {
          entries.add(before.entry);
        } else {
          rejections.count(Kind.ROUTES, 1);
        }
        continue;
      }
      RouteEntry<CompiledRoute> entry = null;
      touched.add(id);
      try {
        entry = compile(id, route, serviceItem, pcItem, refs, inline);
        entries.add(entry);
      } catch (RuntimeException ex) {
        rejections.reject(Kind.ROUTES, id, "not served", ex.getMessage());
      }
      nextCache.put(id, new Cached(item, serviceItem, pcItem, inline, entry));
    }
    var changedEntries = new ArrayList<RouteEntry<CompiledRoute>>();
    var removedEntries = new ArrayList<RouteEntry<CompiledRoute>>();
    nextCache.forEach(
        (id, c) -> {
          var before = cache.get(id);
          if (before == null || before.entry != c.entry) {
            var old = before != null ? before.entry : forgotten.get(id);
            if (old != null) {
              removedEntries.add(old);
            }
            if (c.entry != null) {
              changedEntries.add(c.entry);
            }
          }
        });
    cache.forEach(
        (id, c) -> {
          if (!nextCache.containsKey(id)) {
            touched.add(id);
            if (c.entry != null) {
              removedEntries.add(c.entry);
            }
          }
        });
    forgotten.forEach(
        (id, old) -> {
          if (old != null && !nextCache.containsKey(id) && !cache.containsKey(id)) {
            removedEntries.add(old);
          }
        });
    cache = nextCache;
    forgetFlows(touched);
    statsIds.removeIf(
        id -> {
          if (routes.containsKey(id)) {
            return false;
          }
          stats.forget(id);
          services.metrics().forget(id);
          return true;
        });
    rejectedCount = 0;
    for (var c : nextCache.values()) {
      if (c.entry == null) {
        rejectedCount++;
      }
    }
    this.changedEntries = changedEntries;
    this.removedEntries = removedEntries;
    return entries;
  }

  /**
   * Compiles the routes {@code ids} only (put, changed or deleted since the last compile), when
   * nothing else a route depends on changed: no service, plugin config or upstream runtime (see
   * {@link ConfigCompiler}). The other routes keep their entries (or stay rejected, counted again)
   * without being visited, so a change costs the routes it touches.
   */
  void update(
      Set<String> ids, Map<String, ConfigItem> routes, References refs, Rejections rejections) {
    var changedEntries = new ArrayList<RouteEntry<CompiledRoute>>();
    var removedEntries = new ArrayList<RouteEntry<CompiledRoute>>();
    int rejectedKept = rejectedCount;
    for (var id : ids) {
      var before = cache.remove(id);
      if (before != null) {
        if (before.entry == null) {
          rejectedKept--;
        } else {
          removedEntries.add(before.entry);
        }
      } else if (forgotten.get(id) != null) {
        removedEntries.add(forgotten.remove(id));
      }
    }
    if (rejectedKept > 0) {
      rejections.count(Kind.ROUTES, rejectedKept);
    }
    int rejectedNow = rejectedKept;
    for (var id : ids) {
      var item = routes.get(id);
      if (item == null || !((Route) item.value()).enabled()) {
        continue;
      }
      var route = (Route) item.value();
      var serviceItem = refs.service(route.serviceId());
      var inline =
          refs.inlineUpstream(
              Keys.item(Kind.ROUTES, id), route.upstream(), route.upstreamId(), route.serviceId());
      var pcItem = refs.pluginConfig(route.pluginConfigId());
      RouteEntry<CompiledRoute> entry = null;
      try {
        entry = compile(id, route, serviceItem, pcItem, refs, inline);
        changedEntries.add(entry);
      } catch (RuntimeException ex) {
        rejections.reject(Kind.ROUTES, id, "not served", ex.getMessage());
        rejectedNow++;
      }
      cache.put(id, new Cached(item, serviceItem, pcItem, inline, entry));
    }
    rejectedCount = rejectedNow;
    forgetFlows(ids);
    for (var id : ids) {
      if (!routes.containsKey(id) && statsIds.remove(id)) {
        stats.forget(id);
        services.metrics().forget(id);
      }
    }
    this.changedEntries = changedEntries;
    this.removedEntries = removedEntries;
  }

  /**
   * Forgets the flow counters of the routes among {@code ids} (compiled again, deleted or disabled)
   * that no longer serve an inline flow, as {@link FlowCompiler} forgets stored flows.
   */
  private void forgetFlows(Set<String> ids) {
    var flowStats = FlowStats.of(services);
    for (var id : ids) {
      var c = cache.get(id);
      if (c == null || c.entry == null || c.entry.target().flow() == null) {
        flowStats.forget(Keys.item(Kind.ROUTES, id));
      }
    }
  }

  /**
   * The entries the last compile added or replaced (for {@link
   * io.archway.dataplane.route.Router#update}).
   */
  List<RouteEntry<CompiledRoute>> changedEntries() {
    return changedEntries;
  }

  /** The entries the last compile replaced or removed: those the router holds for them. */
  List<RouteEntry<CompiledRoute>> removedEntries() {
    return removedEntries;
  }

  /**
   * Lets go of the last compile's entry lists once the router is built from them: a removed route's
   * entry holds its plugins, and what they hold (a Redis client closed once unreachable) must not
   * wait for the next change.
   */
  void handedOver() {
    removedEntries = List.of();
    changedEntries = List.of();
  }

  private RouteEntry<CompiledRoute> compile(
      String id,
      Route route,
      ConfigItem serviceItem,
      ConfigItem pcItem,
      References refs,
      UpstreamRuntime inline) {
    var service = serviceItem == null ? null : (Service) serviceItem.value();
    if (route.pluginConfigId() != null && pcItem == null) {
      throw new IllegalArgumentException(
          "plugin_config_id: \""
              + route.pluginConfigId()
              + "\" (expected: an existing plugin config)");
    }
    var owner = Keys.item(Kind.ROUTES, id);
    var problems = new ArrayList<Problem>();
    var chain =
        registry.compile(
            refs.plugins(route, serviceItem),
            new PluginScope(owner, services),
            "plugins",
            problems);
    CompiledFlow flow = null;
    if (route.pluginFlow() != null) {
      var inner = new ArrayList<Problem>();
      flow = CompiledFlow.compile(route.pluginFlow(), owner, registry, services, inner);
      inner.forEach(p -> problems.add(new Problem("plugin_flow." + p.path(), p.message())));
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(Messages.join(problems));
    }
    var upstreamKey =
        inline == null ? References.upstreamKey(route.upstreamId(), serviceItem) : null;
    boolean websocket =
        route.enableWebsocket() != null
            ? route.enableWebsocket()
            : service != null && Boolean.TRUE.equals(service.enableWebsocket());
    var t = route.timeout();
    var target =
        new CompiledRoute(
            id,
            route,
            inline,
            upstreamKey,
            websocket,
            millis(t == null ? null : t.connect()),
            millis(t == null ? null : t.send()),
            millis(t == null ? null : t.read()),
            routeStats(id),
            chain,
            route.pluginFlowId(),
            flow);
    List<String> hosts =
        route.host() != null
            ? List.of(route.host())
            : route.hosts() != null
                ? route.hosts()
                : service != null && service.hosts() != null ? service.hosts() : List.of();
    return new RouteEntry<>(id, route, hosts, target);
  }

  private HttpRouteStats routeStats(String id) {
    statsIds.add(id);
    return stats.route(id);
  }

  private static long millis(Double seconds) {
    return seconds == null ? -1 : (long) (seconds * 1000);
  }
}
