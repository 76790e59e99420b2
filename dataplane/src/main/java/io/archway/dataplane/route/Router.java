package io.archway.dataplane.route;

import io.archway.dataplane.support.ShardedMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Finds the route for a request, as APISIX's {@code radixtree_host_uri} router does: routes whose
 * host matches exactly first, then those matching a {@code *.wildcard} host (any name ending in the
 * suffix, the longest suffix first), then routes with no host; within each, by path (see {@link
 * PathIndex}). Immutable once built: the first config is indexed by {@link #build}, each change
 * after by {@link #update}, which makes a new router sharing every host bucket and path the change
 * does not touch. Ids are unique among the entries a router holds.
 */
public final class Router<T> {

  private static final Comparator<RouteEntry<?>> ORDER =
      Comparator.<RouteEntry<?>>comparingInt(RouteEntry::priority)
          .reversed()
          .thenComparing(RouteEntry::id);

  // Sharded: an update copies the shards of the hosts it touches, not a map of every host.
  private final ShardedMap<String, PathIndex<T>> exactHosts;
  private final ShardedMap<String, PathIndex<T>> wildcardHosts;
  private final PathIndex<T> anyHost;
  private final int size;

  private Router(
      ShardedMap<String, PathIndex<T>> exactHosts,
      ShardedMap<String, PathIndex<T>> wildcardHosts,
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
    return new Router<>(
        ShardedMap.copyOf(exact), ShardedMap.copyOf(wildcard), any.seal(), entries.size());
  }

  /**
   * The router {@code build} would make of this one's routes with {@code removed} taken out and
   * {@code added} put in (a changed route is in both: its old entry and its new one). Only the host
   * buckets and paths of those entries are touched; each path's routes are ordered as {@code build}
   * orders them, so matching is exactly the same. The cost is that of the changed routes, not of
   * the routes held: nothing here is proportional to the number of routes.
   *
   * @param removed the entries this router holds that leave it (as it was given them)
   * @param added the new entries; an id in both replaces the old entry
   */
  public Router<T> update(Collection<RouteEntry<T>> removed, Collection<RouteEntry<T>> added) {
    if (removed.isEmpty() && added.isEmpty()) {
      return this;
    }
    var changedIds = new HashSet<String>();
    // bucket ("=" exact host, "." wildcard suffix, "" any host) -> path -> routes joining it
    var edits = new HashMap<String, Map<String, List<RouteEntry<T>>>>();
    for (var old : removed) {
      changedIds.add(old.id());
      forEachPair(old, (bucket, path) -> edit(edits, bucket, path));
    }
    for (var e : added) {
      changedIds.add(e.id());
      forEachPair(e, (bucket, path) -> edit(edits, bucket, path).add(e));
    }
    ShardedMap.Editor<String, PathIndex<T>> exact = null;
    ShardedMap.Editor<String, PathIndex<T>> wildcard = null;
    var any = anyHost;
    for (var edit : edits.entrySet()) {
      var bucket = edit.getKey();
      if (bucket.isEmpty()) {
        any = any.with(edit.getValue(), changedIds);
        continue;
      }
      boolean isExact = bucket.charAt(0) == '=';
      var host = isExact ? bucket.substring(1) : bucket;
      if (isExact && exact == null) {
        exact = exactHosts.edit();
      } else if (!isExact && wildcard == null) {
        wildcard = wildcardHosts.edit();
      }
      var map = isExact ? exact : wildcard;
      var before = map.get(host);
      var after =
          (before == null ? Router.<T>emptyIndex() : before).with(edit.getValue(), changedIds);
      if (after.size() == 0) {
        map.remove(host);
      } else {
        map.put(host, after);
      }
    }
    return new Router<>(
        exact == null ? exactHosts : exact.build(),
        wildcard == null ? wildcardHosts : wildcard.build(),
        any,
        size - removed.size() + added.size());
  }

  private static <T> PathIndex<T> emptyIndex() {
    return new PathIndex<T>().seal();
  }

  private static <T> List<RouteEntry<T>> edit(
      Map<String, Map<String, List<RouteEntry<T>>>> edits, String bucket, String path) {
    return edits
        .computeIfAbsent(bucket, k -> new HashMap<>())
        .computeIfAbsent(path, k -> new ArrayList<>());
  }

  /** Each (host bucket, path) pair {@code build} indexes the route under, as {@code build} does. */
  private static void forEachPair(RouteEntry<?> e, BiConsumer<String, String> pair) {
    var paths = e.route().paths();
    if (e.hosts().isEmpty()) {
      paths.forEach(p -> pair.accept("", p));
      return;
    }
    for (var h : e.hosts()) {
      var host = h.toLowerCase(java.util.Locale.ROOT);
      var bucket = host.startsWith("*.") ? host.substring(1) : "=" + host;
      paths.forEach(p -> pair.accept(bucket, p));
    }
  }

  /** How many routes the router holds. */
  int size() {
    return size;
  }

  /**
   * The route for the request, or {@code null} for a 404. Routing uses the normalized path; a
   * matched route with {@code raw_path} then has the request show its raw path to its plugins and
   * upstream ({@link RequestVars#useRawPath}).
   *
   * <p>Routes are tried in order (host, path, priority). When the next one to try matches on the
   * request body ({@code post_arg.*}) and the body's fields are not known yet, the answer is {@code
   * null} with {@link RequestVars#awaitsBody()}: read the body, give its fields to the request
   * ({@link RequestVars#bodyValues}) and match again, which decides that route and goes on to the
   * next ones if it does not match. A request whose route is found before any such route never
   * waits for its body.
   */
  public RouteEntry<T> match(RequestVars r) {
    var hit = find(r);
    if (r.awaitsBody()) {
      return null;
    }
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
        // *.example.com matches any name ending in .example.com, however many labels come
        // before (lua-resty-radixtree's suffix match); the longest matching suffix first.
        for (int dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
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
