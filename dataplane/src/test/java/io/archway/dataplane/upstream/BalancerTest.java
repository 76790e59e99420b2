package io.archway.dataplane.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.route.RequestVars;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Upstream;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BalancerTest {

  private static UpstreamRuntime runtime(String json) throws Exception {
    var up = (Upstream) ModelJson.read(Kind.UPSTREAMS, json.getBytes(), "u", "test");
    return new UpstreamRuntime("upstreams/u", up, 1, null);
  }

  private static RequestVars request(String uri) {
    return RequestVars.of("GET", uri, new DefaultHttpHeaders(), "10.0.0.1");
  }

  private static Map<String, Integer> spread(UpstreamRuntime rt, int n) {
    var counts = new HashMap<String, Integer>();
    for (int i = 0; i < n; i++) {
      var node = rt.pick(request("/?k=" + i), new BitSet());
      counts.merge(node.address(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void roundRobinFollowsWeightsSmoothly() throws Exception {
    var rt = runtime("{\"nodes\":{\"10.0.0.1:80\":5,\"10.0.0.2:80\":3,\"10.0.0.3:80\":2}}");
    var counts = spread(rt, 10_000);
    assertThat(counts.get("10.0.0.1:80")).isBetween(4750, 5250);
    assertThat(counts.get("10.0.0.2:80")).isBetween(2850, 3150);
    assertThat(counts.get("10.0.0.3:80")).isBetween(1900, 2100);
    // Smooth, as nginx: 5:1 interleaves instead of five in a row then one.
    var five = runtime("{\"nodes\":{\"a:80\":5,\"b:80\":1}}");
    var seq = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      seq.append(five.pick(request("/"), new BitSet()).host());
    }
    assertThat(seq.toString()).isEqualTo("aaabaa");
  }

  @Test
  void zeroWeightNodesGetNothing() throws Exception {
    var rt = runtime("{\"nodes\":{\"10.0.0.1:80\":1,\"10.0.0.2:80\":0}}");
    assertThat(spread(rt, 100)).containsOnlyKeys("10.0.0.1:80");
  }

  @Test
  void consistentHashIsStableAndMovesAboutOneNthWhenANodeIsAdded() throws Exception {
    var four =
        runtime(
            "{\"type\":\"chash\",\"key\":\"arg_k\",\"nodes\":{\"10.0.0.1:80\":1,\"10.0.0.2:80\":1,"
                + "\"10.0.0.3:80\":1,\"10.0.0.4:80\":1}}");
    var five =
        runtime(
            "{\"type\":\"chash\",\"key\":\"arg_k\",\"nodes\":{\"10.0.0.1:80\":1,\"10.0.0.2:80\":1,"
                + "\"10.0.0.3:80\":1,\"10.0.0.4:80\":1,\"10.0.0.5:80\":1}}");
    int moved = 0;
    var counts = new HashMap<String, Integer>();
    for (int i = 0; i < 10_000; i++) {
      var r = request("/?k=user" + i);
      var before = four.pick(r, new BitSet()).address();
      assertThat(four.pick(r, new BitSet()).address()).isEqualTo(before);
      var after = five.pick(r, new BitSet()).address();
      counts.merge(before, 1, Integer::sum);
      if (!before.equals(after)) {
        moved++;
        assertThat(after).isEqualTo("10.0.0.5:80");
      }
    }
    // Ideal: 1/5 of the keys move, all to the new node.
    assertThat(moved).isBetween(1500, 2500);
    counts.values().forEach(c -> assertThat(c).isBetween(2000, 3000));
  }

  @Test
  void consistentHashOnHeaderCookieAndCombinations() throws Exception {
    var header =
        runtime(
            "{\"type\":\"chash\",\"hash_on\":\"header\",\"key\":\"x-user\",\"nodes\":{\"a:80\":1,\"b:80\":1,\"c:80\":1}}");
    var combined =
        runtime(
            "{\"type\":\"chash\",\"hash_on\":\"vars_combinations\",\"key\":\"$request_method$arg_u\","
                + "\"nodes\":{\"a:80\":1,\"b:80\":1,\"c:80\":1}}");
    var seen = new HashMap<String, String>();
    for (int i = 0; i < 200; i++) {
      var h =
          new DefaultHttpHeaders().set("X-User", "u" + (i % 20)).set("Cookie", "sid=s" + (i % 20));
      var r = RequestVars.of("GET", "/?u=" + (i % 20), h, "10.0.0." + (i % 200));
      var n = header.pick(r, new BitSet()).host();
      var prev = seen.putIfAbsent("h" + (i % 20), n);
      assertThat(prev == null || prev.equals(n)).isTrue();
      var m = combined.pick(r, new BitSet()).host();
      prev = seen.putIfAbsent("c" + (i % 20), m);
      assertThat(prev == null || prev.equals(m)).isTrue();
    }
    assertThat(UpstreamRuntime.combine("$request_method-$arg_u", request("/?u=7")))
        .isEqualTo("GET-7");
  }

  @Test
  void leastConnPrefersTheLeastBusyPerWeight() throws Exception {
    var rt = runtime("{\"type\":\"least_conn\",\"nodes\":{\"10.0.0.1:80\":1,\"10.0.0.2:80\":1}}");
    var first = rt.pick(request("/"), new BitSet());
    rt.begin(first);
    var second = rt.pick(request("/"), new BitSet());
    assertThat(second).isNotSameAs(first);
    rt.begin(second);
    rt.begin(second);
    assertThat(rt.pick(request("/"), new BitSet())).isSameAs(first);
    // While the other node holds more requests, every new one goes to the less busy node.
    assertThat(spread(rt, 1000)).containsOnlyKeys(first.address());
    rt.end(second, 200, 1000);
    rt.end(second, 200, 1000);
    rt.end(first, 200, 1000);
    // Idle and equal: ties are broken at random, so both share the load.
    var counts = spread(rt, 10_000);
    assertThat(counts.get(first.address())).isBetween(4500, 5500);
  }

  @Test
  void ewmaPrefersTheFasterNode() throws Exception {
    var rt = runtime("{\"type\":\"ewma\",\"nodes\":{\"10.0.0.1:80\":1,\"10.0.0.2:80\":1}}");
    var nodes = rt.nodes();
    for (int i = 0; i < 20; i++) {
      nodes.get(0).observe(50_000);
      nodes.get(1).observe(1_000);
    }
    var counts = spread(rt, 1000);
    assertThat(counts.getOrDefault("10.0.0.2:80", 0)).isEqualTo(1000);
  }

  @Test
  void priorityGroupsRetriesAndAllUnhealthy() throws Exception {
    var rt =
        runtime(
            "{\"nodes\":[{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":1,\"priority\":1},"
                + "{\"host\":\"10.0.0.2\",\"port\":80,\"weight\":1,\"priority\":1},"
                + "{\"host\":\"10.0.0.9\",\"port\":80,\"weight\":1,\"priority\":-1}],"
                + "\"checks\":{\"active\":{\"healthy\":{\"interval\":1},\"unhealthy\":{\"tcp_failures\":1}},"
                + "\"passive\":{\"unhealthy\":{\"tcp_failures\":1}}}}");
    assertThat(spread(rt, 100)).containsOnlyKeys("10.0.0.1:80", "10.0.0.2:80");
    var tried = new BitSet();
    var n1 = rt.pick(request("/"), tried);
    tried.set(n1.index());
    var n2 = rt.pick(request("/"), tried);
    tried.set(n2.index());
    assertThat(rt.pick(request("/"), tried).host()).isEqualTo("10.0.0.9");
    // Take the high group out: the backup group serves.
    for (var n : rt.nodes().subList(0, 2)) {
      rt.begin(n);
      rt.failed(n, NodeState.Failure.TCP);
    }
    assertThat(spread(rt, 10)).containsOnlyKeys("10.0.0.9:80");
    // All out: all are used again.
    var last = rt.nodes().get(2);
    rt.begin(last);
    rt.failed(last, NodeState.Failure.TCP);
    assertThat(spread(rt, 100)).containsOnlyKeys("10.0.0.1:80", "10.0.0.2:80");
  }

  @Test
  void healthCarriesOverToTheNextVersionOfAnUpstream() throws Exception {
    var json =
        "{\"nodes\":{\"10.0.0.1:80\":1,\"10.0.0.2:80\":1},"
            + "\"checks\":{\"active\":{},\"passive\":{\"unhealthy\":{\"tcp_failures\":1}}}}";
    var v1 = runtime(json);
    var n = v1.nodes().get(0);
    v1.begin(n);
    v1.failed(n, NodeState.Failure.TCP);
    assertThat(n.healthy()).isFalse();
    var up =
        (Upstream)
            ModelJson.read(
                Kind.UPSTREAMS, json.replace("}},", "},\"retries\":1},").getBytes(), "u", "t");
    var v2 = new UpstreamRuntime("upstreams/u", up, 1, v1);
    assertThat(v2.nodes().get(0).healthy()).isFalse();
    assertThat(v2.nodes().get(1).healthy()).isTrue();
  }
}
