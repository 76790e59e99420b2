package io.archway.dataplane.route;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the route for a request, as APISIX's {@code radixtree_host_uri} router does: routes whose
 * host matches exactly first, then those matching a {@code *.wildcard} host (one level), then
 * routes with no host; within each, by path (see {@link PathIndex}). Immutable once built; a new
 * one is built from reused {@link RouteEntry}s on every config change.
 */
public final class Router<T> {

  private static final Comparator<RouteEntry<?>> ORDER =
      Comparator.<RouteEntry<?>>comparingInt(RouteEntry::priority)
          .reversed()
          .thenComparing(RouteEntry::id);

  private final Map<String, PathIndex<T>> exactHosts;
  private final Map<String, PathIndex<T>> wildcardHosts;
  private final PathIndex<T> anyHost;
  private final int size;

  private Router(
      Map<String, PathIndex<T>> exactHosts,
      Map<String, PathIndex<T>> wildcardHosts,
      PathIndex<T> anyHost,
      int size) {
    this.exactHosts = exactHosts;
    this.wildcardHosts = wildcardHosts;
    this.anyHost = anyHost;
    this.size = size;
  }

  public static <T> Router<T> empty() {
    return build(List.of());
  }

  /** Indexes {@code entries}; cost is linear in the number of (host, path) pairs. */
  public static <T> Router<T> build(Collection<RouteEntry<T>> entries) {
    var exact = new HashMap<String, PathIndex<T>>();
    var wildcard = new HashMap<String, PathIndex<T>>();
    var any = new PathIndex<T>();
    for (var e : entries) {
      var paths = e.route().paths();
      if (e.hosts().isEmpty()) {
        paths.forEach(p -> any.add(p, e));
        continue;
      }
      for (var h : e.hosts()) {
        var host = h.toLowerCase(java.util.Locale.ROOT);
        var index =
            host.startsWith("*.")
                ? wildcard.computeIfAbsent(host.substring(1), k -> new PathIndex<>())
                : exact.computeIfAbsent(host, k -> new PathIndex<>());
        paths.forEach(p -> index.add(p, e));
      }
    }
    exact.values().forEach(PathIndex::seal);
    wildcard.values().forEach(PathIndex::seal);
    return new Router<>(exact, wildcard, any.seal(), entries.size());
  }

  int size() {
    return size;
  }

  /**
   * The route for the request, or {@code null} for a 404. Routing uses the normalized path; a
   * matched route with {@code raw_path} then has the request show its raw path to its plugins and
   * upstream ({@link RequestVars#useRawPath}).
   */
  public RouteEntry<T> match(RequestVars r) {
    var hit = find(r);
    if (hit != null && hit.rawPath()) {
      r.useRawPath();
    }
    return hit;
  }

  private RouteEntry<T> find(RequestVars r) {
    var host = r.host();
    if (!host.isEmpty()) {
      if (!exactHosts.isEmpty()) {
        var index = exactHosts.get(host);
        if (index != null) {
          var hit = index.match(r);
          if (hit != null) {
            return hit;
          }
        }
      }
      if (!wildcardHosts.isEmpty()) {
        int dot = host.indexOf('.');
        if (dot > 0) {
          var index = wildcardHosts.get(host.substring(dot));
          if (index != null) {
            var hit = index.match(r);
            if (hit != null) {
              return hit;
            }
          }
        }
      }
    }
    return anyHost.match(r);
  }

  @SuppressWarnings("unchecked")
  static <T> RouteEntry<T>[] sorted(List<RouteEntry<T>> list) {
    var copy = new ArrayList<>(list);
    copy.sort(ORDER);
    return copy.toArray(RouteEntry[]::new);
  }

  static <T> RouteEntry<T> first(RouteEntry<T>[] candidates, RequestVars r) {
    if (candidates == null) {
      return null;
    }
    for (var e : candidates) {
      if (e.matches(r)) {
        return e;
      }
    }
    return null;
  }
}
