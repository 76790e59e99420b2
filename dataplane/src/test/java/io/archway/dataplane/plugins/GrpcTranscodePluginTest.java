package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.Protos;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * grpc-transcode apart from the network: its schema (APISIX's required fields, defaults, enums),
 * what its compile refuses, the request message from query arguments and JSON, the int64 walk, and
 * APISIX's gRPC to HTTP status map.
 */
class GrpcTranscodePluginTest {

  static final String PROTO =
      """
      syntax = "proto3";
      package t;
      message In { string name = 1; repeated int32 ids = 2; bool on = 3; int64 big = 4;
        message Sub { int64 n = 1; } Sub sub = 5; map<string, int64> counts = 6; repeated Sub subs = 7; }
      service S { rpc Get (In) returns (In); rpc Watch (In) returns (stream In); }
      """;

  static final PluginRegistry REGISTRY = PluginRegistry.load();

  static List<String> check(String conf) throws Exception {
    return PluginSchemas.check(
            "grpc-transcode", ModelJson.mapper().readTree(conf.replace('\'', '"')), "p")
        .stream()
        .map(Problem::toString)
        .toList();
  }

  @Test
  void schemaIsApisixs() throws Exception {
    var conf =
        PluginRegistry.bind(
            REGISTRY.get("grpc-transcode"),
            ModelJson.mapper()
                .readTree("{\"proto_id\": 1, \"service\": \"t.S\", \"method\": \"Get\"}"));
    assertThat(conf.toString())
        .isEqualTo(
            "Config[protoId=1, service=t.S, method=Get, deadline=0.0, pbOption=null,"
                + " showStatusInBody=false, statusDetailType=null]");
    assertThat(REGISTRY.get("grpc-transcode").priority()).isEqualTo(506);
    assertThat(check("{'proto_id': '1', 'service': 's'}")).hasSize(1);
    assertThat(check("{'proto_id': 'a b', 'service': 's', 'method': 'm'}")).hasSize(1);
    assertThat(check("{'proto_id': 0, 'service': 's', 'method': 'm'}")).hasSize(1);
    assertThat(check("{'proto_id': '1', 'service': 's', 'method': 'm', 'pb_option': ['nope']}"))
        .hasSize(1);
    assertThat(
            check(
                "{'proto_id': '1', 'service': 's', 'method': 'm',"
                    + " 'pb_option': ['enum_as_value', 'int64_as_string', 'no_default_values']}"))
        .isEmpty();
  }

  @Test
  void compileRefusesWhatIsNotThere() throws Exception {
    var services = new PluginServices();
    try {
      services.protos(Map.of("1", Protos.compile("1", PROTO)));
      var scope = new PluginScope("routes/r", services);
      var plugin = new GrpcTranscodePlugin();
      var ok =
          new GrpcTranscodePlugin.Config(
              ModelJson.mapper().readTree("\"1\""), "t.S", "Get", 0, null, false, null);
      assertThat(plugin.compile(ok, scope)).isNotNull();
      assertThatThrownBy(
              () ->
                  plugin.compile(
                      new GrpcTranscodePlugin.Config(
                          ModelJson.mapper().readTree("2"), "t.S", "Get", 0, null, false, null),
                      scope))
          .hasMessage("proto_id: \"2\" is not a proto that compiled (expected: a protos id)");
      assertThatThrownBy(
              () ->
                  plugin.compile(
                      new GrpcTranscodePlugin.Config(
                          ModelJson.mapper().readTree("1"), "t.S", "Nope", 0, null, false, null),
                      scope))
          .hasMessageContaining("\"t.S/Nope\" is not in proto 1")
          .hasMessageContaining("t.S/Get, t.S/Watch");
      assertThatThrownBy(
              () ->
                  plugin.compile(
                      new GrpcTranscodePlugin.Config(
                          ModelJson.mapper().readTree("1"), "t.S", "Watch", 0, null, false, null),
                      scope))
          .hasMessageContaining("streaming method");
      assertThatThrownBy(
              () ->
                  plugin.compile(
                      new GrpcTranscodePlugin.Config(
                          ModelJson.mapper().readTree("1"), "t.S", "Get", 0, null, true, "t.No"),
                      scope))
          .hasMessageContaining("status_detail_type");
    } finally {
      services.close();
    }
  }

  @Test
  void queryArgumentsAndJsonBecomeTheMessage() throws Exception {
    var in = Protos.compile("1", PROTO).method("t.S", "Get").getInputType();
    var args =
        GrpcTranscodeJson.argsJson(
            in, Map.of("name", List.of("a", "b"), "ids", List.of("1", "2"), "x", List.of("y")));
    // The first value of a single field, all of a repeated one; unknown names left out.
    assertThat(args.size()).isEqualTo(2);
    assertThat(args.path("name").asText()).isEqualTo("a");
    assertThat(args.path("ids").toString()).isEqualTo("[\"1\",\"2\"]");

    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var node =
        json.readTree(
            "{\"big\":\"9007199254740993\",\"sub\":{\"n\":\"5\"},\"counts\":{\"a\":\"7\"},"
                + "\"subs\":[{\"n\":\"1\"}],\"name\":\"12\"}");
    GrpcTranscodeJson.int64AsNumbers(node, in);
    assertThat(node.toString())
        .isEqualTo(
            "{\"big\":9007199254740993,\"sub\":{\"n\":5},\"counts\":{\"a\":7},"
                + "\"subs\":[{\"n\":1}],\"name\":\"12\"}");
  }

  @Test
  void grpcStatusesGetApisixsHttpStatuses() {
    assertThat(GrpcTranscodePlugin.httpStatusOf(1)).isEqualTo(499);
    assertThat(GrpcTranscodePlugin.httpStatusOf(3)).isEqualTo(400);
    assertThat(GrpcTranscodePlugin.httpStatusOf(4)).isEqualTo(504);
    assertThat(GrpcTranscodePlugin.httpStatusOf(5)).isEqualTo(404);
    assertThat(GrpcTranscodePlugin.httpStatusOf(8)).isEqualTo(429);
    assertThat(GrpcTranscodePlugin.httpStatusOf(12)).isEqualTo(501);
    assertThat(GrpcTranscodePlugin.httpStatusOf(14)).isEqualTo(503);
    assertThat(GrpcTranscodePlugin.httpStatusOf(16)).isEqualTo(401);
    assertThat(GrpcTranscodePlugin.httpStatusOf(99)).isEqualTo(599);
  }
}
