package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.ModelJson;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReferencesTest {

  @Test
  void anUpstreamIsHeldByRoutesFirstThenServicesThenStreamRoutesThenPlugins() {
    var objects =
        objects(
            "routes/2", "{\"uri\":\"/b\",\"upstream_id\":\"u\"}",
            "routes/1", "{\"uri\":\"/a\",\"upstream_id\":\"other\"}",
            "services/s", "{\"upstream_id\":\"u\"}",
            "stream_routes/r", "{\"upstream_id\":\"u\"}");
    assertThat(References.referrer("upstreams", "u", objects))
        .hasValue("can not delete this upstream, route [2] is still using it now");

    objects.remove("routes/2");
    assertThat(References.referrer("upstreams", "u", objects))
        .hasValue("can not delete this upstream, service [s] is still using it now");
    objects.remove("services/s");
    assertThat(References.referrer("upstreams", "u", objects))
        .hasValue("can not delete this upstream, stream_route [r] is still using it now");
    objects.remove("stream_routes/r");
    assertThat(References.referrer("upstreams", "u", objects)).isEmpty();
    assertThat(References.referrer("upstreams", "other", objects))
        .hasValue("can not delete this upstream, route [1] is still using it now");
  }

  @Test
  void aConsumerGroupsPluginsHoldUpstreamsAndAGroupIsHeldByItsConsumers() {
    var objects =
        objects(
            "consumer_groups/g",
            "{\"plugins\":{\"traffic-split\":{\"rules\":[{\"weighted_upstreams\":"
                + "[{\"upstream_id\":\"u\",\"weight\":1}]}]}}}",
            "consumers/jack",
            "{\"username\":\"jack\",\"group_id\":\"g\"}",
            "consumers/jack/credentials/c1",
            "{\"id\":\"c1\",\"plugins\":{\"key-auth\":{\"key\":\"k\"}}}");
    assertThat(References.referrer("upstreams", "u", objects))
        .hasValue(
            "can not delete this upstream, plugin in consumer_group [g] is still using it now");
    assertThat(References.referrer("consumer_groups", "g", objects))
        .hasValue("can not delete this consumer group, consumer [jack] is still using it now");
    assertThat(References.dirsToRead("upstreams")).contains("consumer_groups");
    assertThat(References.missingGroup("x")).contains("consumer group \"x\" does not exist");
  }

  @Test
  void numericAndStringIdsAreTheSameId() {
    var objects = objects("routes/1", "{\"uri\":\"/a\",\"upstream_id\":1}");
    assertThat(References.referrer("upstreams", "1", objects))
        .hasValue("can not delete this upstream, route [1] is still using it now");
  }

  @Test
  void trafficSplitUpstreamsInAnyPluginsAreReferences() {
    var split =
        "{\"plugins\":{\"traffic-split\":{\"rules\":[{\"weighted_upstreams\":"
            + "[{\"upstream_id\":\"canary\",\"weight\":1},{\"weight\":9}]}]}}}";
    for (var where : new String[] {"routes", "services", "plugin_configs", "global_rules"}) {
      var objects = objects(where + "/x", split);
      var label = where.substring(0, where.length() - 1);
      assertThat(References.referrer("upstreams", "canary", objects))
          .hasValue(
              "can not delete this upstream, plugin in " + label + " [x] is still using it now");
      assertThat(References.referrer("upstreams", "stable", objects)).isEmpty();
    }
  }

  @Test
  void servicesPluginConfigsFlowsGroupsProtosAndConsumers() {
    var objects =
        objects(
            "routes/1",
                "{\"uri\":\"/a\",\"plugin_config_id\":\"pc\",\"plugin_flow_id\":\"f\","
                    + "\"plugins\":{\"grpc-transcode\":{\"proto_id\":\"7\"},"
                    + "\"consumer-restriction\":{\"whitelist\":[\"jack\"]}}}",
            "stream_routes/s", "{\"service_id\":\"svc\"}",
            "consumers/jack", "{\"username\":\"jack\",\"group_id\":\"gold\"}",
            "consumers/jack/credentials/c1", "{\"group_id\":\"silver\"}");
    assertThat(References.referrer("services", "svc", objects))
        .hasValue("can not delete this service directly, stream_route [s] is still using it now");
    assertThat(References.referrer("plugin_configs", "pc", objects))
        .hasValue("can not delete this plugin config, route [1] is still using it now");
    assertThat(References.referrer("plugin_flows", "f", objects))
        .hasValue("can not delete this plugin flow, route [1] is still using it now");
    assertThat(References.referrer("consumer_groups", "gold", objects))
        .hasValue("can not delete this consumer group, consumer [jack] is still using it now");
    // A credential nested under a consumer is not a consumer.
    assertThat(References.referrer("consumer_groups", "silver", objects)).isEmpty();
    assertThat(References.referrer("protos", "7", objects))
        .hasValue("can not delete this proto, plugin in route [1] is still using it now");
    assertThat(References.referrer("consumers", "jack", objects))
        .hasValue("can not delete this consumer, plugin in route [1] is still using it now");
    assertThat(References.referrer("consumers", "rose", objects)).isEmpty();
  }

  @Test
  void aBlacklistOrAHostRestrictionDoesNotHoldAConsumer() {
    var objects =
        objects(
            "routes/1",
            "{\"plugins\":{\"consumer-restriction\":{\"blacklist\":[\"jack\"]}}}",
            "routes/2",
            "{\"plugins\":{\"consumer-restriction\":"
                + "{\"type\":\"service_id\",\"whitelist\":[\"jack\"]}}}");
    assertThat(References.referrer("consumers", "jack", objects)).isEmpty();
  }

  @Test
  void everyKindWithReferrersSaysWhereToLook() {
    assertThat(References.dirsToRead("upstreams"))
        .contains("routes", "services", "stream_routes", "plugin_configs", "global_rules");
    assertThat(References.dirsToRead("consumer_groups")).containsExactly("consumers");
    assertThat(References.dirsToRead("routes")).isEmpty();
    assertThat(References.referrer("routes", "1", Map.of())).isEmpty();
  }

  @Test
  void takesWhatTheStoresList() {
    var route =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            objects("r", "{\"upstream_id\":\"u\"}").get("r");
    var listed = java.util.List.of(new AdminStore.Stored("routes/9", route, 1, 2));
    assertThat(References.referrer("upstreams", "u", References.byKey(listed)))
        .hasValue("can not delete this upstream, route [9] is still using it now");
  }

  private static Map<String, JsonNode> objects(String... keysAndJson) {
    var out = new LinkedHashMap<String, JsonNode>();
    for (int i = 0; i < keysAndJson.length; i += 2) {
      try {
        out.put(keysAndJson[i], ModelJson.mapper().readTree(keysAndJson[i + 1]));
      } catch (Exception e) {
        throw new IllegalArgumentException(keysAndJson[i + 1], e);
      }
    }
    return out;
  }
}
