package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Stream routes' plugins are checked against the stream schemas, not the HTTP ones. */
class StreamPluginSchemasTest {

  @Test
  void everyStreamPluginHasItsSchema() {
    for (var name : StreamPluginSchemas.names()) {
      assertThat(StreamPluginSchemas.schema(name)).as(name).isPresent();
    }
    assertThat(StreamPluginSchemas.names())
        .containsExactly("ip-restriction", "limit-conn", "mqtt-proxy", "prometheus", "syslog");
  }

  @Test
  void aStreamSchemaThatDiffersFromTheHttpOneIsTheOneChecked() throws Exception {
    var json =
        ModelJson.mapper()
            .readTree(
                """
                {"id": "bad", "server_port": 1883,
                 "plugins": {
                   "limit-conn": {"conn": 1, "burst": 0, "default_conn_delay": 1,
                                  "key": "http_x_user"},
                   "syslog": {"host": "127.0.0.1", "port": 514, "include_req_body": true},
                   "key-auth": {}},
                 "upstream": {"nodes": {"10.0.0.1:1883": 1}}}
                """);
    assertThatThrownBy(() -> ModelJson.read(Kind.STREAM_ROUTES, json, null, "stream_routes/bad"))
        .isInstanceOfSatisfying(
            ValidationException.class,
            e ->
                assertThat(e.lines())
                    .containsExactlyInAnyOrder(
                        "stream_routes/bad: plugins.limit-conn.key: \"http_x_user\" (expected: one"
                            + " of remote_addr, server_addr)",
                        "stream_routes/bad: plugins.syslog.include_req_body: unknown field",
                        "stream_routes/bad: plugins.key-auth: plugin \"key-auth\" does not run on"
                            + " stream routes (expected: one of ip-restriction, limit-conn,"
                            + " mqtt-proxy, prometheus, syslog)"));
    // The HTTP limit-conn takes any variable as its key, and the HTTP syslog request bodies.
    assertThat(
            PluginSchemas.check(
                "limit-conn",
                ModelJson.mapper()
                    .readTree(
                        "{\"conn\": 1, \"burst\": 0, \"default_conn_delay\": 1, \"key\":"
                            + " \"http_x_user\"}"),
                "plugins.limit-conn"))
        .isEmpty();
    assertThat(StreamRoute.streamPlugin("mqtt-proxy")).isNull();
    assertThat(StreamRoute.streamPlugin("brotli")).isEqualTo(PluginSchemas.notRun("brotli").get());
    assertThat(PluginSchemas.notRun("mqtt-proxy")).contains(PluginSchemas.unknown("mqtt-proxy"));
  }
}
