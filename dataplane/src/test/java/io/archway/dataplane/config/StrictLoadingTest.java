package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Nothing in a standalone file is kept without being acted on: what the dataplane does not run or
 * understand is an error that names it, from the loader or from the compiler.
 */
class StrictLoadingTest {

  private static final StandaloneCheck CHECK = new StandaloneCheck();

  @AfterAll
  static void close() {
    CHECK.close();
  }

  private static String problems(String yaml) {
    return String.join("\n", CHECK.problems(yaml + "#END\n"));
  }

  /** A route's upstream, at a route's field indentation in the files below. */
  private static final String UPSTREAM =
      "    upstream:\n      nodes:\n        \"127.0.0.1:1980\": 1\n";

  @Test
  void aValidFileHasNoProblems() {
    assertThat(
            CHECK.problems(
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
                """))
        .isEmpty();
  }

  @Test
  void unknownPluginsOnDisabledRoutesAndUnusedServicesAndPluginConfigsAreNamed() {
    var out =
        problems(
            """
            routes:
              - id: disabled
                uri: /off
                status: 0
                plugins:
                  no-such-plugin: {}
            %s
            services:
              - id: unused
                plugins:
                  gm: {}
            plugin_configs:
              - id: pc
                plugins:
                  limit-count:
                    count: 0
                    time_window: 60
            """
                .formatted(UPSTREAM));
    assertThat(out)
        .contains(
            "routes/disabled: not served (disabled): plugins.no-such-plugin: unknown plugin"
                + " \"no-such-plugin\" (expected: a plugin Archway runs)")
        .contains(
            "services/unused: not used: plugins.gm: APISIX plugin \"gm\" is"
                + " refused by Archway")
        .contains("plugin_configs/pc: not used: plugins.limit-count.count: 0 (expected: >= 1)");
  }

  @Test
  void oneMessageForAPluginThatIsNotRunWhereverItIs() {
    var onRoute =
        problems(
            """
            routes:
              - id: 1
                uri: /a
                plugins:
                  gm: {}
            %s"""
                .formatted(UPSTREAM));
    var onService =
        problems(
            """
            services:
              - id: 1
                plugins:
                  gm: {}
            """);
    var message = "plugins.gm: APISIX plugin \"gm\" is refused by Archway: gm serves TLS";
    assertThat(onRoute).contains("routes/1: not served: " + message);
    assertThat(onService).contains("services/1: not used: " + message);
  }

  @Test
  void streamRoutesWithPluginsThatDoNotRunThereAreRefused() {
    assertThat(
            problems(
                """
                stream_routes:
                  - id: mqtt
                    server_port: 1883
                    plugins:
                      mqtt-proxi:
                        protocol_name: MQTT
                        protocol_level: 4
                %s"""
                    .formatted(UPSTREAM)))
        .contains("stream_routes/mqtt: plugins.mqtt-proxi: unknown plugin \"mqtt-proxi\"");
  }

  @Test
  void envReferencesAreResolvedAndSecretReferencesRefusedByName() {
    assertThat(System.getenv("PATH")).isNotNull();
    assertThat(
            CHECK.problems(
                """
                routes:
                  - id: 1
                    uri: /a
                    plugins:
                      response-rewrite:
                        headers:
                          set:
                            X-Path: $env://PATH
                    upstream:
                      nodes:
                        "127.0.0.1:1980": 1
                #END
                """))
        .isEmpty();
    var out =
        problems(
            """
            routes:
              - id: 1
                uri: /a
                plugins:
                  response-rewrite:
                    headers:
                      set:
                        X-Secret: $secret://vault/1/jack/auth-key
            %s
              - id: 2
                uri: /b
                plugins:
                  response-rewrite:
                    headers:
                      set:
                        X-Env: $env://ARCHWAY_TEST_NEVER_SET
            %s"""
                .formatted(UPSTREAM, UPSTREAM));
    assertThat(out)
        .contains(
            "routes/1: not served: plugins.response-rewrite.headers.set.X-Secret:"
                + " $secret://vault/1/jack/auth-key: no secret manager secrets/vault/1 (expected:"
                + " a secrets object with id vault/1)")
        .contains(
            "routes/2: not served: plugins.response-rewrite.headers.set.X-Env:"
                + " $env://ARCHWAY_TEST_NEVER_SET: environment variable ARCHWAY_TEST_NEVER_SET is"
                + " not set");
  }

  @Test
  void aConsumerKeyFromASecretManagerIsNeverTakenLiterally() {
    var out =
        problems(
            """
            consumers:
              - username: jack
                plugins:
                  key-auth:
                    key: $secret://vault/1/jack/auth-key
            """);
    assertThat(out).isNotEmpty();
    assertThat(
            CHECK.problems(
                """
            consumers:
              - username: jack
                plugins:
                  key-auth:
                    key: $secret://vault/1/jack/auth-key
            routes:
              - id: 1
                uri: /a
                plugins:
                  key-auth: {}
                upstream:
                  nodes:
                    "127.0.0.1:1980": 1
            #END
            """))
        .isNotEmpty();
  }

  @Test
  void limitPoliciesArchwayDoesNotHaveGetOneMessage() {
    var unit =
        """
        routes:
          - id: 1
            uri: /a
            plugins:
              limit-count:
                count: 2
                time_window: 60
                policy: %s
                redis_cluster_nodes: %s
                redis_cluster_name: c
        %s""";
    // redis-cluster is run now: the unit that was refused loads.
    assertThat(problems(unit.formatted("redis-cluster", "[\"127.0.0.1:7000\"]", UPSTREAM)))
        .isEmpty();
    var out = problems(unit.formatted("memcached", "[\"127.0.0.1:7000\"]", UPSTREAM));
    assertThat(out)
        .contains(
            "plugins.limit-count.policy: \"memcached\" (expected: local, redis (counts"
                + " shared through one Redis server) or redis-cluster (the same through a Redis"
                + " Cluster))");
    assertThat(out.split("\n")).hasSize(1);
    // A cluster without nodes: one message, from the schema.
    out = problems(unit.formatted("redis-cluster", "[]", UPSTREAM));
    assertThat(out)
        .contains(
            "plugins.limit-count.redis_cluster_nodes: [] (expected: host:port of at least one node"
                + " of the cluster)");
    assertThat(out.split("\n")).hasSize(1);
  }

  @Test
  void aChashKeyMustBeARequestVariable() {
    var out =
        problems(
            """
            upstreams:
              - id: 1
                type: chash
                hash_on: vars
                key: $aaa
                nodes:
                  "127.0.0.1:1980": 1
            """);
    assertThat(out)
        .contains(
            "upstreams/1: key: \"$aaa\" is not a request variable (expected, for hash_on vars:");
    assertThat(
            CHECK.problems(
                """
                upstreams:
                  - id: 1
                    type: chash
                    key: arg_user
                    nodes:
                      "127.0.0.1:1980": 1
                #END
                """))
        .isEmpty();
  }

  static List<String> lines(String s) {
    return List.of(s.split("\n"));
  }
}
