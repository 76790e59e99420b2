package io.archway.dataplane.route;

import io.archway.dataplane.support.ShardedMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The routes of one host bucket by path. Exact paths sit in a hash map, prefixes ({@code /api/*})
 * in a character trie, parameter paths ({@code /users/:id}) in a segment trie, so a lookup costs
 * the length of the path, not the number of routes. Candidates are tried exact first, then
 * parameter paths, then prefixes longest first; routes on the same path by priority, higher first.
 */
final class PathIndex<T> {

  private final Map<String, List<RouteEntry<T>>> exactBuild = new HashMap<>();
  private final CharNode<T> prefixes;
  private final SegmentNode<T> params;
  // Sharded by the path's hash: a change copies one shard, not every exact path of the host.
  private ShardedMap<String, RouteEntry<T>[]> exact;
  private int size;

  PathIndex() {
    this.prefixes = new CharNode<>();
    this.params = new SegmentNode<>();
  }

  private PathIndex(
      ShardedMap<String, RouteEntry<T>[]> exact,
      CharNode<T> prefixes,
      SegmentNode<T> params,
      int size) {
    this.exact = exact;
    this.prefixes = prefixes;
    this.params = params;
    this.size = size;
  }

  /** How many (path, route) pairs the index holds. */
  int size() {
    return size;
  }

  void add(String path, RouteEntry<T> e) {
    size++;
    if (path.indexOf(':') >= 0) {
      params.add(path, 1, e);
    } else if (path.endsWith("*")) {
      prefixes.add(path, 0, path.length() - 1, e);
    } else {
      exactBuild.computeIfAbsent(path, k -> new ArrayList<>()).add(e);
    }
  }

  @SuppressWarnings("unchecked")
  PathIndex<T> seal() {
    var sorted = new HashMap<String, RouteEntry<T>[]>(exactBuild.size() * 2);
    exactBuild.forEach((k, v) -> sorted.put(k, Router.sorted(v)));
    exact = ShardedMap.copyOf(sorted);
    exactBuild.clear();
    prefixes.seal();
    params.seal();
    return this;
  }

  /**
   * A new sealed index with the routes on {@code edits}' paths changed, sharing everything else
   * with this one: on each path, the routes whose id is in {@code changedIds} leave and the given
   * routes join, ordered as {@link #seal} orders them. Only what lies on the changed paths is
   * copied: the touched shards of the exact paths, the tries' nodes on the path.
   */
  PathIndex<T> with(Map<String, List<RouteEntry<T>>> edits, Set<String> changedIds) {
    ShardedMap.Editor<String, RouteEntry<T>[]> nextExact = null;
    var nextPrefixes = prefixes;
    var nextParams = params;
    int[] nextSize = {size};
    for (var edit : edits.entrySet()) {
      var path = edit.getKey();
      UnaryOperator<RouteEntry<T>[]> change =
          before -> {
            var list = new ArrayList<RouteEntry<T>>();
            if (before != null) {
              for (var e : before) {
                if (changedIds.contains(e.id())) {
                  nextSize[0]--;
                } else {
                  list.add(e);
                }
              }
            }
            list.addAll(edit.getValue());
            nextSize[0] += edit.getValue().size();
            return list.isEmpty() ? null : Router.sorted(list);
          };
      if (path.indexOf(':') >= 0) {
        nextParams = nextParams.with(path, 1, change);
      } else if (path.endsWith("*")) {
        nextPrefixes = nextPrefixes.with(path, 0, path.length() - 1, change);
      } else {
        if (nextExact == null) {
          nextExact = exact.edit();
        }
        var routes = change.apply(nextExact.get(path));
        if (routes == null) {
          nextExact.remove(path);
        } else {
          nextExact.put(path, routes);
        }
      }
    }
    return new PathIndex<>(
        nextExact == null ? exact : nextExact.build(), nextPrefixes, nextParams, nextSize[0]);
  }

  RouteEntry<T> match(RequestVars r) {
    var path = r.routingPath();
    var hit = Router.first(exact.get(path), r);
    if (hit != null) {
      return hit;
    }
    hit = params.match(path, 1, r);
    if (hit != null) {
      return hit;
    }
    return prefixes.match(path, 0, r);
  }

  /** A trie over characters; a node holds the routes whose prefix ends there. */
  private static final class CharNode<T> {
    private final Map<Character, CharNode<T>> build = new HashMap<>();
    private List<RouteEntry<T>> entriesBuild;
    private char[] keys = new char[0];
    private CharNode<T>[] kids;
    private RouteEntry<T>[] entries;

    /** A sealed copy with the routes where {@code s[i, end)} ends changed: path copying. */
    @SuppressWarnings("unchecked")
    CharNode<T> with(String s, int i, int end, UnaryOperator<RouteEntry<T>[]> change) {
      var copy = new CharNode<T>();
      copy.keys = keys;
      copy.kids = kids;
      copy.entries = entries;
      if (i == end) {
        copy.entries = change.apply(entries);
        return copy;
      }
      char c = s.charAt(i);
      int k = Arrays.binarySearch(keys, c);
      if (k >= 0) {
        copy.kids = kids.clone();
        copy.kids[k] = kids[k].with(s, i + 1, end, change);
      } else {
        int at = -k - 1;
        var empty = new CharNode<T>();
        copy.keys = new char[keys.length + 1];
        copy.kids = new CharNode[keys.length + 1];
        System.arraycopy(keys, 0, copy.keys, 0, at);
        System.arraycopy(keys, at, copy.keys, at + 1, keys.length - at);
        if (kids != null) {
          System.arraycopy(kids, 0, copy.kids, 0, at);
          System.arraycopy(kids, at, copy.kids, at + 1, keys.length - at);
        }
        copy.keys[at] = c;
        copy.kids[at] = empty.with(s, i + 1, end, change);
      }
      return copy;
    }

    void add(String s, int i, int end, RouteEntry<T> e) {
      if (i == end) {
        if (entriesBuild == null) {
          entriesBuild = new ArrayList<>();
        }
        entriesBuild.add(e);
        return;
      }
      build.computeIfAbsent(s.charAt(i), c -> new CharNode<>()).add(s, i + 1, end, e);
    }

    @SuppressWarnings("unchecked")
    void seal() {
      keys = new char[build.size()];
      int n = 0;
      for (var c : build.keySet()) {
        keys[n++] = c;
      }
      Arrays.sort(keys);
      kids = new CharNode[keys.length];
      for (int i = 0; i < keys.length; i++) {
        kids[i] = build.get(keys[i]);
        kids[i].seal();
      }
      build.clear();
      entries = entriesBuild == null ? null : Router.sorted(entriesBuild);
      entriesBuild = null;
    }

    /** The longest prefix first: descend as far as the path goes, then try on the way back. */
    RouteEntry<T> match(String path, int i, RequestVars r) {
      if (i < path.length() && keys.length > 0) {
        int k = Arrays.binarySearch(keys, path.charAt(i));
        if (k >= 0) {
          var hit = kids[k].match(path, i + 1, r);
          if (hit != null) {
            return hit;
          }
        }
      }
      return Router.first(entries, r);
    }
  }

  /**
   * A trie over path segments: static segments, one {@code :param} child, and routes ending in
   * {@code *} after a parameter (the rest of the path).
   */
  private static final class SegmentNode<T> {
    private Map<String, SegmentNode<T>> statics = new HashMap<>();
    private SegmentNode<T> param;
    private List<RouteEntry<T>> endBuild;
    private List<RouteEntry<T>> restBuild;
    private RouteEntry<T>[] end;
    private RouteEntry<T>[] rest;

    private SegmentNode<T> copy() {
      var copy = new SegmentNode<T>();
      copy.statics = statics.isEmpty() ? Map.of() : statics;
      copy.param = param;
      copy.end = end;
      copy.rest = rest;
      return copy;
    }

    /** A sealed copy with the routes of {@code path} (from {@code i}) changed, as {@link #add}. */
    SegmentNode<T> with(String path, int i, UnaryOperator<RouteEntry<T>[]> change) {
      int slash = path.indexOf('/', i);
      var seg = slash < 0 ? path.substring(i) : path.substring(i, slash);
      var copy = copy();
      if (slash < 0 && seg.startsWith("*")) {
        copy.rest = change.apply(rest);
        return copy;
      }
      boolean isParam = seg.startsWith(":");
      var next = isParam ? param : statics.get(seg);
      if (next == null) {
        next = new SegmentNode<T>().copy();
      }
      SegmentNode<T> changed;
      if (slash < 0) {
        changed = next.copy();
        changed.end = change.apply(next.end);
      } else {
        changed = next.with(path, slash + 1, change);
      }
      if (isParam) {
        copy.param = changed;
      } else {
        var statics = new HashMap<>(copy.statics);
        statics.put(seg, changed);
        copy.statics = Map.copyOf(statics);
      }
      return copy;
    }

    /** {@code i} is the index just past a '/'. */
    void add(String path, int i, RouteEntry<T> e) {
      int slash = path.indexOf('/', i);
      var seg = slash < 0 ? path.substring(i) : path.substring(i, slash);
      if (slash < 0 && seg.startsWith("*")) {
        if (restBuild == null) {
          restBuild = new ArrayList<>();
        }
        restBuild.add(e);
        return;
      }
      SegmentNode<T> next;
      if (seg.startsWith(":")) {
        if (param == null) {
          param = new SegmentNode<>();
        }
        next = param;
      } else {
        next = statics.computeIfAbsent(seg, s -> new SegmentNode<>());
      }
      if (slash < 0) {
        if (next.endBuild == null) {
          next.endBuild = new ArrayList<>();
        }
        next.endBuild.add(e);
      } else {
        next.add(path, slash + 1, e);
      }
    }

    void seal() {
      statics.values().forEach(SegmentNode::seal);
      statics = statics.isEmpty() ? Map.of() : Map.copyOf(statics);
      if (param != null) {
        param.seal();
      }
      end = endBuild == null ? null : Router.sorted(endBuild);
      rest = restBuild == null ? null : Router.sorted(restBuild);
      endBuild = null;
      restBuild = null;
    }

    RouteEntry<T> match(String path, int i, RequestVars r) {
      if (i > path.length()) {
        return null;
      }
      int slash = path.indexOf('/', i);
      int segEnd = slash < 0 ? path.length() : slash;
      if (!statics.isEmpty()) {
        var next = statics.get(path.substring(i, segEnd));
        if (next != null) {
          var hit = slash < 0 ? Router.first(next.end, r) : next.match(path, slash + 1, r);
          if (hit != null) {
            return hit;
          }
        }
      }
      if (param != null && segEnd > i) {
        var hit = slash < 0 ? Router.first(param.end, r) : param.match(path, slash + 1, r);
        if (hit != null) {
          return hit;
        }
      }
      return Router.first(rest, r);
    }
  }
}
