package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.testing.Fixtures;
import io.archway.model.testing.Fixtures.Fixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kind schemas describe what the Java readers accept: the shared fixtures keep the two from
 * drifting apart. The readers decide; the schemas must agree with them on every fixture.
 */
class KindSchemasTest {

  /** Invalid only for what a schema cannot say: conditions, dangling edges, loops. */
  private static final Set<String> BEYOND_A_SCHEMA =
      Set.of("plugin_flows/edges", "plugin_flows/graph");

  static Stream<Fixture> valid() {
    return Fixtures.valid().stream();
  }

  static Stream<Fixture> invalid() {
    return Fixtures.invalid().stream().filter(f -> !BEYOND_A_SCHEMA.contains(f.toString()));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void everyKindHasASelfContainedSchemaNamedAsTheAdminApiNamesIt(Kind kind) {
    var json = KindSchemas.json(kind);
    assertThat(json.toString()).doesNotContain("$ref").doesNotContain("definitions");
    assertThat(json.path("title").asText()).isEqualTo(KindSchemas.name(kind));
    assertThat(json.path("description").asText()).isNotBlank();
    assertThat(json.path("properties").isObject()).isTrue();
    assertThat(KindSchemas.kind(KindSchemas.name(kind))).hasValue(kind);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void acceptsEveryValidFixture(Fixture fixture) {
    assertThat(problems(fixture.kind(), fixture.json())).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void rejectsEveryInvalidFixtureOnAFieldTheReaderNamesToo(Fixture fixture) {
    var fromSchema = problems(fixture.kind(), fixture.json()).stream().map(Problem::toString);
    var prefix = fixture + ": ";
    var fromReader =
        fixture.expectedProblems().stream().map(l -> field(l.substring(prefix.length()))).toList();
    assertThat(fromSchema.map(KindSchemasTest::field).toList())
        .as("the fields the reader names: %s", fromReader)
        .containsAnyElementsOf(fromReader);
  }

  /** The top-level field a problem line is about: {@code uris} for {@code uris[0]: ...}. */
  private static String field(String line) {
    return line.split("[.\\[: ]", 2)[0];
  }

  @Test
  void anInlineUpstreamIsCheckedAsAnUpstream() {
    var schema = KindSchemas.json(Kind.ROUTES);
    assertThat(schema.at("/properties/upstream/allOf/0/properties/type/enum").toString())
        .contains("roundrobin", "chash");
    assertThat(schema.at("/properties/upstream/description").asText())
        .isEqualTo("An inline upstream.");
  }

  /** Objects the readers refuse, each for one rule between fields: the schemas refuse them too. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          upstreams      | {"type": "chash", "nodes": {"a:1": 1}}
          upstreams      | {"nodes": {"a:1": 1}, "service_name": "x", "discovery_type": "dns"}
          upstreams      | {"nodes": {"a:1": 1}, "pass_host": "rewrite"}
          upstreams      | {"nodes": {"a:1": 1}, "scheme": "tcp", "http2": true}
          upstreams      | {"nodes": {"a:1": 1}, "tls": {"client_cert_id": "1", "client_key": "-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----"}}
          upstreams      | {"nodes": [{"host": "a", "port": 80}]}
          upstreams      | {"nodes": {"a:1": 70000}}
          upstreams      | {"nodes": {"a:1": 1}, "checks": {"passive": {}}}
          routes         | {"uri": "/a", "host": "a", "hosts": ["b"], "upstream_id": "1"}
          routes         | {"uri": "/a"}
          routes         | {"uris": [], "upstream_id": "1"}
          routes         | {"uri": "/a", "upstream_id": "1", "methods": ["GET", "GET"]}
          routes         | {"uri": "/a", "upstream_id": "1", "filter_func": "function() end"}
          routes         | {"uri": "/a", "upstream_id": "1", "labels": {"a": " "}}
          routes         | {"uri": "/a", "plugin_flow_id": "f", "plugin_flow": {"rule": {"root": "a"}, "conf": {}}}
          services       | {"plugins": {"cors": 1}}
          consumers      | {"desc": "no name"}
          global_rules   | {"id": "1"}
          plugin_configs | {"id": "1", "plugins": []}
          ssls           | {"cert": "-----BEGIN CERTIFICATE-----\\nx\\n-----END CERTIFICATE-----", "key": "-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----"}
          ssls           | {"cert": "-----BEGIN CERTIFICATE-----\\nx\\n-----END CERTIFICATE-----", "key": "-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----", "sni": "a", "certs": ["-----BEGIN CERTIFICATE-----\\nx\\n-----END CERTIFICATE-----"]}
          stream_routes  | {"server_port": 9100}
          stream_routes  | {"server_port": 9100, "upstream_id": "1", "protocol": {"name": "redis", "logger": [{"name": "syslog"}]}}
          plugin_flows   | {"rule": {"root": "a"}}
          plugin_metadata | {"log_format": {}}
          """)
  void rejectsWhatTheReadersRefuse(String dir, String json) throws Exception {
    var kind = Kind.ofDir(dir).orElseThrow();
    var value = ModelJson.mapper().readTree(json);
    assertThatThrownBy(() -> ModelJson.read(kind, value, null, dir + "/x"))
        .as("the reader refuses it")
        .isInstanceOf(ValidationException.class);
    assertThat(problems(kind, value)).as("the schema refuses it").isNotEmpty();
  }

  /** Objects the readers accept thanks to an exception to a rule: the schemas accept them too. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          upstreams     | {"type": "chash", "hash_on": "consumer", "nodes": {"a:1": 1}}
          upstreams     | {"nodes": {"a:1": 1}, "scheme": "https", "http2": true}
          upstreams     | {"nodes": {"a:1": 1}, "http2": true}
          upstreams     | {"id": 7, "nodes": {"a:1": 1}, "pass_host": "rewrite", "upstream_host": "b"}
          upstreams     | {"service_name": "default/web:80", "discovery_type": "kubernetes", "checks": {"active": {"type": "tcp"}}}
          routes        | {"uri": "/a", "plugins": {}, "host": null, "hosts": ["b"]}
          routes        | {"uri": "/a", "plugin_flow": {"rule": {"root": "a"}, "conf": {"a": {"name": "echo", "conf": {}}}}}
          ssls          | {"type": "client", "cert": "$secret://vault/1/cert", "key": "$env://KEY"}
          stream_routes | {"plugins": {}}
          """)
  void acceptsWhatTheReadersAccept(String dir, String json) throws Exception {
    var kind = Kind.ofDir(dir).orElseThrow();
    var value = ModelJson.mapper().readTree(json);
    ModelJson.read(kind, value, null, dir + "/x");
    assertThat(problems(kind, value)).isEmpty();
  }

  private static List<Problem> problems(Kind kind, JsonNode value) {
    var problems = new ArrayList<Problem>();
    KindSchemas.schema(kind).validate(value, "", problems);
    return problems;
  }
}
