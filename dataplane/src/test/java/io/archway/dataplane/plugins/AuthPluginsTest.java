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
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * forward-auth, csrf, hmac-auth, multi-auth, request-validation and proxy-mirror: APISIX's schemas
 * and defaults, configurations refused with the field named, and the token and signature formats.
 */
class AuthPluginsTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();
  private static final PluginServices SERVICES = new PluginServices();

  @AfterAll
  static void close() {
    SERVICES.close();
  }

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

  /** The problems of compiling {@code conf} as a route's plugin {@code name}. */
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
  void defaultsAreApisixs() throws Exception {
    assertThat(bind("forward-auth", "{\"uri\": \"http://auth\"}").toString())
        .isEqualTo(
            "Config[uri=http://auth, sslVerify=true, requestMethod=GET, requestHeaders=[],"
                + " extraHeaders=null, upstreamHeaders=[], clientHeaders=[], consumerHeader=null,"
                + " timeout=3000, keepalive=true,"
                + " keepaliveTimeout=60000, keepalivePool=5, allowDegradation=false,"
                + " statusOnError=403]");
    assertThat(bind("csrf", "{\"key\": \"k\"}").toString())
        .isEqualTo("Config[key=k, expires=7200, name=apisix-csrf-token]");
    assertThat(bind("hmac-auth", "{}").toString())
        .isEqualTo(
            "Config[allowedAlgorithms=[hmac-sha1, hmac-sha256, hmac-sha512], clockSkew=300,"
                + " signedHeaders=null, validateRequestBody=false, hideCredentials=false,"
                + " anonymousConsumer=null]");
    assertThat(bind("request-validation", "{\"body_schema\": {}}").toString())
        .isEqualTo("Config[headerSchema=null, bodySchema={}, rejectedCode=400, rejectedMsg=null]");
    assertThat(bind("proxy-mirror", "{\"host\": \"http://m:1\"}").toString())
        .isEqualTo(
            "Config[host=http://m:1, path=null, pathConcatMode=replace, sampleRatio=1.0,"
                + " mirrors=null]");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          forward-auth | {}                                 | plugins.forward-auth.uri: missing (expected: string)
          forward-auth | {'uri': 'http://a', 'request_method': 'PUT'} | plugins.forward-auth.request_method: "PUT" (expected: one of GET, POST)
          forward-auth | {'uri': 'http://a', 'timeout': 0}  | plugins.forward-auth.timeout: 0 (expected: 1..60000)
          csrf         | {}                                 | plugins.csrf.key: missing (expected: string)
          hmac-auth    | {'allowed_algorithms': ['md5']}    | plugins.hmac-auth.allowed_algorithms[0]: "md5" (expected: one of hmac-sha1, hmac-sha256, hmac-sha512)
          hmac-auth    | {'clock_skew': 0}                  | plugins.hmac-auth.clock_skew: 0 (expected: >= 1)
          multi-auth   | {'auth_plugins': [{'key-auth': {}}]} | plugins.multi-auth.auth_plugins: [{"key-auth":{}}] (expected: at least 2 item(s))
          request-validation | {}                           | plugins.request-validation: header_schema and body_schema both missing (expected: at least one of them)
          request-validation | {'body_schema': {}, 'rejected_code': 600} | plugins.request-validation.rejected_code: 600 (expected: 200..599)
          proxy-mirror | {'host': 'http://m/path'}          | plugins.proxy-mirror.host: "http://m/path" (expected: scheme://host[:port], e.g. http://127.0.0.1:9797 (no path))
          proxy-mirror | {'host': 'http://m', 'sample_ratio': 0} | plugins.proxy-mirror.sample_ratio: 0 (expected: 0.00001..1)
          proxy-mirror | {'host': 'http://m', 'mirrors': [{'sample_ratio': 0.5}]} | plugins.proxy-mirror.mirrors[0].host: missing (expected: scheme://host[:port], e.g. http://127.0.0.1:9797 (no path))
          proxy-mirror | {'host': 'http://m', 'mirrors': [{'host': 'http://n/x'}]} | plugins.proxy-mirror.mirrors[0].host: "http://n/x" (expected: scheme://host[:port], e.g. http://127.0.0.1:9797 (no path))
          """)
  void badConfigurationsNameTheField(String name, String conf, String message) throws Exception {
    assertThat(check(name, conf)).contains(message);
  }

  @Test
  void compileRefusesWhatTheSchemaCannotSay() throws Exception {
    assertThat(compile("forward-auth", "{'uri': 'ftp://auth'}"))
        .containsExactly("plugins.forward-auth: uri: \"ftp://auth\" (expected: an http(s) URL)");
    // gRPC mirrors are spoken to over HTTP/2 (GrpcIT.aGrpcMirrorGetsACopyOfEachCallOverHttp2).
    assertThat(compile("proxy-mirror", "{'host': 'grpc://m:1'}")).isEmpty();
    assertThat(compile("proxy-mirror", "{'host': 'grpcs://m:1'}")).isEmpty();
    // A traffic-split entry's proxy-rewrite is checked as a route's.
    assertThat(
            compile(
                "traffic-split",
                "{'rules': [{'weighted_upstreams': [{'weight': 1, 'plugins': {'proxy-rewrite':"
                    + " {'method': 'FETCH'}}}]}]}"))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("weighted_upstreams[0].plugins.proxy-rewrite.method");
    assertThat(
            compile(
                "proxy-mirror",
                "{'host': 'http://m:1', 'mirrors': [{'host': 'grpc://n:1', 'sample_ratio': 0.5}]}"))
        .isEmpty();
    assertThat(compile("multi-auth", "{'auth_plugins': [{'key-auth': {}}, {'cors': {}}]}"))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("auth_plugins[1].cors: not an authentication plugin (expected: one of")
        .contains("hmac-auth");
    assertThat(
            compile(
                "multi-auth",
                "{'auth_plugins': [{'key-auth': {'heder': 'x'}}, {'basic-auth': {}}]}"))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("auth_plugins[0].key-auth.heder: unknown field");
    assertThat(compile("multi-auth", "{'auth_plugins': [{'key-auth': {}}, {'no-such': {}}]}"))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("auth_plugins[1].no-such: unknown plugin");
    assertThat(compile("multi-auth", "{'auth_plugins': [{'key-auth': {}}, {'hmac-auth': {}}]}"))
        .isEmpty();
    assertThat(compile("request-validation", "{'body_schema': {'type': 'no-such-type'}}"))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("plugins.request-validation: body_schema: not a valid JSON Schema");
    assertThat(
            compile(
                "request-validation",
                "{'header_schema': {'$ref': 'http://schemas.example/h.json'}}"))
        .containsExactly(
            "plugins.request-validation: header_schema: $ref \"http://schemas.example/h.json\""
                + " (expected: a reference inside the schema, #...)");
  }

  @Test
  void hmacConsumerSchemaWantsKeyIdAndSecret() throws Exception {
    var problems =
        PluginSchemas.checkConsumer(
            "hmac-auth", ModelJson.mapper().readTree("{\"key_id\": \"k\"}"), "plugins.hmac-auth");
    assertThat(problems)
        .extracting(Problem::toString)
        .containsExactly("plugins.hmac-auth.secret_key: missing (expected: string)");
    assertThat(REGISTRY.credentialField("hmac-auth")).isEqualTo("key_id");
  }

  @Test
  void csrfTokensAreApisixs() throws Exception {
    var conf = new CsrfPlugin.Config("secret", 7200, "apisix-csrf-token");
    long now = 1_700_000_000L;
    var token = CsrfPlugin.token("secret", now);
    assertThat(CsrfPlugin.valid(conf, token, now + 10)).isTrue();
    assertThat(CsrfPlugin.valid(conf, token, now + 7201)).isFalse();
    assertThat(CsrfPlugin.valid(new CsrfPlugin.Config("other", 7200, "n"), token, now)).isFalse();
    assertThat(CsrfPlugin.valid(new CsrfPlugin.Config("secret", 0, "n"), token, now + 99999))
        .isTrue();
    // A token as APISIX writes it: Lua's %.14g numbers, the sign over
    // {expires:..,random:..,key:..}.
    var sign = CsrfPlugin.sign("0.84018771676347", "1700000000", "secret");
    assertThat(sign)
        .isEqualTo(
            java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-256")
                        .digest(
                            "{expires:1700000000,random:0.84018771676347,key:secret}"
                                .getBytes(StandardCharsets.UTF_8))));
    var apisix =
        Base64.getEncoder()
            .encodeToString(
                ("{\"random\":0.84018771676347,\"expires\":1700000000,\"sign\":\"" + sign + "\"}")
                    .getBytes(StandardCharsets.UTF_8));
    assertThat(CsrfPlugin.valid(conf, apisix, now)).isTrue();
    assertThat(CsrfPlugin.valid(conf, "not base64!", now)).isFalse();
    assertThat(
            CsrfPlugin.valid(
                conf, Base64.getEncoder().encodeToString("{\"random\":1}".getBytes()), now))
        .isFalse();
  }

  @Test
  void luaWritesNumbersWithFourteenDigits() {
    assertThat(CsrfPlugin.luaNumber(0.8401877167634700123)).isEqualTo("0.84018771676347");
    assertThat(CsrfPlugin.luaNumber(1700000000)).isEqualTo("1700000000");
    assertThat(CsrfPlugin.luaNumber(0.5)).isEqualTo("0.5");
    assertThat(CsrfPlugin.luaNumber(1.5e-5)).isEqualTo("1.5e-05");
    assertThat(CsrfPlugin.luaNumber(1e14)).isEqualTo("1e+14");
    assertThat(CsrfPlugin.luaNumber(0.0001)).isEqualTo("0.0001");
  }

  @Test
  void cookieTimeIsNginxs() {
    assertThat(CsrfPlugin.cookieTime(1290079655L)).isEqualTo("Thu, 18-Nov-10 11:27:35 GMT");
    assertThat(CsrfPlugin.cookieTime(2208988800L)).isEqualTo("Sun, 01-Jan-2040 00:00:00 GMT");
  }

  @Test
  void hmacAuthorizationHeaderIsParsedAsApisix() {
    var p =
        HmacAuthPlugin.parse(
            "Signature keyId=\"jack\",algorithm=\"hmac-sha256\",headers=\"@request-target date\","
                + "signature=\"abc=\"",
            "Tue, 19 Jan 2038 03:14:07 GMT");
    assertThat(p.keyId()).isEqualTo("jack");
    assertThat(p.algorithm()).isEqualTo("hmac-sha256");
    assertThat(p.headers()).containsExactly("@request-target", "date");
    assertThat(p.signature()).isEqualTo("abc=");
    assertThat(HmacAuthPlugin.parse("Basic xyz", null)).isNull();
    assertThat(HmacAuthPlugin.parse("Signature keyId=jack", null).keyId()).isNull();
    // RFC 4231 test case 2.
    assertThat(
            java.util.HexFormat.of()
                .formatHex(
                    HmacAuthPlugin.hmac("hmac-sha256", "Jefe", "what do ya want for nothing?")))
        .isEqualTo("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
}
