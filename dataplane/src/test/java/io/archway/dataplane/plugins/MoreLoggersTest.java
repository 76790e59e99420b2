package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The cloud loggers' schemas, defaults, checks and the pieces that can be checked alone. */
class MoreLoggersTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();
  private static final PluginServices SERVICES = new PluginServices();

  @AfterAll
  static void close() {
    SERVICES.close();
  }

  static Record bind(String name, String conf) throws Exception {
    return PluginRegistry.bind(
        REGISTRY.get(name), ModelJson.mapper().readTree(conf.replace('\'', '"')));
  }

  static List<String> check(String name, String conf) throws Exception {
    return PluginSchemas.check(
            name, ModelJson.mapper().readTree(conf.replace('\'', '"')), "plugins." + name)
        .stream()
        .map(Problem::toString)
        .toList();
  }

  static List<String> compile(String name, String conf) throws Exception {
    var problems = new ArrayList<Problem>();
    REGISTRY.compileOne(
        name,
        (ObjectNode) ModelJson.mapper().readTree(conf.replace('\'', '"')),
        new PluginScope("routes/r", SERVICES),
        "plugins." + name,
        problems);
    return problems.stream().map(Problem::toString).toList();
  }

  @Test
  void prioritiesAreApisixs() {
    assertThat(REGISTRY.get("lago").priority()).isEqualTo(415);
    assertThat(REGISTRY.get("loggly").priority()).isEqualTo(411);
    assertThat(REGISTRY.get("splunk-hec-logging").priority()).isEqualTo(409);
    assertThat(REGISTRY.get("google-cloud-logging").priority()).isEqualTo(407);
    assertThat(REGISTRY.get("sls-logger").priority()).isEqualTo(406);
    assertThat(REGISTRY.get("tencent-cloud-cls").priority()).isEqualTo(397);
  }

  @Test
  void defaultsAreApisixs() throws Exception {
    assertThat(
            bind("splunk-hec-logging", "{'endpoint': {'uri': 'http://h:8088/x', 'token': 't'}}")
                .toString())
        .isEqualTo(
            "Config[endpoint=Endpoint[uri=http://h:8088/x, token=t, channel=null, timeout=10,"
                + " keepaliveTimeout=60000], sslVerify=true, logFormat=null,"
                + " name=splunk-hec-logging, batchMaxSize=1000, inactiveTimeout=5.0,"
                + " bufferDuration=60.0, maxRetryCount=0, retryDelay=1.0]");
    assertThat(bind("loggly", "{'customer_token': 't'}").toString())
        .contains("severity=INFO", "tags=[apisix]", "sslVerify=true", "name=loggly");
    assertThat(
            bind(
                    "google-cloud-logging",
                    "{'auth_config': {'client_email': 'e', 'private_key': 'k', 'project_id': 'p'}}")
                .toString())
        .contains(
            "tokenUri=https://oauth2.googleapis.com/token",
            "entriesUri=https://logging.googleapis.com/v2/entries:write",
            "https://www.googleapis.com/auth/logging.admin",
            "resource={\"type\":\"global\"}",
            "logId=apisix.apache.org%2Flogs");
    assertThat(
            bind(
                    "sls-logger",
                    "{'host': 'h', 'port': 1, 'project': 'p', 'logstore': 'l', 'access_key_id': 'i',"
                        + " 'access_key_secret': 's'}")
                .toString())
        .contains("name=sls-logger", "timeout=5000");
    assertThat(
            bind(
                    "tencent-cloud-cls",
                    "{'cls_host': 'h', 'cls_topic': 't', 'secret_id': 'i', 'secret_key': 'k'}")
                .toString())
        .contains("sampleRatio=1.0", "name=tencent-cloud-cls");
    assertThat(
            bind(
                    "lago",
                    "{'endpoint_addrs': ['http://l'], 'token': 't', 'event_transaction_id': 'x',"
                        + " 'event_subscription_id': 's', 'event_code': 'c'}")
                .toString())
        .contains(
            "endpointUri=/api/v1/events/batch",
            "name=lago logger",
            "batchMaxSize=100",
            "timeout=3000");
  }

  @Test
  void schemasRefuseWhatApisixRefuses() throws Exception {
    assertThat(check("splunk-hec-logging", "{'endpoint': {'uri': 'http://h'}}"))
        .containsExactly("plugins.splunk-hec-logging.endpoint.token: missing (expected: string)");
    assertThat(check("loggly", "{'customer_token': 't', 'severity': 'LOUD'}")).hasSize(1);
    assertThat(check("loggly", "{'customer_token': 't', 'tags': ['tag=x']}")).hasSize(1);
    assertThat(check("google-cloud-logging", "{}")).isNotEmpty();
    assertThat(
            check(
                "google-cloud-logging",
                "{'auth_file': 'f', 'auth_config': {'client_email': 'e', 'private_key': 'k',"
                    + " 'project_id': 'p'}}"))
        .isNotEmpty();
    assertThat(check("tencent-cloud-cls", "{'cls_host': 'h', 'cls_topic': 't', 'secret_id': 'i'}"))
        .hasSize(1);
    assertThat(
            check(
                "tencent-cloud-cls",
                "{'cls_host': 'h', 'cls_topic': 't', 'secret_id': 'i', 'secret_key': 'k',"
                    + " 'sample_ratio': 0}"))
        .hasSize(1);
    assertThat(check("lago", "{'endpoint_addrs': ['http://l'], 'token': 't'}")).hasSize(3);
  }

  @Test
  void compilingChecksWhatTheSchemaCannot() throws Exception {
    assertThat(compile("loggly", "{'customer_token': 't', 'severity_map': {'600': 'ERR'}}"))
        .singleElement()
        .asString()
        .contains("severity_map: \"600\" (expected: HTTP response codes, 100 to 599, as keys)");
    assertThat(
            compile(
                "google-cloud-logging",
                "{'auth_config': {'client_email': 'e', 'private_key': 'not a key',"
                    + " 'project_id': 'p'}}"))
        .singleElement()
        .asString()
        .contains("auth_config.private_key: not a PEM PKCS #8 RSA private key");
    assertThat(compile("google-cloud-logging", "{'auth_file': '/no/such/file.json'}"))
        .singleElement()
        .asString()
        .contains("auth_file: \"/no/such/file.json\" cannot be read");
  }

  @Test
  void loggersWithoutMetadataOrWithTheirOwnCheckIt() {
    var sls = REGISTRY.get("sls-logger");
    var metadata = ModelJson.mapper().createObjectNode();
    sls.metadata(null, SERVICES);
    metadata.putObject("log_format").put("a", "$uri");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sls.metadata(metadata, SERVICES))
        .hasMessageContaining("sls-logger has no plugin_metadata");
    var loggly = REGISTRY.get("loggly");
    var m = ModelJson.mapper().createObjectNode().put("protocol", "tcp");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> loggly.metadata(m, SERVICES))
        .hasMessage("protocol: \"tcp\" (expected: one of syslog, http, https)");
    loggly.metadata(
        ModelJson.mapper().createObjectNode().put("host", "h").put("port", 514), SERVICES);
  }

  /** A vector computed apart (Python's hashlib and hmac) from the CLS signing steps. */
  @Test
  void clsSignatureMatchesAVectorComputedApart() {
    assertThat(
            TencentCloudClsPlugin.authorization(
                "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
                1_700_000_000L))
        .isEqualTo(
            "q-sign-algorithm=sha1&q-ak=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
                + "&q-sign-time=1700000000;1700000060&q-key-time=1700000000;1700000060"
                + "&q-header-list=&q-url-param-list="
                + "&q-signature=335b9d281c9165f8f5d166336b393689e8c54d51");
  }

  @Test
  void clsLogGroupListIsTheProtobufClsDefines() throws Exception {
    var e = ModelJson.mapper().createObjectNode().put("k", "v");
    var bytes = TencentCloudClsPlugin.logGroupList(List.of(e), 1L, "10.0.0.1");
    // LogGroupList{1: LogGroup{1: Log{1: 1, 2: Content{1: "k", 2: "v"}}, 4: "10.0.0.1"}},
    // encoded apart (by hand, in Python).
    assertThat(java.util.HexFormat.of().formatHex(bytes))
        .isEqualTo("0a160a0a080112060a016b120176220831302e302e302e31");
  }

  @Test
  void googleJwtIsSignedWithTheServiceAccountsKey() throws Exception {
    var gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    var keys = gen.generateKeyPair();
    var pem =
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder().encodeToString(keys.getPrivate().getEncoded())
            + "\n-----END PRIVATE KEY-----\n";
    var auth =
        new GoogleCloudLoggingPlugin.AuthConfig(
            "sa@p.iam.gserviceaccount.com", pem, "p", "https://t/token", List.of("a", "b"), null);
    var oauth = GoogleCloudLoggingPlugin.account(auth, true, SERVICES);
    var jwt =
        oauth.assertion("https://t/token", Instant.ofEpochSecond(1_700_000_000L)).split("\\.");
    var sig = Signature.getInstance("SHA256withRSA");
    sig.initVerify(keys.getPublic());
    sig.update((jwt[0] + "." + jwt[1]).getBytes(StandardCharsets.US_ASCII));
    assertThat(sig.verify(Base64.getUrlDecoder().decode(jwt[2]))).isTrue();
    assertThat(new String(Base64.getUrlDecoder().decode(jwt[0]), StandardCharsets.UTF_8))
        .isEqualTo("{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    assertThat(new String(Base64.getUrlDecoder().decode(jwt[1]), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"iss\":\"sa@p.iam.gserviceaccount.com\",\"aud\":\"https://t/token\","
                + "\"scope\":\"a b\",\"iat\":1700000000,\"exp\":1700003600}");
  }

  @Test
  void splunkEventSummarisesTheDefaultEntry() throws Exception {
    var entry =
        (ObjectNode)
            ModelJson.mapper()
                .readTree(
                    "{\"request\":{\"url\":\"http://h:80/a\",\"method\":\"GET\",\"headers\":{},"
                        + "\"querystring\":{},\"size\":10},\"response\":{\"status\":200,"
                        + "\"size\":5},\"latency\":1.5,\"upstream\":\"127.0.0.1:80\"}");
    var event = SplunkHecLoggingPlugin.event(entry, false);
    assertThat(event.path("event").toString())
        .isEqualTo(
            "{\"request_url\":\"http://h:80/a\",\"request_method\":\"GET\",\"request_headers\":{},"
                + "\"request_query\":{},\"request_size\":10,\"response_status\":200,"
                + "\"response_size\":5,\"latency\":1.5,\"upstream\":\"127.0.0.1:80\"}");
    assertThat(SplunkHecLoggingPlugin.event(entry, true).path("event")).isSameAs(entry);
  }

  @Test
  void logRotateChecksItsMetadata() throws Exception {
    var rotate = REGISTRY.get("log-rotate");
    assertThat(rotate.priority()).isEqualTo(100);
    assertThat(rotate.phases()).isEmpty();
    rotate.metadata(
        (ObjectNode)
            ModelJson.mapper()
                .readTree(
                    "{\"interval\": 3600, \"max_kept\": 168, \"max_size\": -1,"
                        + " \"enable_compression\": false}"),
        SERVICES);
    for (var bad :
        List.of(
            "{\"interval\": 0}",
            "{\"max_kept\": 0}",
            "{\"max_size\": \"1m\"}",
            "{\"enable_compression\": \"yes\"}",
            "{\"rotate\": true}")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> rotate.metadata((ObjectNode) ModelJson.mapper().readTree(bad), SERVICES))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
