package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The schemas of ua-restriction, referer-restriction, uri-blocker, client-control, proxy-control,
 * consumer-restriction, mocking, api-breaker and gzip: APISIX's defaults, and bad configurations
 * refused with a message that names the field.
 */
class TrafficPluginSchemasTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();

  static Record bind(String name, String conf) throws Exception {
    return PluginRegistry.bind(REGISTRY.get(name), ModelJson.mapper().readTree(conf));
  }

  static List<String> check(String name, String conf) throws Exception {
    return PluginSchemas.check(
            name, ModelJson.mapper().readTree(conf.replace('\'', '"')), "plugins." + name)
        .stream()
        .map(Problem::toString)
        .toList();
  }

  @Test
  void defaultsAreApisixs() throws Exception {
    assertThat(bind("ua-restriction", "{\"denylist\": [\"bot\"]}").toString())
        .isEqualTo(
            "Config[bypassMissing=false, allowlist=null, denylist=[bot], message=Not allowed]");
    assertThat(bind("referer-restriction", "{\"whitelist\": [\"*.example.com\"]}").toString())
        .isEqualTo(
            "Config[bypassMissing=false, whitelist=[*.example.com], blacklist=null,"
                + " message=Your referer host is not allowed]");
    assertThat(bind("uri-blocker", "{\"block_rules\": [\"a\"]}").toString())
        .isEqualTo(
            "Config[blockRules=[a], rejectedCode=403, rejectedMsg=null, caseInsensitive=false]");
    assertThat(bind("client-control", "{}").toString()).isEqualTo("Config[maxBodySize=null]");
    assertThat(bind("proxy-control", "{}").toString()).isEqualTo("Config[requestBuffering=true]");
    assertThat(bind("consumer-restriction", "{\"whitelist\": [\"jack\"]}").toString())
        .isEqualTo(
            "Config[type=consumer_name, whitelist=[jack], blacklist=null, allowedByMethods=null,"
                + " rejectedCode=403, rejectedMsg=null]");
    assertThat(bind("mocking", "{\"response_example\": \"x\"}").toString())
        .isEqualTo(
            "Config[delay=0, responseStatus=200, contentType=application/json;charset=utf8,"
                + " responseExample=x, responseSchema=null, withMockHeader=true,"
                + " responseHeaders=null]");
    assertThat(bind("api-breaker", "{\"break_response_code\": 502}").toString())
        .isEqualTo(
            "Config[breakResponseCode=502, breakResponseBody=null, breakResponseHeaders=null,"
                + " maxBreakerSec=300, unhealthy=Unhealthy[httpStatuses=[500], failures=3],"
                + " healthy=Healthy[httpStatuses=[200], successes=3]]");
    assertThat(bind("gzip", "{}").toString())
        .isEqualTo(
            "Config[types=[\"text/html\"], minLength=20, compLevel=1, httpVersion=1.1,"
                + " buffers=Buffers[number=32, size=4096], vary=null]");
    assertThat(bind("request-id", "{\"algorithm\": \"ksuid\"}").toString())
        .contains("algorithm=ksuid");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          ua-restriction | {'allowlist': ['a'], 'denylist': ['b']} | plugins.ua-restriction:
          ua-restriction | {}                           | plugins.ua-restriction:
          ua-restriction | {'denylist': ['(']}          | plugins.ua-restriction.denylist[0]: "(" (expected: a valid regular expression
          referer-restriction | {'whitelist': ['http://a.example']} | plugins.referer-restriction.whitelist[0]: "http://a.example" (expected: a host, or *.suffix)
          referer-restriction | {'whitelist': []}     | plugins.referer-restriction.whitelist:
          uri-blocker | {}                              | plugins.uri-blocker.block_rules: missing
          uri-blocker | {'block_rules': ['(']}          | plugins.uri-blocker.block_rules[0]: "(" (expected: a valid regular expression
          uri-blocker | {'block_rules': ['a'], 'rejected_code': 100} | plugins.uri-blocker.rejected_code: 100 (expected: 200..599)
          client-control | {'max_body_size': -1}        | plugins.client-control.max_body_size: -1 (expected: >= 0)
          proxy-control | {'request_buffering': 'no'}  | plugins.proxy-control.request_buffering: "no" (expected: boolean)
          consumer-restriction | {}                     | plugins.consumer-restriction:
          consumer-restriction | {'type': 'consumer', 'whitelist': ['a']} | plugins.consumer-restriction.type: "consumer" (expected: one of consumer_name, consumer_group_id, service_id, route_id)
          consumer-restriction | {'allowed_by_methods': [{'user': 'a', 'methods': ['FETCH']}]} | plugins.consumer-restriction.allowed_by_methods[0].methods[0]: "FETCH" (expected: one of
          mocking     | {'delay': 1}                    | plugins.mocking:
          mocking     | {'response_example': 'x', 'delay': -1} | plugins.mocking.delay: -1 (expected: >= 0)
          api-breaker | {}                              | plugins.api-breaker.break_response_code: missing
          api-breaker | {'break_response_code': 502, 'max_breaker_sec': 2} | plugins.api-breaker.max_breaker_sec: 2 (expected: >= 3)
          api-breaker | {'break_response_code': 502, 'unhealthy': {'http_statuses': [404]}} | plugins.api-breaker.unhealthy.http_statuses[0]: 404 (expected: 500..599)
          api-breaker | {'break_response_code': 502, 'break_response_headers': [{'key': 'a'}]} | plugins.api-breaker.break_response_headers[0].value: missing
          gzip        | {'comp_level': 10}              | plugins.gzip.comp_level: 10 (expected: 1..9)
          gzip        | {'types': 'text/html'}          | plugins.gzip.types: "text/html" (expected: a list of content types, or "*")
          gzip        | {'http_version': 2}             | plugins.gzip.http_version: 2 (expected: one of
          request-id  | {'algorithm': 'snowflake'}      | plugins.request-id.algorithm: "snowflake" (expected: one of uuid, nanoid, range_id, ksuid)
          """)
  void badConfigurationsAreRefusedNamingTheField(String plugin, String conf, String start)
      throws Exception {
    assertThat(check(plugin, conf)).anySatisfy(p -> assertThat(p).startsWith(start.strip()));
  }

  @Test
  void goodConfigurationsPass() throws Exception {
    assertThat(check("gzip", "{'types': '*', 'http_version': 1.0, 'vary': true}")).isEmpty();
    assertThat(check("referer-restriction", "{'blacklist': ['*.bad.example', 'x.example:8080']}"))
        .isEmpty();
    assertThat(
            check(
                "mocking",
                "{'response_schema': {'type': 'object', 'properties': {'a': {'type': 'string'}}},"
                    + " 'response_headers': {'x-a': 'b', 'x-n': 1}}"))
        .isEmpty();
    assertThat(
            check(
                "consumer-restriction",
                "{'type': 'route_id', 'blacklist': ['r1'], 'rejected_msg': 'no'}"))
        .isEmpty();
  }

  @Test
  void whatTheSchemaCannotSayIsCheckedWhenCompiled() throws Exception {
    var mocking = REGISTRY.get("mocking");
    assertThatThrownBy(
            () ->
                compile(mocking, "{\"response_example\": \"x\", \"content_type\": \"image/png\"}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("content_type: \"image/png\" (expected: one of application/json");
    assertThatThrownBy(
            () ->
                compile(
                    mocking,
                    "{\"response_schema\": {\"type\": \"object\"}, \"content_type\": \"text/html\"}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("to write a response_schema's example in");
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void compile(io.archway.dataplane.plugin.Plugin plugin, String conf)
      throws Exception {
    var c = PluginRegistry.bind(plugin, ModelJson.mapper().readTree(conf));
    plugin.compile(c, new PluginScope("routes/r", null));
  }

  @Test
  void refusedPluginsSayWhyInTheDataplaneToo() throws Exception {
    var problems = new java.util.ArrayList<Problem>();
    for (var name :
        List.of(
            "serverless-pre-function",
            "serverless-post-function",
            "dubbo-proxy",
            "http-dubbo",
            "brotli")) {
      var entry =
          REGISTRY.compileOne(
              name,
              (com.fasterxml.jackson.databind.node.ObjectNode) ModelJson.mapper().readTree("{}"),
              new PluginScope("routes/r", null),
              "plugins." + name,
              problems);
      assertThat(entry).isNull();
    }
    assertThat(problems)
        .extracting(Problem::toString)
        .satisfiesExactly(
            p ->
                assertThat(p)
                    .contains(
                        "refused by Archway: Archway cannot run Lua", "plugin flow", "Java plugin"),
            p -> assertThat(p).contains("refused by Archway: Archway cannot run Lua"),
            p -> assertThat(p).contains("does not speak the Dubbo protocol"),
            p -> assertThat(p).contains("does not speak the Dubbo protocol"),
            p -> assertThat(p).contains("brotli4j", "not on Archway's class path"));
  }
}
