package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.testing.TestUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Admin API in API-driven standalone mode: {@link AdminApiContract}'s calls, and what only this
 * mode has: the config written back to the file, hand edits of it, {@code /apisix/admin/configs}
 * with {@code X-Digest}, the no-key rule.
 */
class AdminApiIT extends AdminApiContract {

  @TempDir Path dir;
  private Path file;

  @Override
  void prepare(TestUpstream upstream) throws Exception {
    file = dir.resolve("apisix.yaml");
    Files.writeString(
        file,
        "routes:\n  - id: file\n    uri: /from-file\n    upstream:\n      nodes:\n        \""
            + upstream.node()
            + "\": 1\n#END\n");
  }

  @Override
  DataplaneOptions options() {
    return DataplaneOptions.standaloneOnLoopback(file);
  }

  /** The whole config, read and sent back with the object added: no per-object checks there. */
  @Override
  void writeBehindTheApi(String key, String json) throws Exception {
    var config =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            json(admin("GET", "/apisix/admin/configs", null));
    var value = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(json);
    int slash = key.indexOf('/');
    value.put("id", key.substring(slash + 1));
    config.withArray(key.substring(0, slash)).add(value);
    var put = admin("PUT", "/apisix/admin/configs", JSON.writeValueAsString(config));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(202);
  }

  @Override
  boolean servedOnAnswer() {
    return true;
  }

  @Override
  void assertStoredSecret(String secret) throws Exception {
    assertThat(Files.readString(file)).contains(secret);
  }

  /**
   * APISIX's standalone form: credentials in {@code consumers:} with their whole id (how the Admin
   * API writes them back); Archway's {@code credentials:} section too. Read the same with the Admin
   * API on (its store) and off (the file source).
   */
  @Test
  void aFileWithConsumerGroupsAndCredentialsLoads() throws Exception {
    dataplane.close();
    dataplane = null;
    Files.writeString(
        file,
        """
        routes:
          - id: file
            uri: /from-file
            plugins:
              key-auth: {}
            upstream:
              nodes:
                "%s": 1
        consumer_groups:
          - id: gold
            plugins:
              response-rewrite:
                headers:
                  set:
                    X-Tier: gold
        consumers:
          - username: jack
            group_id: gold
          - id: jack/credentials/a
            plugins:
              key-auth:
                key: key-a
        credentials:
          - id: jack/credentials/b
            plugins:
              key-auth:
                key: key-b
        #END
        """
            .formatted(upstream.node()));
    for (var withAdmin : new boolean[] {true, false}) {
      dataplane =
          withAdmin
              ? startDataplane()
              : new Dataplane(DataplaneOptions.standaloneOnLoopback(file)).start();
      await().atMost(Duration.ofSeconds(10)).until(() -> dataplane.config().loaded());
      assertThat(data("/from-file").statusCode()).isEqualTo(401);
      for (var key : new String[] {"key-a", "key-b"}) {
        var ok = dataWith("/from-file", "apikey", key);
        assertThat(ok.statusCode()).as(key + " admin " + withAdmin).isEqualTo(200);
        assertThat(ok.headers().firstValue("X-Tier")).hasValue("gold");
      }
      if (withAdmin) {
        assertThat(
                json(admin("GET", "/apisix/admin/consumers/jack/credentials", null))
                    .get("total")
                    .asInt())
            .isEqualTo(2);
        assertThat(admin("GET", "/apisix/admin/consumer_groups/gold", null).statusCode())
            .isEqualTo(200);
      }
      dataplane.close();
    }
    dataplane = null;
  }

  @Test
  void writesArePersistedAndSurviveARestart() throws Exception {
    assertThat(admin("PUT", "/apisix/admin/routes/kept", route("/kept")).statusCode())
        .isEqualTo(201);
    assertThat(
            admin("PUT", "/apisix/admin/protos/1", "{\"content\":\"syntax = \\\"proto3\\\";\"}")
                .statusCode())
        .isEqualTo(201);
    var text = Files.readString(file);
    assertThat(text).contains("/kept").contains("protos:").endsWith("#END\n");
    dataplane.close();
    dataplane = startDataplane();
    assertThat(data("/kept").body()).isEqualTo("up1");
    assertThat(admin("GET", "/apisix/admin/protos/1", null).statusCode()).isEqualTo(200);
  }

