package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.exchange.HttpMetrics;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigItem;
import io.archway.model.source.ConfigState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A route's HTTP counters live as long as the route is in the config: a deleted route's go (ids
 * that come and go do not pile up in {@code /metrics}), while a route changed, disabled or not
 * served keeps its counts, on the incremental path as on a whole new state; the same for the
 * prometheus plugin's series.
 */
class RouteCountersTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  io.netty.channel.EventLoopGroup loops;
  Upstreams upstreams;
  SyslogSinks sinks;
  PluginServices services;
  HttpMetrics metrics;
  ConfigHolder holder;
  long rev;

  @BeforeEach
  void start() {
    loops = Transport.selected().newLoopGroup(1, "route-counters-io");
    upstreams = new Upstreams(Transport.selected(), loops, 1);
    sinks = new SyslogSinks();
    services = new PluginServices();
    metrics = new HttpMetrics();
    holder = new ConfigHolder();
    holder.subscribe(
        IncrementalCompileTest.compiler(
            upstreams, metrics, sinks, PluginRegistry.load(), services));
    holder.onState(new ConfigState(Map.of(), 0));
  }

  @AfterEach
  void stop() {
    services.close();
    sinks.close();
    upstreams.close();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void deletedRoutesLoseTheirCountersAndTheOthersKeepThem() throws Exception {
    for (int i = 0; i < 5; i++) {
      holder.onChanges(List.of(put("r" + i, true, "/r" + i)), ++rev);
      metrics.route("r" + i).answered(200, 1_000);
      services.metrics().request("r" + i, "alice", 200, 1_000, 1, 1);
    }
    metrics.route("").answered(404, 1_000);
    holder.onChanges(List.of(put("r0", true, "/moved")), ++rev);
    holder.onChanges(List.of(put("r1", false, "/r1")), ++rev);
    holder.onChanges(List.of(delete("r2")), ++rev);
    assertThat(rendered()).contains(count("r0"), count("r1"), count("r3"), count("r4"), count(""));
    assertThat(rendered()).doesNotContain("route=\"r2\"");
    assertThat(prometheus())
        .contains("route=\"r1\"", "route=\"r3\"")
        .doesNotContain("route=\"r2\"");

    // A whole new state (a full re-read) without r3.
    var all = new HashMap<Key, ConfigItem>();
    for (var id : List.of("r0", "r1", "r4")) {
      var p = (ConfigChange.Put) put(id, !id.equals("r1"), "/" + id);
      all.put(p.item().key(), p.item());
    }
    holder.onState(new ConfigState(all, ++rev));
    assertThat(rendered()).contains(count("r0"), count("r1"), count("r4"), count(""));
    assertThat(rendered()).doesNotContain("route=\"r3\"");
    assertThat(prometheus()).contains("route=\"r4\"").doesNotContain("route=\"r3\"");

    holder.onChanges(List.of(delete("r1")), ++rev);
    assertThat(rendered()).doesNotContain("route=\"r1\"").contains(count("r0"));
  }

  /** The prometheus plugin's series (apisix_http_status, _latency, _bandwidth). */
  private String prometheus() {
    var out = new StringBuilder();
    services.metrics().render(out);
    return out.toString();
  }

  private String rendered() {
    var out = new StringBuilder();
    metrics.render(out);
    return out.toString();
  }

  private static String count(String route) {
    return "archway_http_requests_total{route=\""
        + route
        + "\",code=\""
        + (route.isEmpty() ? 404 : 200)
        + "\"} 1";
  }

  private ConfigChange delete(String id) {
    return new ConfigChange.Delete(new Key(Kind.ROUTES, id), ++rev);
  }

  private ConfigChange put(String id, boolean enabled, String uri) throws Exception {
    var json = new HashMap<String, Object>();
    json.put("id", id);
    json.put("uri", uri);
    json.put("upstream", Map.of("nodes", Map.of("127.0.0.1:9", 1)));
    if (!enabled) {
      json.put("status", 0);
    }
    var obj = ModelJson.read(Kind.ROUTES, JSON.valueToTree(json), null, "routes/" + id);
    return new ConfigChange.Put(new ConfigItem(new Key(Kind.ROUTES, id), obj, ++rev));
  }
}
