package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The plugin schemas as the operator and the dataplane use them. */
class PluginSchemasTest {

  static List<String> check(String plugin, String conf) {
    return PluginSchemas.check(plugin, JsonSchemaTest.json(conf), "plugins." + plugin).stream()
        .map(Problem::toString)
        .toList();
  }

  @Test
  void everySchemaFileLoadsAndNamesItsPlugin() {
    assertThat(List.copyOf(PluginSchemas.withSchema()))
        .contains("limit-count", "key-auth", "real-ip", "traffic-split")
        .isSorted();
    for (var name : PluginSchemas.withSchema()) {
      var schema = PluginSchemas.schema(name).orElseThrow();
      assertThat(schema.json().path("title").asText()).isEqualTo(name);
      assertThat(schema.json().path("type").asText()).isEqualTo("object");
      assertThat(schema.json().path("description").asText()).as(name).isNotEmpty();
    }
  }

  @Test
  void namesKnownAndRun() {
    assertThat(List.copyOf(PluginSchemas.names()))
        .contains("hmac-auth", "real-ip", "limit-count", "authz-casdoor")
        .doesNotContain("casdoor")
        .isSorted();
    assertThat(PluginSchemas.known("hmac-auth")).isTrue();
    assertThat(PluginSchemas.runs("authz-casdoor")).isTrue();
    // Not an APISIX name (APISIX's plugin is authz-casdoor): unknown.
    assertThat(PluginSchemas.known("casdoor")).isFalse();
    assertThat(PluginSchemas.known("real-ip")).isTrue();
    assertThat(PluginSchemas.known("no-such")).isFalse();
    assertThat(PluginSchemas.known("../plugins/key-auth")).isFalse();
    assertThat(PluginSchemas.schema("ext-plugin-pre-req")).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          limit-count | {'count': 0, 'time_window': 1} | plugins.limit-count.count: 0 (expected: >= 1)
          limit-count | {'time_window': '60', 'count': 1} | plugins.limit-count.time_window: "60" (expected: integer)
          limit-count | {'count': 1}                    | plugins.limit-count.time_window: missing (expected: integer > 0, seconds)
          limit-count | {'count': 1, 'time_window': 1, 'rejected_code': 700} | plugins.limit-count.rejected_code: 700 (expected: 200..599)
          limit-req   | {'rate': 1, 'burst': 0}         | plugins.limit-req.key: missing (expected: string, e.g. remote_addr)
          limit-req   | {'rate': 0, 'burst': 0, 'key': 'k'} | plugins.limit-req.rate: 0 (expected: > 0)
          key-auth    | {'heder': 'apikey'}             | plugins.key-auth.heder: unknown field
          ip-restriction | {'whitelist': ['10.0.0.0/33']} | plugins.ip-restriction.whitelist[0]: "10.0.0.0/33" (expected: prefix length 0..32)
          ip-restriction | {}                           | plugins.ip-restriction: whitelist and blacklist both missing (expected: exactly one of them)
          redirect    | {'uri': '/a', 'http_to_https': true} | plugins.redirect: expected exactly one of http_to_https, uri, regex_uri
          proxy-rewrite | {'regex_uri': ['^/a', '/b', '^/c']} | plugins.proxy-rewrite.regex_uri: odd number of items (expected: pairs of [regex, replacement])
          proxy-rewrite | {'uri': 'a'}                  | plugins.proxy-rewrite.uri: "a" (expected: starts with "/")
          echo        | {}                              | plugins.echo: before_body, body and after_body all missing (expected: at least one)
          fault-injection | {}                          | plugins.fault-injection: abort and delay both missing (expected: at least one of them)
          fault-injection | {'abort': {}}               | plugins.fault-injection.abort.http_status: missing (expected: integer 200..599)
          http-logger | {'uri': 'ftp://x'}              | plugins.http-logger.uri: "ftp://x" (expected: matches ^https?://.+)
          kafka-logger | {'kafka_topic': 't', 'brokers': [{'host': 'h'}]} | plugins.kafka-logger.brokers[0].port: missing (expected: integer 1..65535)
          kafka-proxy | {'sasl': {'username': 'u'}}     | plugins.kafka-proxy.sasl.password: missing (expected: string)
          traffic-split | {'rules': [{'weighted_upstreams': [{'upstream_id': true}]}]} | plugins.traffic-split.rules[0].weighted_upstreams[0].upstream_id: true (expected: string matching ^[a-zA-Z0-9-_.]{1,64}$)
          traffic-split | {'rules': [{'weighted_upstreams': [{'plugins': {'limit-count': {}}}]}]} | plugins.traffic-split.rules[0].weighted_upstreams[0].plugins.limit-count: unknown field
          traffic-split | {'rules': [{'weighted_upstreams': [{'plugins': {'proxy-rewrite': {'cors': true}}}]}]} | plugins.traffic-split.rules[0].weighted_upstreams[0].plugins.proxy-rewrite.cors: unknown field
          response-rewrite | {'vars': [['status', '=', 200]]} | plugins.response-rewrite.vars[0][1]: "=" (expected: one of ==, ~=, >, >=, <, <=, ~~, ~*, in, has, ipmatch)
          real-ip     | {}                              | plugins.real-ip.source: missing (expected: a variable such as http_x_forwarded_for, http_<header> or arg_<name>)
          gm          | {}                              | plugins.gm: APISIX plugin "gm" is refused by Archway: gm serves TLS with the Chinese SM2/SM3/SM4 suites (GB/T 38636), which need Tongsuo; the JDK's TLS and Netty's have none of them (expected: TLS 1.2/1.3 with the certificates of ssls objects)
          no-such     | {}                              | plugins.no-such: unknown plugin "no-such" (expected: a plugin Archway runs)
          serverless-pre-function | {'functions': ['return function() end']} | plugins.serverless-pre-function: APISIX plugin "serverless-pre-function" is refused by Archway: Archway cannot run Lua, so serverless functions are refused (expected: a plugin flow, plugin_flow or plugin_flow_id, for conditions between plugins, or a Java plugin: a class implementing io.archway.dataplane.plugin.Plugin, registered as a ServiceLoader provider)
          dubbo-proxy | {}                              | plugins.dubbo-proxy: APISIX plugin "dubbo-proxy" is refused by Archway: Archway does not speak the Dubbo protocol, and no Dubbo server runs in its tests to check it against, so it is refused rather than half served (expected: an HTTP or gRPC upstream, such as a Dubbo 3 service on its gRPC-compatible Triple protocol)
          brotli      | {}                              | plugins.brotli: APISIX plugin "brotli" is refused by Archway: Brotli needs a native encoder (brotli4j, which Netty's brotli support uses) that is not on Archway's class path (expected: gzip, which compresses responses as they stream)
          rocketmq-logger | {'topic': 't'}         | plugins.rocketmq-logger: APISIX plugin "rocketmq-logger" is refused by Archway: Archway has no RocketMQ client: RocketMQ's remoting client brings a Netty build of its own onto the dataplane's class path, and no RocketMQ broker runs in Archway's tests to check a producer against (expected: kafka-logger, or http-logger or tcp-logger to a collector that forwards to RocketMQ)
          """)
  void problemsKeepArchwaysWording(String plugin, String conf, String message) {
    assertThat(check(plugin, conf)).contains(message);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          limit-count | {'count': 1, 'time_window': 1, 'policy': 'redis-cluster', 'redis_cluster_nodes': ['10.0.0.1:6379'], 'redis_cluster_name': 'c', 'redis_password': 'p', 'redis_timeout': 1000, 'redis_cluster_ssl': true, 'redis_cluster_ssl_verify': false}
          limit-req   | {'rate': 1, 'burst': 0, 'key': 'remote_addr', 'policy': 'redis-cluster', 'redis_cluster_nodes': ['a:1', 'b:2'], 'redis_cluster_name': 'c', 'redis_keepalive_timeout': 10000, 'redis_keepalive_pool': 100}
          limit-conn  | {'conn': 1, 'burst': 0, 'default_conn_delay': 0.1, 'key': 'remote_addr', 'policy': 'redis-cluster', 'redis_cluster_nodes': ['a:1'], 'redis_cluster_name': 'c'}
          """)
  void theRateLimitersTakeRedisCluster(String plugin, String conf) {
    assertThat(check(plugin, conf)).isEmpty();
  }

  @Test
  void metaIsAllowedEverywhereAndLooseSchemasLetOtherFieldsThrough() {
    assertThat(check("key-auth", "{'_meta': {'disable': true}}")).isEmpty();
    assertThat(check("limit-count", "{'count': 1, 'time_window': 1, 'redis_prefix': 'x'}"))
        .isEmpty();
    // redis_cluster_nodes is named since redis-cluster is run: an empty list is refused.
    assertThat(check("limit-count", "{'count': 1, 'time_window': 1, 'redis_cluster_nodes': []}"))
        .containsExactly(
            "plugins.limit-count.redis_cluster_nodes: [] (expected: host:port of at least one node"
                + " of the cluster)");
    assertThat(check("key-auth", "[]")).containsExactly("plugins.key-auth: [] (expected: object)");
  }
}