  @Test
  void anEditOfTheFileIsStillApplied() throws Exception {
    assertThat(admin("PUT", "/apisix/admin/routes/api", route("/api")).statusCode()).isEqualTo(201);
    io.archway.model.testing.TestFiles.replaceAtomically(
        file,
        "routes:\n  - id: edited\n    uri: /edited\n    upstream:\n      nodes:\n        \""
            + upstream.node()
            + "\": 1\n#END\n");
    await().atMost(Duration.ofSeconds(10)).until(() -> data("/edited").statusCode() == 200);
    assertThat(data("/api").statusCode()).isEqualTo(404);
    assertThat(json(admin("GET", "/apisix/admin/routes", null)).get("total").asInt()).isEqualTo(1);
  }

  @Test
  void withoutAKeyOnlyLoopbackMayServe() {
    var open = new AdminSettings(true, "0.0.0.0", 0, null, null, java.util.List.of(), false, false);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new Dataplane(DataplaneOptions.standaloneOnLoopback(file).withAdmin(open)).start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("without --admin-key: refused");
  }

  @Test
  void wholeConfigReplacedWithDigest() throws Exception {
    var config =
        "{\"routes\":[{\"id\":\"a\",\"uri\":\"/a\",\"upstream\":{\"nodes\":{\""
            + upstream.node()
            + "\":1}}}],\"routes_conf_version\":3}";
    var put = admin("PUT", "/apisix/admin/configs", config, "X-Digest", "d1");
    assertThat(put.statusCode()).as(put.body()).isEqualTo(202);
    assertThat(data("/a").statusCode()).isEqualTo(200);
    assertThat(data("/from-file").statusCode()).isEqualTo(404);
    var get = admin("GET", "/apisix/admin/configs", null);
    assertThat(get.headers().firstValue("X-Digest")).hasValue("d1");
    assertThat(get.headers().firstValue("X-Last-Modified")).isPresent();
    assertThat(json(get).get("routes").size()).isEqualTo(1);
    // The same digest again: nothing changes, whatever the body.
    assertThat(admin("PUT", "/apisix/admin/configs", "{}", "X-Digest", "d1").statusCode())
        .isEqualTo(202);
    assertThat(data("/a").statusCode()).isEqualTo(200);
    var invalid = admin("PUT", "/apisix/admin/configs", "{\"routes\":[{\"uri\":\"x\"}]}");
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(data("/a").statusCode()).isEqualTo(200);
  }

