package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelTest {

  @Test
  void keyLayoutIsApisixs() {
    var keys = Keys.of(Keys.DEFAULT_PREFIX);
    assertThat(keys.key(Kind.ROUTES, "1")).isEqualTo("/apisix/routes/1");
    assertThat(keys.key(Kind.PLUGIN_METADATA, "syslog"))
        .isEqualTo("/apisix/plugin_metadata/syslog");
    assertThat(keys.parse("/apisix/stream_routes/r-1"))
        .contains(new Keys.Key(Kind.STREAM_ROUTES, "r-1"));
    assertThat(keys.parse("/apisix/routes")).isEmpty();
    assertThat(keys.parse("/apisix/routes/")).isEmpty();
    assertThat(keys.parse("/apisix/unknown/1")).isEmpty();
    assertThat(keys.parse("/other/routes/1")).isEmpty();
    assertThat(Keys.of("/gw/").key(Kind.UPSTREAMS, "u")).isEqualTo("/gw/upstreams/u");
    assertThatThrownBy(() -> Keys.of("apisix")).hasMessageContaining("starts with \"/\"");
  }

  @Test
  void credentialsAreKeyedUnderTheirConsumerAndGroupsInTheirOwnDirectory() throws Exception {
    var keys = Keys.of(Keys.DEFAULT_PREFIX);
    assertThat(keys.parse("/apisix/consumers/jack/credentials/c1"))
        .contains(new Keys.Key(Kind.CREDENTIALS, "jack/credentials/c1"));
    assertThat(keys.key(Kind.CREDENTIALS, "jack/credentials/c1"))
        .isEqualTo("/apisix/consumers/jack/credentials/c1");
    assertThat(Keys.item(Kind.CREDENTIALS, "jack/credentials/c1"))
        .isEqualTo("consumers/jack/credentials/c1");
    assertThat(keys.parse("/apisix/consumer_groups/gold"))
        .contains(new Keys.Key(Kind.CONSUMER_GROUPS, "gold"));
    assertThat(keys.parse("/apisix/consumers/jack")).contains(new Keys.Key(Kind.CONSUMERS, "jack"));
    // Not a directory of its own, and nothing deeper or other under a consumer.
    assertThat(keys.parse("/apisix/credentials/c1")).isEmpty();
    assertThat(keys.parse("/apisix/consumers/jack/credentials")).isEmpty();
    assertThat(keys.parse("/apisix/consumers/jack/other/c1")).isEmpty();
    assertThat(keys.parse("/apisix/consumers/jack/credentials/c1/x")).isEmpty();
    assertThat(Keys.parseItem("consumers/jack/credentials/c1"))
        .contains(new Keys.Key(Kind.CREDENTIALS, "jack/credentials/c1"));

    // The Admin API's value names the credential by its last part; the key gives the rest.
    var json =
        ModelJson.mapper().readTree("{\"id\":\"c1\",\"plugins\":{\"key-auth\":{\"key\":\"k\"}}}");
    var c = (Credential) ModelJson.read(Kind.CREDENTIALS, json, "jack/credentials/c1", "x");
    assertThat(c.id()).isEqualTo("jack/credentials/c1");
    assertThat(c.username()).isEqualTo("jack");
    assertThat(c.credentialId()).isEqualTo("c1");
    var other = ModelJson.mapper().readTree("{\"id\":\"c2\",\"plugins\":{}}");
    assertThatThrownBy(() -> ModelJson.read(Kind.CREDENTIALS, other, "jack/credentials/c1", "x"))
        .hasMessageContaining("the id in the key");
    var group = ModelJson.mapper().readTree("{\"desc\":\"d\"}");
    assertThatThrownBy(() -> ModelJson.read(Kind.CONSUMER_GROUPS, group, "g", "x"))
        .hasMessageContaining("plugins: missing");
  }

  @Test
  void authPluginsHaveAConsumerSchema() throws Exception {
    var conf = ModelJson.mapper().readTree("{\"key\":\"\"}");
    assertThat(PluginSchemas.checkConsumer("key-auth", conf, "plugins.key-auth"))
        .extracting(Problem::toString)
        .singleElement()
        .asString()
        .startsWith("plugins.key-auth.key");
    assertThat(
            PluginSchemas.checkConsumer(
                "basic-auth",
                ModelJson.mapper().readTree("{\"username\":\"u\",\"password\":\"p\"}"),
                "p"))
        .isEmpty();
    assertThat(PluginSchemas.consumerSchema("jwt-auth")).isPresent();
    assertThat(PluginSchemas.consumerSchema("limit-count")).isEmpty();
    // Not a plugin of its own: the route side's list is unchanged.
    assertThat(PluginSchemas.withSchema()).doesNotContain("consumer");
  }

  @Test
  void nodeMapKeysInEveryForm() {
    assertThat(UpstreamNode.fromMapKey("10.0.0.1:80", 1))
        .isEqualTo(new UpstreamNode("10.0.0.1", 80, 1, null, null));
    assertThat(UpstreamNode.fromMapKey("[::1]:8080", 2))
        .isEqualTo(new UpstreamNode("::1", 8080, 2, null, null));
    assertThat(UpstreamNode.fromMapKey("::1", 1))
        .isEqualTo(new UpstreamNode("::1", null, 1, null, null));
    assertThat(UpstreamNode.fromMapKey("web.local", 1))
        .isEqualTo(new UpstreamNode("web.local", null, 1, null, null));
    assertThat(UpstreamNode.fromMapKey("host:99999", 1)).isNull();
    assertThat(UpstreamNode.fromMapKey("[::1", 1)).isNull();
    assertThat(new UpstreamNode("::1", 8080, 2, null, null).address()).isEqualTo("[::1]:8080");
  }

  @Test
  void upstreamDefaultsAreApisixs() throws Exception {
    var up =
        (Upstream)
            ModelJson.read(
                Kind.UPSTREAMS,
                "{\"nodes\":{\"127.0.0.1:80\":1},\"checks\":{\"active\":{},\"passive\":{}}}"
                    .getBytes(StandardCharsets.UTF_8),
                "u1",
                "upstreams/u1");
    assertThat(up.id()).isEqualTo("u1");
    assertThat(up.type()).isNull();
    var d = up.withDefaults();
    assertThat(d.type()).isEqualTo("roundrobin");
    assertThat(d.hashOn()).isEqualTo("vars");
    assertThat(d.scheme()).isEqualTo("http");
    assertThat(d.passHost()).isEqualTo("pass");
    assertThat(d.keepalivePool()).isEqualTo(new Upstream.KeepalivePool(320, 60.0, 1000));
    var active = d.checks().active();
    assertThat(active.timeout()).isEqualTo(1.0);
    assertThat(active.concurrency()).isEqualTo(10);
    assertThat(active.httpPath()).isEqualTo("/");
    assertThat(active.healthy().httpStatuses()).containsExactly(200, 302);
    assertThat(active.healthy().successes()).isEqualTo(2);
    assertThat(active.unhealthy().httpFailures()).isEqualTo(5);
    assertThat(active.unhealthy().tcpFailures()).isEqualTo(2);
    assertThat(active.unhealthy().timeouts()).isEqualTo(3);
    var passive = d.checks().passive();
    assertThat(passive.unhealthy().httpStatuses()).containsExactly(429, 500, 503);
    assertThat(passive.unhealthy().timeouts()).isEqualTo(7);
    assertThat(passive.healthy().successes()).isEqualTo(5);
  }

  @Test
  void idInValueMustMatchTheKey() {
    assertThatThrownBy(
            () ->
                ModelJson.read(
                    Kind.ROUTES,
                    "{\"id\":\"2\",\"uri\":\"/\",\"upstream_id\":\"u\"}"
                        .getBytes(StandardCharsets.UTF_8),
                    "1",
                    "routes/1"))
        .hasMessage("routes/1: id: \"2\" (expected: \"1\", the id in the key)");
  }

  @Test
  void notJsonIsOneClearProblem() {
    assertThatThrownBy(
            () ->
                ModelJson.read(
                    Kind.ROUTES, "{oops".getBytes(StandardCharsets.UTF_8), "1", "routes/1"))
        .isInstanceOf(ValidationException.class)
        .hasMessageStartingWith("routes/1: not JSON (");
  }

  @Test
  void routeHelpers() throws Exception {
    var r =
        (Route)
            ModelJson.read(
                Kind.ROUTES,
                "{\"uris\":[\"/a\",\"/b\"],\"upstream_id\":\"u\",\"status\":0}"
                    .getBytes(StandardCharsets.UTF_8),
                "r",
                "routes/r");
    assertThat(r.paths()).isEqualTo(List.of("/a", "/b"));
    assertThat(r.enabled()).isFalse();
    assertThat(r.priorityOrDefault()).isZero();
  }

  @Test
  void privateKeysNeverAppearInMessagesOrToString() throws Exception {
    var bad = "{\"cert\":\"x\",\"key\":\"TOP-SECRET\",\"sni\":\"a.com\"}";
    assertThatThrownBy(
            () -> ModelJson.read(Kind.SSLS, bad.getBytes(StandardCharsets.UTF_8), "s", "ssls/s"))
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("TOP-SECRET"));
  }

  @Test
  void pluginMetadataKeepsItsLabelsApartFromWhatThePluginReads() throws Exception {
    var json =
        ModelJson.mapper()
            .readTree(
                """
                {"log_format": {"host": "$host"},
                 "labels": {"managed-by": "archway", "archway.io/kind": "GatewayProxy"}}
                """);
    var md = (PluginMetadata) ModelJson.read(Kind.PLUGIN_METADATA, json, "http-logger", "pm");
    assertThat(md.value().has("labels")).isFalse();
    assertThat(md.value().get("log_format").get("host").asText()).isEqualTo("$host");
    assertThat(md.labels()).containsEntry("managed-by", "archway");
    // Written back whole: the owner's labels survive a round trip through etcd.
    assertThat(ModelJson.toTree(md).get("labels").get("managed-by").asText()).isEqualTo("archway");
    // Labels are checked as everywhere else.
    assertThatThrownBy(
            () ->
                ModelJson.read(
                    Kind.PLUGIN_METADATA,
                    ModelJson.mapper().readTree("{\"labels\": {\"a\": 1}}"),
                    "http-logger",
                    "pm"))
        .hasMessageContaining("labels.a");
  }
}
