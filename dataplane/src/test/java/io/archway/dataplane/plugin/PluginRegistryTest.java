package io.archway.dataplane.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The registry against the schema files: one schema per plugin, one plugin per schema. */
class PluginRegistryTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();

  /** A valid configuration of each plugin with required fields. */
  private static final Map<String, String> MINIMAL =
      Map.ofEntries(
          Map.entry("limit-count", "{\"count\": 1, \"time_window\": 1}"),
          Map.entry("limit-req", "{\"rate\": 1, \"burst\": 0, \"key\": \"remote_addr\"}"),
          Map.entry(
              "limit-conn",
              "{\"conn\": 1, \"burst\": 0, \"default_conn_delay\": 0.1, \"key\": \"remote_addr\"}"),
          Map.entry("ip-restriction", "{\"whitelist\": [\"10.0.0.0/8\"]}"),
          Map.entry("redirect", "{\"uri\": \"/x\"}"),
          Map.entry("echo", "{\"body\": \"x\"}"),
          Map.entry("fault-injection", "{\"abort\": {\"http_status\": 500}}"),
          Map.entry("http-logger", "{\"uri\": \"http://127.0.0.1:1/log\"}"),
          Map.entry(
              "kafka-logger",
              "{\"brokers\": [{\"host\": \"127.0.0.1\", \"port\": 9092}], \"kafka_topic\": \"t\"}"),
          Map.entry("real-ip", "{\"source\": \"http_x_real_ip\"}"),
          Map.entry("ua-restriction", "{\"denylist\": [\"bot\"]}"),
          Map.entry("referer-restriction", "{\"whitelist\": [\"a.example\"]}"),
          Map.entry("uri-blocker", "{\"block_rules\": [\"^/admin\"]}"),
          Map.entry("consumer-restriction", "{\"whitelist\": [\"jack\"]}"),
          Map.entry("mocking", "{\"response_example\": \"x\"}"),
          Map.entry("api-breaker", "{\"break_response_code\": 502}"),
          Map.entry("ai-proxy", "{\"provider\": \"openai\", \"auth\": {}}"),
          Map.entry("ai-rate-limiting", "{\"limit\": 1, \"time_window\": 1}"),
          Map.entry(
              "ai-request-rewrite", "{\"prompt\": \"p\", \"provider\": \"openai\", \"auth\": {}}"),
          Map.entry(
              "ai-prompt-decorator", "{\"append\": [{\"role\": \"user\", \"content\": \"x\"}]}"),
          Map.entry(
              "ai-prompt-template",
              "{\"templates\": [{\"name\": \"t\", \"template\": {\"model\": \"m\"}}]}"),
          Map.entry(
              "ai-proxy-multi",
              "{\"instances\": [{\"name\": \"a\", \"provider\": \"openai\", \"weight\": 1,"
                  + " \"auth\": {}}]}"),
          Map.entry(
              "grpc-transcode", "{\"proto_id\": \"1\", \"service\": \"a.S\", \"method\": \"M\"}"),
          Map.entry(
              "openid-connect",
              "{\"client_id\": \"c\", \"client_secret\": \"s\","
                  + " \"discovery\": \"http://127.0.0.1:1/.well-known/openid-configuration\"}"),
          Map.entry("workflow", "{\"rules\": [{\"actions\": [[\"return\", {\"code\": 403}]]}]}"),
          Map.entry("forward-auth", "{\"uri\": \"http://127.0.0.1:1/auth\"}"),
          Map.entry("csrf", "{\"key\": \"k\"}"),
          Map.entry("multi-auth", "{\"auth_plugins\": [{\"key-auth\": {}}, {\"basic-auth\": {}}]}"),
          Map.entry("request-validation", "{\"header_schema\": {\"type\": \"object\"}}"),
          Map.entry("proxy-mirror", "{\"host\": \"http://127.0.0.1:1\"}"),
          Map.entry(
              "zipkin",
              "{\"endpoint\": \"http://127.0.0.1:9411/api/v2/spans\", \"sample_ratio\": 1}"),
          Map.entry("attach-consumer-label", "{\"headers\": {\"X-Team\": \"$team\"}}"),
          Map.entry("degraphql", "{\"query\": \"{ persons { id } }\"}"),
          Map.entry("body-transformer", "{\"request\": {\"template\": \"x\"}}"),
          Map.entry(
              "ai-aws-content-moderation",
              "{\"comprehend\": {\"access_key_id\": \"a\", \"secret_access_key\": \"s\","
                  + " \"region\": \"us-east-1\"}}"),
          Map.entry(
              "ai-aliyun-content-moderation",
              "{\"endpoint\": \"http://127.0.0.1:1\", \"region_id\": \"r\", \"access_key_id\": \"a\","
                  + " \"access_key_secret\": \"s\"}"),
          Map.entry(
              "ai-content-moderation",
              "{\"provider\": {\"aws_comprehend\": {\"access_key_id\": \"a\","
                  + " \"secret_access_key\": \"s\", \"region\": \"us-east-1\"}},"
                  + " \"type\": \"openai\"}"),
          Map.entry(
              "ai-rag",
              "{\"embeddings_provider\": {\"azure_openai\": {\"endpoint\": \"http://127.0.0.1:1/e\","
                  + " \"api_key\": \"k\"}}, \"vector_search_provider\": {\"azure_ai_search\":"
                  + " {\"endpoint\": \"http://127.0.0.1:1/s\", \"api_key\": \"k\"}}}"),
          Map.entry(
              "ldap-auth", "{\"base_dn\": \"ou=users,dc=example\", \"ldap_uri\": \"127.0.0.1:1\"}"),
          Map.entry("authz-casbin", "{\"username\": \"user\"}"),
          Map.entry(
              "cas-auth",
              "{\"idp_uri\": \"http://127.0.0.1:1/cas\", \"cas_callback_uri\": \"/cb\","
                  + " \"logout_uri\": \"/logout\"}"),
          Map.entry(
              "authz-casdoor",
              "{\"endpoint_addr\": \"http://127.0.0.1:1\", \"client_id\": \"c\","
                  + " \"client_secret\": \"s\", \"callback_url\": \"http://gw/cb\"}"),
          Map.entry(
              "authz-keycloak",
              "{\"client_id\": \"c\", \"token_endpoint\": \"http://127.0.0.1:1/token\"}"),
          Map.entry("opa", "{\"host\": \"http://127.0.0.1:1\", \"policy\": \"p\"}"),
          Map.entry(
              "splunk-hec-logging",
              "{\"endpoint\": {\"uri\": \"http://127.0.0.1:8088/services/collector\","
                  + " \"token\": \"t\"}}"),
          Map.entry("loggly", "{\"customer_token\": \"t\"}"),
          Map.entry(
              "google-cloud-logging",
              "{\"auth_config\": {\"client_email\": \"e\", \"private_key\": \"k\","
                  + " \"project_id\": \"p\"}}"),
          Map.entry(
              "sls-logger",
              "{\"host\": \"127.0.0.1\", \"port\": 10009, \"project\": \"p\","
                  + " \"logstore\": \"l\", \"access_key_id\": \"i\", \"access_key_secret\": \"s\"}"),
          Map.entry(
              "tencent-cloud-cls",
              "{\"cls_host\": \"127.0.0.1\", \"cls_topic\": \"t\", \"secret_id\": \"i\","
                  + " \"secret_key\": \"k\"}"),
          Map.entry(
              "lago",
              "{\"endpoint_addrs\": [\"http://127.0.0.1:3000\"], \"token\": \"t\","
                  + " \"event_transaction_id\": \"$request_id\", \"event_subscription_id\": \"s\","
                  + " \"event_code\": \"c\"}"),
          Map.entry("aws-lambda", "{\"function_uri\": \"http://127.0.0.1:1/f\"}"),
          Map.entry("azure-functions", "{\"function_uri\": \"http://127.0.0.1:1/f\"}"),
          Map.entry("openfunction", "{\"function_uri\": \"http://127.0.0.1:1/f\"}"),
          Map.entry(
              "openwhisk",
              "{\"api_host\": \"http://127.0.0.1:1\", \"service_token\": \"u:k\","
                  + " \"namespace\": \"guest\", \"action\": \"hello\"}"));

  /** The observability loggers' minimal configurations. */
  private static final Map<String, String> MINIMAL_LOGGERS =
      Map.of(
          "file-logger", "{\"path\": \"logs/file.log\"}",
          "tcp-logger", "{\"host\": \"127.0.0.1\", \"port\": 5044}",
          "udp-logger", "{\"host\": \"127.0.0.1\", \"port\": 5044}",
          "syslog", "{\"host\": \"127.0.0.1\", \"port\": 514}",
          "loki-logger", "{\"endpoint_addrs\": [\"http://127.0.0.1:3100\"]}",
          "elasticsearch-logger",
              "{\"endpoint_addrs\": [\"http://127.0.0.1:9200\"], \"field\": {\"index\": \"i\"}}",
          "clickhouse-logger",
              "{\"endpoint_addr\": \"http://127.0.0.1:8123\", \"user\": \"u\", \"password\": \"p\","
                  + " \"database\": \"d\", \"logtable\": \"t\"}",
          "skywalking-logger", "{\"endpoint_addr\": \"http://127.0.0.1:12800\"}");

  @Test
  void everyPluginHasASchemaFileAndEverySchemaFileAPlugin() {
    assertThat(REGISTRY.names()).containsExactlyElementsOf(PluginSchemas.withSchema());
    for (var name : REGISTRY.names()) {
      assertThat(REGISTRY.schema(name)).as(name).isPresent();
    }
  }

  @Test
  void everyPluginClassOfThePluginsPackageIsRegistered() throws Exception {
    // The directory the built-in plugins were compiled to (test classes have one by that name too).
    var builtin = REGISTRY.get("key-auth").getClass();
    var dir = Path.of(builtin.getResource(builtin.getSimpleName() + ".class").toURI()).getParent();
    var classes = new TreeSet<String>();
    try (var files = Files.list(dir)) {
      files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith("Plugin.class"))
          .forEach(n -> classes.add(n.substring(0, n.length() - ".class".length())));
    }
    var registered =
        REGISTRY.names().stream()
            .map(n -> REGISTRY.get(n).getClass().getSimpleName())
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(registered).isEqualTo(classes);
  }

  @Test
  void theListingIsCompleteAndSortedByName() {
    var list = REGISTRY.list();
    assertThat(list)
        .extracting(PluginRegistry.Info::name)
        .containsExactlyElementsOf(REGISTRY.names());
    assertThat(list).isSortedAccordingTo(Comparator.comparing(PluginRegistry.Info::name));
    var realIp = list.stream().filter(i -> i.name().equals("real-ip")).findFirst().orElseThrow();
    assertThat(realIp.priority()).isEqualTo(23000);
    assertThat(realIp.phases()).containsExactly(Plugin.Phase.REWRITE);
    assertThat(realIp.schema().path("required").toString()).isEqualTo("[\"source\"]");
    var limitCount =
        list.stream().filter(i -> i.name().equals("limit-count")).findFirst().orElseThrow();
    assertThat(limitCount.results()).containsExactly("remaining");
    assertThat(REGISTRY.schema("no-such-plugin")).isEmpty();
    assertThat(REGISTRY.schema("ext-plugin-pre-req")).isEmpty();
  }

  @Test
  void eachRecordHasExactlyTheFieldsOfItsSchema() {
    var snake = new PropertyNamingStrategies.SnakeCaseStrategy();
    for (var name : REGISTRY.names()) {
      var plugin = REGISTRY.get(name);
      var fields =
          Arrays.stream(plugin.configType().getRecordComponents())
              .map(
                  c -> {
                    // A field that is a Java keyword (openwhisk's "package") is named by the
                    // annotation on its accessor.
                    var named = c.getAccessor().getAnnotation(JsonProperty.class);
                    return named != null ? named.value() : snake.translate(c.getName());
                  })
              .collect(Collectors.toCollection(TreeSet::new));
      var properties = new TreeSet<String>();
      REGISTRY
          .schema(name)
          .orElseThrow()
          .path("properties")
          .fieldNames()
          .forEachRemaining(properties::add);
      assertThat(fields).as(name).isEqualTo(properties);
    }
  }

  @Test
  void eachMinimalConfigurationBindsWithTheSchemasDefaults() throws Exception {
    for (var name : REGISTRY.names()) {
      var conf =
          (ObjectNode) json(MINIMAL.getOrDefault(name, MINIMAL_LOGGERS.getOrDefault(name, "{}")));
      var problems = PluginSchemas.check(name, conf, name);
      if (!problems.isEmpty()) {
        // Only the plugins whose every field is optional are given "{}", and for the others the
        // rule between fields is what is missing.
        assertThat(name).isIn("traffic-split", "kafka-proxy");
      }
      assertThat(PluginRegistry.bind(REGISTRY.get(name), conf)).as(name).isNotNull();
    }
  }

  @Test
  void defaultsComeFromTheSchema() throws Exception {
    var keyAuth = bind("key-auth", "{}");
    assertThat(keyAuth.toString())
        .isEqualTo(
            "Config[header=apikey, query=apikey, hideCredentials=false, anonymousConsumer=null]");
    var limitCount = bind("limit-count", "{\"count\": 2, \"time_window\": 60, \"_meta\": {}}");
    assertThat(limitCount.toString()).contains("key=var remote_addr", "policy=local");
    var requestId = bind("request-id", "{\"algorithm\": \"range_id\"}");
    assertThat(requestId.toString())
        .contains(
            "rangeId=RangeId[charSet=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789, length=16]");
    var fault = bind("fault-injection", "{\"delay\": {\"duration\": 1}}");
    assertThat(fault.toString()).contains("percentage=100");
  }

  @Test
  void compilingReportsSchemaProblemsWithTheirPathsAndLeavesThePluginOut() throws Exception {
    var problems = new ArrayList<Problem>();
    var scope = new PluginScope("routes/r", null);
    var chain =
        REGISTRY.compile(
            Map.of(
                "limit-count",
                (ObjectNode) json("{\"count\": -1, \"time_window\": 1}"),
                "real-ip",
                (ObjectNode)
                    json(
                        "{\"source\": \"http_x_real_ip\", \"trusted_addresses\": [\"10.0.0.0/33\"]}")),
            scope,
            "plugins",
            problems);
    assertThat(chain.entries()).isEmpty();
    assertThat(problems)
        .extracting(Problem::toString)
        .containsExactlyInAnyOrder(
            "plugins.limit-count.count: -1 (expected: >= 1)",
            "plugins.real-ip.trusted_addresses[0]: \"10.0.0.0/33\" (expected: prefix length 0..32)");
  }

  @Test
  void bindingWhatTheSchemaRefusedFailsWithAMessage() {
    assertThatThrownBy(() -> bind("limit-count", "{\"count\": \"x\", \"time_window\": 1}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("does not fit Config");
  }

  private static Record bind(String name, String conf) throws Exception {
    return PluginRegistry.bind(REGISTRY.get(name), json(conf));
  }

  private static JsonNode json(String s) throws Exception {
    return ModelJson.mapper().readTree(s);
  }
}
