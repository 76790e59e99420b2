package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.flow.FlowStats;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The flow counters of routes' inline flows ({@code plugin_flow}) live as long as the route runs
 * that flow: a route deleted, disabled, given another kind of flow or not served any more leaves no
 * counters behind, on the incremental path (only routes changed) as on a compile from scratch.
 */
class RouteFlowCountersTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ROUTES = 40;

  io.netty.channel.EventLoopGroup loops;
  Upstreams upstreams;
  SyslogSinks sinks;
  PluginServices services;
  ConfigCompiler compiler;
  ConfigHolder holder;
  long rev;

  @BeforeEach
  void start() {
    loops = Transport.selected().newLoopGroup(1, "flow-counters-io");
    upstreams = new Upstreams(Transport.selected(), loops, 1);
    sinks = new SyslogSinks();
    services = new PluginServices();
    compiler = IncrementalCompileTest.compiler(upstreams, sinks, PluginRegistry.load(), services);
    holder = new ConfigHolder();
    holder.subscribe(compiler);
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
  void routesDeletedOneChangeAtATimeLeaveNoCounters() throws Exception {
    var counters = FlowStats.of(services);
    int before = counters.size();
    for (int i = 0; i < ROUTES; i++) {
      holder.onChanges(List.of(put("r" + i, true, true)), ++rev);
    }
    assertThat(counters.size()).isEqualTo(before + ROUTES);
    // One route disabled, one given no flow, one not served (an unknown plugin config).
    holder.onChanges(List.of(put("r0", false, true)), ++rev);
    holder.onChanges(List.of(put("r1", true, false)), ++rev);
    var broken = route("r2", true, true);
    broken.put("plugin_config_id", "missing");
    holder.onChanges(List.of(put("r2", broken)), ++rev);
    assertThat(counters.size()).isEqualTo(before + ROUTES - 3);
    for (int i = 0; i < ROUTES; i++) {
      holder.onChanges(
          List.of(new ConfigChange.Delete(new Key(Kind.ROUTES, "r" + i), ++rev)), ++rev);
    }
    assertThat(counters.size()).isEqualTo(before);
  }

  @Test
  void routesGoneFromAWholeStateLeaveNoCounters() throws Exception {
    var counters = FlowStats.of(services);
    int before = counters.size();
    var changes = new ArrayList<ConfigChange>();
    for (int i = 0; i < ROUTES; i++) {
      changes.add(put("r" + i, true, true));
    }
    // With an upstream in the same change: the whole config is compiled, not only the routes.
    changes.add(
        new ConfigChange.Put(
            new ConfigItem(
                new Key(Kind.UPSTREAMS, "u1"),
                ModelJson.read(
                    Kind.UPSTREAMS,
                    JSON.readTree("{\"id\":\"u1\",\"nodes\":{\"127.0.0.1:9\":1}}"),
                    null,
                    "upstreams/u1"),
                ++rev)));
    holder.onChanges(changes, ++rev);
    assertThat(counters.size()).isEqualTo(before + ROUTES);
    holder.onState(new ConfigState(Map.of(), ++rev));
    assertThat(counters.size()).isEqualTo(before);
  }

  private ConfigChange put(String id, boolean enabled, boolean flow) throws Exception {
    return put(id, route(id, enabled, flow));
  }

  private ConfigChange put(String id, Map<String, Object> json) throws Exception {
    var obj = ModelJson.read(Kind.ROUTES, JSON.valueToTree(json), null, "routes/" + id);
    return new ConfigChange.Put(new ConfigItem(new Key(Kind.ROUTES, id), obj, ++rev));
  }

  private static Map<String, Object> route(String id, boolean enabled, boolean flow)
      throws Exception {
    var json = new HashMap<String, Object>();
    json.put("id", id);
    json.put("uri", "/" + id);
    json.put("upstream", Map.of("nodes", Map.of("127.0.0.1:9", 1)));
    if (!enabled) {
      json.put("status", 0);
    }
    if (flow) {
      json.put(
          "plugin_flow",
          JSON.readTree(
              "{\"rule\":{\"root\":\"a\"},\"conf\":{\"a\":{\"name\":\"fault-injection\","
                  + "\"conf\":{\"abort\":{\"http_status\":418,\"body\":\"tea\"}}}}}"));
    }
    return json;
  }
}
