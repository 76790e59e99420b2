package io.archway.model.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.Route;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the standalone loader refuses rather than keeps without acting on, and the parts of APISIX's
 * file format that change what it means ({@code ${{VAR}}}, a plugin with no configuration).
 */
class StandaloneStrictTest {

  private static final Map<String, String> ENV = Map.of("UPSTREAM", "127.0.0.1:1980");

  private static Map<Key, io.archway.model.ConfigObject> parse(String yaml) throws Exception {
    return StandaloneFile.parse(yaml.getBytes(StandardCharsets.UTF_8), "apisix.yaml", ENV::get);
  }

  private static String problems(String yaml) {
    try {
      parse(yaml);
    } catch (ConfigFileException e) {
      return String.join("\n", e.lines());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("accepted: " + yaml);
  }

  @Test
  void substitutesEnvironmentVariablesAsApisixDoes() throws Exception {
    var items =
        parse(
            """
            routes:
              - id: 1
                uri: ${{ROUTE_URI:=/fallback}}
                upstream:
                  nodes:
                    "${{UPSTREAM}}": 1
            #END
            """);
    var route = (Route) items.get(new Key(Kind.ROUTES, "1"));
    assertThat(route.uri()).isEqualTo("/fallback");
    assertThat(route.upstream().nodes().toString()).contains("127.0.0.1").contains("1980");
  }

  @Test
  void anUnsetVariableWithoutDefaultNamesItAndItsLine() {
    assertThat(
            problems(
                """
                routes:
                  - id: 1
                    uri: /a
                    upstream:
                      nodes:
                        "${{NOT_SET_ANYWHERE}}": 1
                #END
                """))
        .contains("apisix.yaml: line 6: ${{NOT_SET_ANYWHERE}}")
        .contains("environment variable NOT_SET_ANYWHERE is not set");
  }

  @Test
  void aPluginWithoutConfigurationGetsItsDefaults() throws Exception {
    var items =
        parse(
            """
            routes:
              - id: 1
                uri: /a
                plugins:
                  key-auth:
                upstream:
                  nodes:
                    "127.0.0.1:1980": 1
            #END
            """);
    var route = (Route) items.get(new Key(Kind.ROUTES, "1"));
    assertThat(route.plugins().get("key-auth").isEmpty()).isTrue();
  }

  @Test
  void streamRoutePluginsAreCheckedAgainstTheirStreamSchemas() {
    assertThat(
            problems(
                """
                stream_routes:
                  - id: 1
                    server_port: 9100
                    plugins:
                      syslog:
                        host: 127.0.0.1
                      mqtt-proxy:
                        protocol_name: MQTT
                      key-auth: {}
                      mqtt-proxi: {}
                    upstream:
                      nodes:
                        "127.0.0.1:1995": 1
                #END
                """))
        .contains("stream_routes/1: plugins.syslog.port: missing")
        .contains("stream_routes/1: plugins.mqtt-proxy.protocol_level: missing")
        .contains(
            "stream_routes/1: plugins.key-auth: plugin \"key-auth\" does not run on stream routes"
                + " (expected: one of ip-restriction, limit-conn, mqtt-proxy, prometheus, syslog)")
        .contains("stream_routes/1: plugins.mqtt-proxi: unknown plugin \"mqtt-proxi\"");
  }

  @Test
  void pluginMetadataOfAPluginThatDoesNotRunIsRefused() {
    assertThat(
            problems(
                """
                plugin_metadata:
                  - id: no-such-plugin
                    log_format:
                      host: "$host"
                #END
                """))
        .contains("plugin_metadata/no-such-plugin: id: unknown plugin \"no-such-plugin\"");
  }

  @Test
  void discoveryTypesWithoutNodesAreRefusedByName() {
    for (var type : new String[] {"nacos", "eureka", "consul", "consul_kv"}) {
      assertThat(
              problems(
                  """
                  upstreams:
                    - id: 1
                      service_name: APISIX-NACOS
                      discovery_type: %s
                  #END
                  """
                      .formatted(type)))
          .contains("upstreams/1: discovery_type: \"" + type + "\"")
          .contains("the discovery types Archway supports");
    }
  }

  @Test
  void theSameTextWithoutSubstitutionsIsReadAsItIs() throws Exception {
    assertThatThrownBy(() -> StandaloneFile.substitute("a: ${{X}}", "f", n -> null))
        .isInstanceOf(ConfigFileException.class)
        .hasMessageContaining("f: line 1: ${{X}}");
    assertThat(StandaloneFile.substitute("a: ${b}", "f", n -> null)).isEqualTo("a: ${b}");
  }
}