  /**
   * A backup with a viewer's {@code GET /configs} (secrets masked) restored with {@code PUT
   * /configs}: every masked secret keeps its stored value, so traffic still authenticates, and a
   * mask with nothing stored to keep is refused naming the object and the field.
   */
  @Test
  void aMaskedWholeConfigSentBackKeepsEverySecret() throws Exception {
    var pki =
        io.archway.dataplane.testing.Pki.server(
            io.archway.dataplane.testing.Pki.authority("ca"), false, "example.com");
    var privateKey = io.archway.dataplane.testing.Pki.keyPem(pki);
    var ssl = JSON.createObjectNode();
    ssl.put("cert", io.archway.dataplane.testing.Pki.chainPem(pki)).put("key", privateKey);
    ssl.putArray("snis").add("example.com");
    var flow =
        "{\"rule\":{\"root\":\"a\"},\"conf\":{\"a\":{\"name\":\"limit-count\",\"conf\":"
            + "{\"count\":100,\"time_window\":60,\"policy\":\"redis\",\"redis_host\":\"127.0.0.1\","
            + "\"redis_password\":\"flow-pw\"}}}}";
    for (var write :
        new String[][] {
          {
            "consumers/jack",
            "{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"jack-key\"}}}"
          },
          {
            "consumers/jack/credentials/c1", "{\"plugins\":{\"key-auth\":{\"key\":\"jack-key-2\"}}}"
          },
          {
            "consumers/jill",
            "{\"username\":\"jill\",\"plugins\":{\"basic-auth\":"
                + "{\"username\":\"jill\",\"password\":\"jill-pw\"}}}"
          },
          {"ssls/s1", JSON.writeValueAsString(ssl)},
          {"plugin_flows/f1", flow},
          {"routes/ka", keyAuthRoute("/ka")},
          {"routes/ba", keyAuthRoute("/ba").replace("key-auth", "basic-auth")}
        }) {
      var put = admin("PUT", "/apisix/admin/" + write[0], write[1]);
      assertThat(put.statusCode()).as(write[0] + ": " + put.body()).isEqualTo(201);
    }
    var basic =
        "Basic "
            + java.util.Base64.getEncoder()
                .encodeToString("jill:jill-pw".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    var backup =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            json(call("GET", "/apisix/admin/configs", null, "X-API-KEY", VIEWER));
    assertThat(backup.toString())
        .contains("******")
        .doesNotContain("jack-key")
        .doesNotContain("jill-pw")
        .doesNotContain("flow-pw")
        .doesNotContain("PRIVATE KEY");
    var restore = admin("PUT", "/apisix/admin/configs", JSON.writeValueAsString(backup));
    assertThat(restore.statusCode()).as(restore.body()).isEqualTo(202);
    assertThat(dataWith("/ka", "apikey", "jack-key").statusCode()).isEqualTo(200);
    assertThat(dataWith("/ka", "apikey", "jack-key-2").statusCode()).isEqualTo(200);
    assertThat(dataWith("/ka", "apikey", "******").statusCode()).isEqualTo(401);
    assertThat(dataWith("/ba", "Authorization", basic).statusCode()).isEqualTo(200);
    var whole = json(admin("GET", "/apisix/admin/configs", null)).toString();
    assertThat(whole).contains("flow-pw").contains("jill-pw").doesNotContain("******");
    assertThat(json(admin("GET", "/apisix/admin/ssls/s1", null)).at("/value/key").asText())
        .isEqualTo("******");
    var stored = JSON.readTree(whole);
    for (var s : stored.get("ssls")) {
      assertThat(s.get("key").asText()).isEqualTo(privateKey);
    }
    // The single-object path still masks.
    for (var shown :
        new String[][] {
          {"consumers/jack", "/value/plugins/key-auth/key"},
          {"consumers/jill", "/value/plugins/basic-auth/password"},
          {"consumers/jack/credentials/c1", "/value/plugins/key-auth/key"},
          {"plugin_flows/f1", "/value/conf/a/conf/redis_password"}
        }) {
      assertThat(json(admin("GET", "/apisix/admin/" + shown[0], null)).at(shown[1]).asText())
          .as(shown[0])
          .isEqualTo("******");
    }
    // The masked backup pasted into the file by hand, with a route added: the same.
    var pasted = backup.deepCopy();
    pasted
        .withArray("routes")
        .add(
            ((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(route("/hand")))
                .put("id", "hand"));
    Files.writeString(file, JSON.writeValueAsString(pasted) + "\n#END\n");
    await().atMost(Duration.ofSeconds(10)).until(() -> data("/hand").statusCode() == 200);
    assertThat(dataWith("/ka", "apikey", "jack-key").statusCode()).isEqualTo(200);
    assertThat(dataWith("/ba", "Authorization", basic).statusCode()).isEqualTo(200);
    // A mask for a consumer the config does not have: refused, nothing changes.
    backup
        .withArray("consumers")
        .addObject()
        .put("username", "mallory")
        .putObject("plugins")
        .putObject("key-auth")
        .put("key", "******");
    var refused = admin("PUT", "/apisix/admin/configs", JSON.writeValueAsString(backup));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(json(refused).get("error_msg").asText())
        .contains("consumers/mallory")
        .contains("plugins.key-auth.key");
    assertThat(admin("GET", "/apisix/admin/consumers/mallory", null).statusCode()).isEqualTo(404);
    assertThat(dataWith("/ka", "apikey", "******").statusCode()).isEqualTo(401);
    assertThat(dataWith("/ka", "apikey", "jack-key").statusCode()).isEqualTo(200);
    // The same for one object: a new consumer's mask is not a key.
    var one =
        admin(
            "PUT",
            "/apisix/admin/consumers/eve",
            "{\"username\":\"eve\",\"plugins\":{\"key-auth\":{\"key\":\"******\"}}}");
    assertThat(one.statusCode()).as(one.body()).isEqualTo(400);
    assertThat(json(one).get("error_msg").asText()).contains("plugins.key-auth.key");
  }

  /**
   * A keyless loopback Admin API and browsers: a cross-site "simple" POST (text/plain, no
   * preflight) and a DNS-rebinding page's requests (its own name as Host) are refused and write
   * nothing; curl's form-encoded writes without an Origin and the Studio's same-origin calls work.
   */
  @Test
  void browsersCannotBeUsedAgainstAKeylessAdminApi() throws Exception {
    dataplane.close();
    dataplane = null;
    dataplane =
        new Dataplane(
                DataplaneOptions.standaloneOnLoopback(file)
                    .withAdmin(AdminSettings.onLoopback(null, null, false)))
            .start();
    await().atMost(Duration.ofSeconds(10)).until(() -> dataplane.config().loaded());
    int port = dataplane.servers().adminPort();
    var route = "{\"uri\":\"/evil\",\"upstream\":{\"nodes\":{\"127.0.0.1:1\":1}}}";
    var crossSite =
        raw(
            port,
            "POST /apisix/admin/routes HTTP/1.1\r\nHost: 127.0.0.1:"
                + port
                + "\r\nOrigin: https://evil.example\r\nContent-Type: text/plain\r\n",
            route);
    assertThat(crossSite).startsWith("HTTP/1.1 403").contains("origin not allowed");
    var rebound =
        raw(
            port,
            "PUT /apisix/admin/routes/evil HTTP/1.1\r\nHost: evil.example:"
                + port
                + "\r\nOrigin: http://evil.example:"
                + port
                + "\r\nContent-Type: application/json\r\n",
            route);
    assertThat(rebound).startsWith("HTTP/1.1 403").contains("host not allowed");
    var read = raw(port, "GET /apisix/admin/routes HTTP/1.1\r\nHost: evil.example\r\n", null);
    assertThat(read).startsWith("HTTP/1.1 403");
    assertThat(json(admin("GET", "/apisix/admin/routes", null)).get("total").asInt()).isEqualTo(1);
    // curl -d: form-encoded, no Origin.
    var curl =
        raw(
            port,
            "PUT /apisix/admin/routes/ok HTTP/1.1\r\nHost: 127.0.0.1:"
                + port
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\n",
            route.replace("/evil", "/ok"));
    assertThat(curl).startsWith("HTTP/1.1 201");
    // The Studio, same origin, through localhost.
    var studio =
        raw(
            port,
            "PATCH /apisix/admin/routes/ok HTTP/1.1\r\nHost: localhost:"
                + port
                + "\r\nOrigin: http://localhost:"
                + port
                + "\r\nContent-Type: application/json\r\n",
            "{\"desc\":\"studio\"}");
    assertThat(studio).startsWith("HTTP/1.1 200");
    assertThat(raw(port, "GET /ui/ HTTP/1.1\r\nHost: evil.example\r\n", null))
        .startsWith("HTTP/1.1 403");
  }

  /** One request on its own connection; the whole answer. */
  static String raw(int port, String head, String body) throws Exception {
    try (var s = new java.net.Socket("127.0.0.1", port)) {
      var bytes =
          body == null ? new byte[0] : body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      var out = s.getOutputStream();
      out.write(
          (head + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      out.write(bytes);
      out.flush();
      s.setSoTimeout(20_000);
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }
}
