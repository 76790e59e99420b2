package io.archway.dataplane.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link Router#update} against {@link Router#build}: random sequences of routes added, changed and
 * removed (hosts exact, wildcard, mixed case and none; exact, prefix and parameter paths; few
 * priorities, so ties are frequent; methods), and after each step every probe request matches the
 * same route, in the same version, in the updated router as in one built from scratch. Seeded: a
 * failure names its seed.
 */
class RouterUpdateTest {

  private static final String[] HOSTS = {"a.com", "A.com", "*.a.com", "x.b.org", "*.b.org"};
  private static final String[] PATHS = {
    "/", "/a", "/a/b", "/a/*", "/a/b/*", "/*", "/u/:id", "/u/:id/x", "/u/:id/*", "/u/me", "/ab*"
  };
  private static final String[] PROBE_PATHS = {
    "/", "/a", "/a/b", "/a/bc", "/a/b/c", "/ab", "/abc", "/u/7", "/u/me", "/u/7/x", "/u/7/y/z", "/z"
  };
  private static final String[] PROBE_HOSTS = {"", "a.com", "www.a.com", "x.b.org", "y.b.org"};
  private static final String[] METHODS = {"GET", "POST"};

  @Test
  void updatedRouterMatchesAsOneBuiltFromScratch() throws Exception {
    for (long seed = 1; seed <= 60; seed++) {
      run(seed);
    }
  }

  private static void run(long seed) throws Exception {
    var rnd = new Random(seed);
    var routes = new TreeMap<String, RouteEntry<String>>();
    Router<String> router = Router.build(List.of());
    int version = 0;
    for (int step = 0; step < 40; step++) {
      var changed = new HashSet<String>();
      var removed = new ArrayList<RouteEntry<String>>();
      var added = new ArrayList<RouteEntry<String>>();
      int n = 1 + rnd.nextInt(step == 0 ? 30 : 4);
      for (int k = 0; k < n; k++) {
        var id = "r" + rnd.nextInt(25);
        if (changed.contains(id)) {
          continue;
        }
        changed.add(id);
        if (routes.containsKey(id) && rnd.nextInt(3) == 0) {
          removed.add(routes.remove(id));
        } else {
          var e = randomEntry(rnd, id, ++version);
          var old = routes.put(id, e);
          if (old != null) {
            removed.add(old);
          }
          added.add(e);
        }
      }
      router = router.update(removed, added);
      var scratch = Router.build(new ArrayList<>(routes.values()));
      assertThat(router.size()).as("seed %d step %d", seed, step).isEqualTo(scratch.size());
      for (var host : PROBE_HOSTS) {
        for (var path : PROBE_PATHS) {
          for (var method : METHODS) {
            assertThat(match(router, method, path, host))
                .as("seed %d step %d: %s %s host %s", seed, step, method, path, host)
                .isEqualTo(match(scratch, method, path, host));
          }
        }
      }
    }
  }

  /**
   * Thousands of exact paths on one host, added and removed one update at a time: the exact paths'
   * shards split as they grow, and every path still finds its route, the removed ones none.
   */
  @Test
  void manyExactPathsAddedAndRemovedOneByOne() throws Exception {
    Router<String> router = Router.build(List.of());
    var entries = new ArrayList<RouteEntry<String>>();
    for (int i = 0; i < 1200; i++) {
      var json =
          "{\"id\":\"e"
              + i
              + "\",\"uri\":\"/p"
              + i
              + "\",\"host\":\"a.com\",\"upstream_id\":\"u\"}";
      var route = (Route) ModelJson.read(Kind.ROUTES, json.getBytes(), null, "test");
      var e = new RouteEntry<>("e" + i, route, List.of("a.com"), "e" + i);
      entries.add(e);
      router = router.update(List.of(), List.of(e));
    }
    for (int i = 0; i < 1200; i += 2) {
      router = router.update(List.of(entries.get(i)), List.of());
    }
    assertThat(router.size()).isEqualTo(600);
    for (int i = 0; i < 1200; i++) {
      assertThat(match(router, "GET", "/p" + i, "a.com")).isEqualTo(i % 2 == 0 ? null : "e" + i);
    }
  }

  private static RouteEntry<String> randomEntry(Random rnd, String id, int version)
      throws Exception {
    var json = new StringBuilder("{\"id\":\"").append(id).append("\",\"upstream_id\":\"u\"");
    json.append(",\"uris\":").append(pick(rnd, PATHS, 1 + rnd.nextInt(2)));
    int hosts = rnd.nextInt(3);
    if (hosts > 0) {
      json.append(",\"hosts\":").append(pick(rnd, HOSTS, hosts));
    }
    if (rnd.nextBoolean()) {
      json.append(",\"priority\":").append(rnd.nextInt(3));
    }
    if (rnd.nextInt(3) == 0) {
      json.append(",\"methods\":[\"").append(METHODS[rnd.nextInt(METHODS.length)]).append("\"]");
    }
    json.append('}');
    var route = (Route) ModelJson.read(Kind.ROUTES, json.toString().getBytes(), null, "test");
    return new RouteEntry<>(
        id, route, route.hosts() == null ? List.of() : route.hosts(), id + "#" + version);
  }

  /** Up to {@code n} distinct values, as a JSON array. */
  private static String pick(Random rnd, String[] from, int n) {
    var picked = new LinkedHashSet<String>();
    for (int i = 0; i < n; i++) {
      picked.add('"' + from[rnd.nextInt(from.length)] + '"');
    }
    return "[" + String.join(",", picked) + "]";
  }

  private static String match(Router<String> router, String method, String uri, String host) {
    var h = new DefaultHttpHeaders();
    if (!host.isEmpty()) {
      h.set("Host", host);
    }
    var hit = router.match(RequestVars.of(method, uri, h, "10.1.2.3"));
    return hit == null ? null : hit.target();
  }
}
