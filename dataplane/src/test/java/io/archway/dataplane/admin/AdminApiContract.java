package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the Admin API does whatever it stores in, over a real dataplane called with a real HTTP
 * client: roles, each method, paging, PATCH of parts, validation errors, lost-update conflicts, a
 * route created through the API then served. {@link AdminApiIT} runs it in standalone mode, {@link
 * EtcdAdminApiIT} on a real etcd; each starts with a route {@code file} ({@code /from-file}).
 */
abstract class AdminApiContract {

  static final String ADMIN = "edd1c9f034335f136f87ad84b625c8f1";
  static final String VIEWER = "4054f7cf07e344346cd3f287985e76a2";
  static final ObjectMapper JSON = new ObjectMapper();

  Dataplane dataplane;
  TestUpstream upstream;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** Puts route {@code file} ({@code /from-file} to {@code upstream}) where the dataplane reads. */
  abstract void prepare(TestUpstream upstream) throws Exception;

  /** The dataplane's options, without the Admin API's. */
  abstract DataplaneOptions options();

  /**
   * Whether a write answers only once the dataplane serves it (standalone: the compile runs before
   * the answer); otherwise (etcd) the watch brings it a moment later.
   */
  abstract boolean servedOnAnswer();

  @BeforeEach
  void start() throws Exception {
    upstream = new TestUpstream("up1");
    prepare(upstream);
    dataplane = startDataplane();
  }

  Dataplane startDataplane() throws Exception {
    return startDataplane(AdminSettings.onLoopback(ADMIN, VIEWER, true));
  }

  Dataplane startDataplane(AdminSettings admin) throws Exception {
    var dp = new Dataplane(options().withAdmin(admin)).start();
    await().atMost(Duration.ofSeconds(10)).until(() -> dp.config().loaded());
    return dp;
  }

  /**
   * The data port's answer for {@code path} once {@code expected} holds: at once where a write is
   * served on its answer (a failure then is the answer's), else when the watch has brought it.
   */
  HttpResponse<String> served(
      String path, java.util.function.Predicate<HttpResponse<String>> expected) throws Exception {
    if (servedOnAnswer()) {
      var r = data(path);
      assertThat(expected.test(r)).as(path + " → " + r.statusCode() + " " + r.body()).isTrue();
      return r;
    }
    return await().atMost(Duration.ofSeconds(10)).until(() -> data(path), expected::test);
  }

  HttpResponse<String> served(String path, int status) throws Exception {
    return served(path, r -> r.statusCode() == status);
  }

  @AfterEach
  void stop() {
    if (dataplane != null) {
      dataplane.close();
    }
    upstream.close();
  }

  HttpResponse<String> call(String method, String path, String body, String... headers)
      throws Exception {
    var b =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + dataplane.servers().adminPort() + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> admin(String method, String path, String body, String... more)
      throws Exception {
    var headers = new String[more.length + 2];
    headers[0] = "X-API-KEY";
    headers[1] = ADMIN;
    System.arraycopy(more, 0, headers, 2, more.length);
    return call(method, path, body, headers);
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  HttpResponse<String> data(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + dataplane.servers().httpPort() + path))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  String route(String uri) {
    return "{\"uri\":\"" + uri + "\",\"upstream\":{\"nodes\":{\"" + upstream.node() + "\":1}}}";
  }

  /** Checks that the secret itself (not its mask) is what the store holds. */
  abstract void assertStoredSecret(String secret) throws Exception;

  @Test
  void rolesDecideWhoReadsAndWhoWrites() throws Exception {
    assertThat(call("GET", "/apisix/admin/routes", null).statusCode()).isEqualTo(401);
    assertThat(call("GET", "/apisix/admin/routes", null, "X-API-KEY", "nope").statusCode())
        .isEqualTo(401);
    assertThat(call("GET", "/apisix/admin/routes", null, "X-API-KEY", VIEWER).statusCode())
        .isEqualTo(200);
    var viewerWrites = call("PUT", "/apisix/admin/routes/v", route("/v"), "X-API-KEY", VIEWER);
    assertThat(viewerWrites.statusCode()).isEqualTo(403);
    assertThat(json(viewerWrites).get("error_msg").asText()).contains("viewer");
    assertThat(call("GET", "/apisix/admin/routes/file?api_key=" + ADMIN, null).statusCode())
        .isEqualTo(200);
    assertThat(call("DELETE", "/apisix/admin/routes/file?api_key=" + VIEWER, null).statusCode())
        .isEqualTo(403);
  }

  @Test
  void aRouteCreatedThroughTheApiIsServed() throws Exception {
    assertThat(data("/hello").statusCode()).isEqualTo(404);
    var put = admin("PUT", "/apisix/admin/routes/1", route("/hello"));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    var body = json(put);
    assertThat(body.get("key").asText()).isEqualTo("/apisix/routes/1");
    assertThat(body.at("/value/id").asText()).isEqualTo("1");
    assertThat(body.at("/value/uri").asText()).isEqualTo("/hello");
    assertThat(body.at("/value/create_time").asLong()).isPositive();
    assertThat(body.get("modifiedIndex").asLong()).isPositive();
    // The write answers once the new config is in force.
    var served = served("/hello", 200);
    assertThat(served.body()).isEqualTo("up1");
    assertThat(admin("PUT", "/apisix/admin/routes/1", route("/hello")).statusCode()).isEqualTo(200);
    assertThat(admin("DELETE", "/apisix/admin/routes/1", null).statusCode()).isEqualTo(200);
    served("/hello", 404);
  }

  @Test
  void aZooKeeperUpstreamIsAnswered503UntilAControlPlaneSeedsItsNodes() throws Exception {
    var put =
        admin(
            "PUT",
            "/apisix/admin/upstreams/zk",
            "{\"discovery_type\":\"zookeeper\",\"service_name\":\"APISIX-ZK\"}");
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    put = admin("PUT", "/apisix/admin/routes/zk", "{\"uri\":\"/zk\",\"upstream_id\":\"zk\"}");
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    served("/zk", 503);
    // What apisix-seed (or the operator in seed mode) writes once the registry answers.
    var node = upstream.node();
    int colon = node.lastIndexOf(':');
    put =
        admin(
            "PUT",
            "/apisix/admin/upstreams/zk",
            "{\"nodes\":[{\"host\":\""
                + node.substring(0, colon)
                + "\",\"port\":"
                + node.substring(colon + 1)
                + ",\"weight\":100}],\"_discovery_type\":\"zookeeper\","
                + "\"_service_name\":\"APISIX-ZK\"}");
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    assertThat(served("/zk", 200).body()).isEqualTo("up1");
    // The file route is still served: the upstream without nodes broke nothing else.
    assertThat(data("/from-file").statusCode()).isEqualTo(200);
  }

  @Test
  void eachMethod() throws Exception {
    var post = admin("POST", "/apisix/admin/routes", route("/posted"));
    assertThat(post.statusCode()).as(post.body()).isEqualTo(201);
    var id = json(post).at("/value/id").asText();
    assertThat(id).matches("\\d{20}");
    var get = admin("GET", "/apisix/admin/routes/" + id, null);
    assertThat(json(get).at("/value/uri").asText()).isEqualTo("/posted");
    assertThat(json(get).get("key").asText()).isEqualTo("/apisix/routes/" + id);

    var merged =
        admin("PATCH", "/apisix/admin/routes/" + id, "{\"name\":\"posted\",\"desc\":\"d\"}");
    assertThat(merged.statusCode()).as(merged.body()).isEqualTo(200);
    assertThat(json(merged).at("/value/name").asText()).isEqualTo("posted");
    assertThat(json(merged).at("/value/uri").asText()).isEqualTo("/posted");
    var removed = admin("PATCH", "/apisix/admin/routes/" + id, "{\"desc\":null}");
    assertThat(json(removed).at("/value").has("desc")).isFalse();

    var other = new TestUpstream("up2");
    try {
      var nodes =
          admin(
              "PATCH",
              "/apisix/admin/routes/" + id + "/upstream/nodes",
              "{\"" + other.node() + "\":1}");
      assertThat(nodes.statusCode()).as(nodes.body()).isEqualTo(200);
      assertThat(json(nodes).at("/value/upstream/nodes").size()).isEqualTo(1);
      served("/posted", r -> r.body().equals("up2"));
    } finally {
      other.close();
    }
    var plugins =
        admin(
            "PATCH",
            "/apisix/admin/routes/" + id + "/plugins",
            "{\"limit-req\":{\"rate\":1,\"burst\":2,\"rejected_code\":503,\"key\":\"remote_addr\"}}");
    assertThat(plugins.statusCode()).as(plugins.body()).isEqualTo(200);
    assertThat(json(plugins).at("/value/plugins/limit-req/rate").asInt()).isEqualTo(1);

    var list = json(admin("GET", "/apisix/admin/routes", null));
    assertThat(list.get("total").asInt()).isEqualTo(2);
    assertThat(list.get("list").get(0).get("key").asText()).startsWith("/apisix/routes/");

    assertThat(admin("DELETE", "/apisix/admin/routes/" + id, null).statusCode()).isEqualTo(200);
    var gone = admin("GET", "/apisix/admin/routes/" + id, null);
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(admin("DELETE", "/apisix/admin/routes/" + id, null).statusCode()).isEqualTo(404);
    assertThat(admin("GET", "/apisix/admin/nothing", null).statusCode()).isEqualTo(404);
    var inBody =
        admin(
            "PUT",
            "/apisix/admin/upstreams",
            "{\"id\":\"web\",\"nodes\":{\"" + upstream.node() + "\":1}}");
    assertThat(inBody.statusCode()).as(inBody.body()).isEqualTo(201);
    assertThat(json(inBody).get("key").asText()).isEqualTo("/apisix/upstreams/web");
    assertThat(admin("POST", "/apisix/admin/consumers", "{}").statusCode()).isEqualTo(405);
    assertThat(admin("PUT", "/apisix/admin/routes/x/plugins", "{}").statusCode()).isEqualTo(405);
    var meta =
        admin(
            "PUT",
            "/apisix/admin/plugin_metadata/http-logger",
            "{\"log_format\":{\"host\":\"$host\"}}");
    assertThat(meta.statusCode()).as(meta.body()).isEqualTo(201);
    assertThat(json(meta).get("key").asText()).isEqualTo("/apisix/plugin_metadata/http-logger");
  }

  @Test
  void listsComeInPagesAndFilter() throws Exception {
    for (int i = 0; i < 25; i++) {
      var body =
          "{\"uri\":\"/p/"
              + i
              + "\",\"name\":\"n"
              + i
              + "\",\"labels\":{\"team\":\""
              + (i % 2 == 0 ? "a" : "b")
              + "\"},\"upstream\":{\"nodes\":{\""
              + upstream.node()
              + "\":1}}}";
      assertThat(admin("POST", "/apisix/admin/routes", body).statusCode()).isEqualTo(201);
    }
    var page = json(admin("GET", "/apisix/admin/routes?page=3&page_size=10", null));
    assertThat(page.get("total").asInt()).isEqualTo(26);
    assertThat(page.get("list").size()).isEqualTo(6);
    assertThat(admin("GET", "/apisix/admin/routes?page_size=5", null).statusCode()).isEqualTo(400);
    assertThat(json(admin("GET", "/apisix/admin/routes?name=n1", null)).get("total").asInt())
        .isEqualTo(11); // n1, n10..n19
    assertThat(json(admin("GET", "/apisix/admin/routes?label=team:a", null)).get("total").asInt())
        .isEqualTo(13);
    assertThat(json(admin("GET", "/apisix/admin/routes?uri=/p/2", null)).get("total").asInt())
        .isEqualTo(6); // /p/2, /p/20../p/24
  }

  @Test
  void invalidObjectsAreRefusedNamingTheField() throws Exception {
    var bad = admin("PUT", "/apisix/admin/routes/b", "{\"uri\":\"nope\",\"upstream_id\":\"u\"}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).get("error_msg").asText())
        .contains("uri: \"nope\" (expected: starts with \"/\")");
    var plugin =
        admin(
            "PUT",
            "/apisix/admin/routes/b",
            "{\"uri\":\"/b\",\"upstream_id\":\"u\",\"plugins\":{\"limit-req\":{\"rate\":-1,"
                + "\"burst\":1,\"key\":\"remote_addr\"}}}");
    assertThat(plugin.statusCode()).isEqualTo(400);
    assertThat(json(plugin).get("error_msg").asText()).contains("plugins.limit-req.rate");
    var unknown =
        admin(
            "PUT",
            "/apisix/admin/routes/b",
            "{\"uri\":\"/b\",\"upstream_id\":\"u\",\"plugins\":{\"no-such\":{}}}");
    assertThat(json(unknown).get("error_msg").asText()).contains("unknown plugin \"no-such\"");
    var idMismatch =
        admin(
            "PUT", "/apisix/admin/routes/b", "{\"id\":\"c\",\"uri\":\"/b\",\"upstream_id\":\"u\"}");
    assertThat(json(idMismatch).get("error_msg").asText()).contains("the id in the path");
    var malformed = admin("PUT", "/apisix/admin/routes/b", "{\n  \"uri\": \"/b\",\n}");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(json(malformed).get("error_msg").asText()).contains("line 3, column 1");
    assertThat(admin("GET", "/apisix/admin/routes/b", null).statusCode()).isEqualTo(404);
  }

  /** The seed's stream route, verbatim: a Lua table ({@code logger = {...}}) inside its JSON. */
  @Test
  void theSeedsLuaStyleStreamRouteGetsAClear400() throws Exception {
    var seed =
        """

        {
            "upstream": {
                "type": "none",
                "nodes": {
                    "127.0.0.1:6379": 1
                }
            },
            "protocol": {
                "name": "redis",
                "conf": {
                    "faults": [{
                        "commands": ["get", "ping"],
                        "delay": 5
                    }]
                },
                logger = {
                    [
                        "name": "syslog",
                        "filter": [
                            ["rpc_time", ">=", 1],
                        ],
                        "conf": {
                            "host": "127.0.0.1",
                            "port": 8125,
                            "sock_type": "udp",
                            "batch_max_size": 1,
                            "flush_limit": 1
                        }
                    ]
                }
            }
        }""";
    var r = admin("PUT", "/apisix/admin/stream_routes/1", seed);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r).get("error_msg").asText())
        .contains("line 17, column 9")
        .contains("`logger = {` is Lua table syntax")
        .contains("\"logger\": value");
  }

  /** The seeds' other two bodies, as published (the limit-req one without its closing ’). */
  @Test
  void theSeedsRouteBodiesAreAccepted() throws Exception {
    var kafka =
        """
        {
            "uri": "/kafka",
            "upstream": {
                "nodes": {
                    "kafka-server1:9092": 1,
                    "kafka-server2:9092": 1,
                    "kafka-server3:9092": 1
                },
                "type": "none",
                "scheme": "kafka"
            }
        }""";
    var r = admin("PUT", "/apisix/admin/routes/kafka", kafka, "Content-Type", "application/json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    var limitReq =
        " {   \"uri\": \"/get\",   \"methods\": [\"GET\"],   \"upstream\": {     \"type\":"
            + " \"roundrobin\",     \"nodes\": {       \"httpbin.org:80\": 1     }   },  "
            + " \"plugins\": {     \"limit-req\": {       \"rate\": 1,       \"burst\": 2,      "
            + " \"rejected_code\": 503,       \"key\": \"remote_addr\"     }   } }";
    r = admin("PUT", "/apisix/admin/routes/1", limitReq);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    // With the typographic quote the article closes it with, the body is not JSON.
    r = admin("PUT", "/apisix/admin/routes/1", limitReq + "\u2019");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r).get("error_msg").asText()).contains("line 1");
    // The stream route, its logger written as JSON.
    var stream =
        """
        {
            "upstream": {"type": "none", "nodes": {"127.0.0.1:6379": 1}},
            "protocol": {
                "name": "redis",
                "conf": {"faults": [{"commands": ["get", "ping"], "delay": 5}]},
                "logger": [{
                    "name": "syslog",
                    "filter": [["rpc_time", ">=", 1]],
                    "conf": {"host": "127.0.0.1", "port": 8125, "sock_type": "udp",
                             "batch_max_size": 1, "flush_limit": 1}
                }]
            }
        }""";
    r = admin("PUT", "/apisix/admin/stream_routes/1", stream);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  /**
   * The seeds' curl commands name the HTTP port (APISIX 2.x served the Admin API there): with
   * {@code --admin-on-http-port} they work as written; other requests on that port are untouched.
   */
  @Test
  void theAdminApiOnTheHttpPort() throws Exception {
    dataplane.close();
    dataplane = startDataplane(AdminSettings.onLoopback(ADMIN, VIEWER, false).withDataPort(true));
    var put =
        client.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + dataplane.servers().httpPort()
                            + "/apisix/admin/routes/1"))
                .header("X-API-KEY", ADMIN)
                .PUT(HttpRequest.BodyPublishers.ofString(route("/seed")))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    served("/seed", r -> r.body().equals("up1"));
    assertThat(data("/from-file").body()).isEqualTo("up1");
    // A connection is taken over by its first request only (curl opens one per command).
    var fresh = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    var noKey =
        fresh.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + dataplane.servers().httpPort()
                            + "/apisix/admin/routes/1"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(noKey.statusCode()).isEqualTo(401);
  }

  @Test
  void ifMatchGuardsAgainstLostUpdates() throws Exception {
    var first = json(admin("PUT", "/apisix/admin/routes/c", route("/c")));
    long rev = first.get("modifiedIndex").asLong();
    var second = admin("PUT", "/apisix/admin/routes/c", route("/c2"), "If-Match", "" + rev);
    assertThat(second.statusCode()).isEqualTo(200);
    var stale = admin("PUT", "/apisix/admin/routes/c", route("/c3"), "If-Match", "" + rev);
    assertThat(stale.statusCode()).isEqualTo(409);
    assertThat(json(stale).get("error_msg").asText()).contains("modifiedIndex");
    assertThat(
            admin("PUT", "/apisix/admin/routes/c", route("/c"), "If-None-Match", "*").statusCode())
        .isEqualTo(409);
    assertThat(admin("DELETE", "/apisix/admin/routes/c", null, "If-Match", "" + rev).statusCode())
        .isEqualTo(409);
    assertThat(json(admin("GET", "/apisix/admin/routes/c", null)).at("/value/uri").asText())
        .isEqualTo("/c2");
  }

  @Test
  void resourcesTheModelLacksAreStoredAndSecretsMasked() throws Exception {
    assertThat(admin("PUT", "/apisix/admin/consumer_groups/g", "{\"plugins\":{}}").statusCode())
        .isEqualTo(201);
    assertThat(admin("PUT", "/apisix/admin/consumer_groups/h", "{}").statusCode()).isEqualTo(400);
    var secret =
        admin(
            "PUT",
            "/apisix/admin/secrets/vault/1",
            "{\"uri\":\"http://127.0.0.1:8200\",\"prefix\":\"kv/apisix\",\"token\":\"t0k\"}");
    assertThat(secret.statusCode()).as(secret.body()).isEqualTo(201);
    assertThat(json(secret).get("key").asText()).isEqualTo("/apisix/secrets/vault/1");
    assertThat(secret.body()).doesNotContain("t0k");
    assertThat(admin("PUT", "/apisix/admin/consumers/jack", "{\"username\":\"jack\"}").statusCode())
        .isEqualTo(201);
    var cred =
        admin(
            "PUT",
            "/apisix/admin/consumers/jack/credentials/c1",
            "{\"plugins\":{\"key-auth\":{\"key\":\"k1\"}}}");
    assertThat(cred.statusCode()).as(cred.body()).isEqualTo(201);
    assertThat(json(cred).get("key").asText()).isEqualTo("/apisix/consumers/jack/credentials/c1");
    assertThat(cred.body()).doesNotContain("k1\"");
    assertThat(json(admin("GET", "/apisix/admin/consumers", null)).get("total").asInt())
        .isEqualTo(1);
    assertThat(
            json(admin("GET", "/apisix/admin/consumers/jack/credentials", null))
                .get("total")
                .asInt())
        .isEqualTo(1);
    assertThat(json(admin("GET", "/apisix/admin/secrets", null)).get("total").asInt()).isEqualTo(1);
    // They survive a restart (the file, or etcd).
    dataplane.close();
    dataplane = startDataplane();
    assertThat(admin("GET", "/apisix/admin/consumers/jack/credentials/c1", null).statusCode())
        .isEqualTo(200);
    assertThat(admin("GET", "/apisix/admin/secrets/vault/1", null).statusCode()).isEqualTo(200);
    // Credentials belong to a consumer that exists, and go with it.
    assertThat(
            admin(
                    "PUT",
                    "/apisix/admin/consumers/nobody/credentials/c1",
                    "{\"plugins\":{\"key-auth\":{\"key\":\"k2\"}}}")
                .statusCode())
        .isEqualTo(404);
    assertThat(admin("DELETE", "/apisix/admin/consumers/jack", null).statusCode()).isEqualTo(200);
    assertThat(admin("GET", "/apisix/admin/consumers/jack/credentials/c1", null).statusCode())
        .isEqualTo(404);
  }

  @Test
  void consumerSecretsAreMaskedAndKept() throws Exception {
    var put =
        admin(
            "PUT",
            "/apisix/admin/consumers/jack",
            "{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"s3cret\"}}}");
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    assertThat(put.body()).doesNotContain("s3cret");
    var got = json(admin("GET", "/apisix/admin/consumers/jack", null));
    assertThat(got.at("/value/plugins/key-auth/key").asText()).isEqualTo("******");
    // A GET edited and sent back keeps the secret.
    var back = JSON.writeValueAsString(got.get("value"));
    assertThat(admin("PUT", "/apisix/admin/consumers/jack", back).statusCode()).isEqualTo(200);
    assertStoredSecret("s3cret");
    var route =
        "{\"uri\":\"/auth\",\"plugins\":{\"key-auth\":{}},\"upstream\":{\"nodes\":{\""
            + upstream.node()
            + "\":1}}}";
    assertThat(admin("PUT", "/apisix/admin/routes/auth", route).statusCode()).isEqualTo(201);
    served("/auth", 401);
    var ok =
        client.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + dataplane.servers().httpPort() + "/auth"))
                .header("apikey", "s3cret")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(ok.statusCode()).isEqualTo(200);
  }

  /** The data port's answer for {@code path} with header {@code name: value}. */
  HttpResponse<String> dataWith(String path, String name, String value) throws Exception {
    return client.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + dataplane.servers().httpPort() + path))
            .header(name, value)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * {@link #dataWith}'s answer once {@code expected} holds: at once where a write is served on its
   * answer, else when the watch has brought it.
   */
  HttpResponse<String> servedWith(
      String path,
      String name,
      String value,
      java.util.function.Predicate<HttpResponse<String>> expected)
      throws Exception {
    if (servedOnAnswer()) {
      var r = dataWith(path, name, value);
      assertThat(expected.test(r))
          .as(path + " " + name + ": " + value + " → " + r.statusCode() + " " + r.body())
          .isTrue();
      return r;
    }
    return await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> dataWith(path, name, value), expected::test);
  }

  String metrics() throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + dataplane.servers().statusPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  String keyAuthRoute(String uri) {
    return "{\"uri\":\""
        + uri
        + "\",\"plugins\":{\"key-auth\":{}},\"upstream\":{\"nodes\":{\""
        + upstream.node()
        + "\":1}}}";
  }

  @Test
  void aConsumersCredentialsEachAuthenticateUntilDeleted() throws Exception {
    assertThat(admin("PUT", "/apisix/admin/consumers/jack", "{\"username\":\"jack\"}").statusCode())
        .isEqualTo(201);
    for (var id : new String[] {"one", "two"}) {
      var put =
          admin(
              "PUT",
              "/apisix/admin/consumers/jack/credentials/" + id,
              "{\"desc\":\"key "
                  + id
                  + "\",\"plugins\":{\"key-auth\":{\"key\":\"key-"
                  + id
                  + "\"}}}");
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
      assertThat(put.body()).doesNotContain("key-" + id);
    }
    assertThat(admin("PUT", "/apisix/admin/routes/cred", keyAuthRoute("/cred")).statusCode())
        .isEqualTo(201);
    served("/cred", 401);
    servedWith("/cred", "apikey", "key-one", r -> r.statusCode() == 200);
    servedWith("/cred", "apikey", "key-two", r -> r.statusCode() == 200);
    assertThat(dataWith("/cred", "apikey", "key-three").statusCode()).isEqualTo(401);

    // Only authentication plugins, each as its consumer schema says.
    var notAuth =
        admin(
            "PUT",
            "/apisix/admin/consumers/jack/credentials/bad",
            "{\"plugins\":{\"limit-count\":{\"count\":1,\"time_window\":60}}}");
    assertThat(notAuth.statusCode()).isEqualTo(400);
    assertThat(json(notAuth).get("error_msg").asText())
        .contains("plugins.limit-count")
        .contains("not an authentication plugin");
    var noKey =
        admin(
            "PUT",
            "/apisix/admin/consumers/jack/credentials/bad",
            "{\"plugins\":{\"key-auth\":{}}}");
    assertThat(noKey.statusCode()).isEqualTo(400);
    assertThat(json(noKey).get("error_msg").asText()).contains("plugins.key-auth").contains("key");

    // One credential deleted: its key stops working, the other goes on.
    assertThat(admin("DELETE", "/apisix/admin/consumers/jack/credentials/two", null).statusCode())
        .isEqualTo(200);
    servedWith("/cred", "apikey", "key-two", r -> r.statusCode() == 401);
    assertThat(dataWith("/cred", "apikey", "key-one").statusCode()).isEqualTo(200);
    // The consumer deleted: its credentials go with it.
    assertThat(admin("DELETE", "/apisix/admin/consumers/jack", null).statusCode()).isEqualTo(200);
    assertThat(admin("GET", "/apisix/admin/consumers/jack/credentials/one", null).statusCode())
        .isEqualTo(404);
    servedWith("/cred", "apikey", "key-one", r -> r.statusCode() == 401);
  }

  @Test
  void aConsumerGroupsPluginsJoinItsConsumers() throws Exception {
    var group = "{\"plugins\":{\"response-rewrite\":{\"headers\":{\"set\":{\"X-Tier\":\"%s\"}}}}}";
    assertThat(
            admin("PUT", "/apisix/admin/consumer_groups/gold", group.formatted("gold"))
                .statusCode())
        .isEqualTo(201);
    var missing =
        admin(
            "PUT",
            "/apisix/admin/consumers/jack",
            "{\"username\":\"jack\",\"group_id\":\"nope\","
                + "\"plugins\":{\"key-auth\":{\"key\":\"jack-key\"}}}");
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(json(missing).get("error_msg").asText()).contains("consumer group \"nope\"");
    assertThat(
            admin(
                    "PUT",
                    "/apisix/admin/consumers/jack",
                    "{\"username\":\"jack\",\"group_id\":\"gold\","
                        + "\"plugins\":{\"key-auth\":{\"key\":\"jack-key\"}}}")
                .statusCode())
        .isEqualTo(201);
    assertThat(admin("PUT", "/apisix/admin/routes/grp", keyAuthRoute("/grp")).statusCode())
        .isEqualTo(201);
    var gold =
        servedWith(
            "/grp",
            "apikey",
            "jack-key",
            r -> r.statusCode() == 200 && r.headers().firstValue("X-Tier").isPresent());
    assertThat(gold.headers().firstValue("X-Tier")).hasValue("gold");

    // The group changed: its consumers run the new plugins.
    assertThat(
            admin("PUT", "/apisix/admin/consumer_groups/gold", group.formatted("silver"))
                .statusCode())
        .isEqualTo(200);
    servedWith(
        "/grp",
        "apikey",
        "jack-key",
        r ->
            r.statusCode() == 200
                && r.headers().firstValue("X-Tier").equals(java.util.Optional.of("silver")));
    assertThat(admin("PUT", "/apisix/admin/consumer_groups/gold", "{\"plugins\":{}}").statusCode())
        .isEqualTo(200);
    servedWith(
        "/grp",
        "apikey",
        "jack-key",
        r -> r.statusCode() == 200 && r.headers().firstValue("X-Tier").isEmpty());

    // A group still used is not deleted unless forced; then its consumer is left out, named.
    var refused = admin("DELETE", "/apisix/admin/consumer_groups/gold", null);
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(json(refused).get("error_msg").asText())
        .contains("can not delete this consumer group, consumer [jack] is still using it now");
    assertThat(admin("DELETE", "/apisix/admin/consumer_groups/gold?force=true", null).statusCode())
        .isEqualTo(200);
    servedWith("/grp", "apikey", "jack-key", r -> r.statusCode() == 401);
    assertThat(metrics()).contains("archway_config_objects_rejected{kind=\"consumers\"} 1");
  }

  /**
   * Writes {@code json} at store key {@code key} without the Admin API's per-object checks (etcd:
   * directly; standalone: through {@code PUT /apisix/admin/configs}), as another writer could.
   */
  abstract void writeBehindTheApi(String key, String json) throws Exception;

  @Test
  void aKeyHeldTwiceIdentifiesNobody() throws Exception {
    assertThat(
            admin(
                    "PUT",
                    "/apisix/admin/consumers/alice",
                    "{\"username\":\"alice\",\"plugins\":{\"key-auth\":{\"key\":\"shared\"}}}")
                .statusCode())
        .isEqualTo(201);
    assertThat(admin("PUT", "/apisix/admin/routes/dup", keyAuthRoute("/dup")).statusCode())
        .isEqualTo(201);
    servedWith("/dup", "apikey", "shared", r -> r.statusCode() == 200);
    assertThat(admin("PUT", "/apisix/admin/consumers/bob", "{\"username\":\"bob\"}").statusCode())
        .isEqualTo(201);
    // The Admin API refuses a second holder, naming the first.
    var refused =
        admin(
            "PUT",
            "/apisix/admin/consumers/bob/credentials/c1",
            "{\"plugins\":{\"key-auth\":{\"key\":\"shared\"}}}");
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(json(refused).get("error_msg").asText())
        .contains("plugins.key-auth.key: the same key as consumers/alice");
    var consumer =
        admin(
            "PUT",
            "/apisix/admin/consumers/carol",
            "{\"username\":\"carol\",\"plugins\":{\"key-auth\":{\"key\":\"shared\"}}}");
    assertThat(consumer.statusCode()).isEqualTo(400);
    // Alice's own PUT again is no clash with herself.
    assertThat(
            admin(
                    "PUT",
                    "/apisix/admin/consumers/alice",
                    "{\"username\":\"alice\",\"plugins\":{\"key-auth\":{\"key\":\"shared\"}}}")
                .statusCode())
        .isEqualTo(200);

    // Written behind the API's back: neither wins, a new object must not take over a key.
    writeBehindTheApi(
        "consumers/bob/credentials/c1",
        "{\"id\":\"c1\",\"plugins\":{\"key-auth\":{\"key\":\"shared\"}}}");
    servedWith("/dup", "apikey", "shared", r -> r.statusCode() == 401);
    assertThat(metrics())
        .contains("archway_config_objects_rejected{kind=\"consumers\"} 1")
        .contains("archway_config_objects_rejected{kind=\"credentials\"} 1");
    assertThat(admin("DELETE", "/apisix/admin/consumers/bob/credentials/c1", null).statusCode())
        .isEqualTo(200);
    servedWith("/dup", "apikey", "shared", r -> r.statusCode() == 200);
  }

  @Test
  void anAuthPluginsConsumerSchemaIsServed() throws Exception {
    var keyAuth = admin("GET", "/apisix/admin/schema/plugins/key-auth?schema_type=consumer", null);
    assertThat(keyAuth.statusCode()).isEqualTo(200);
    assertThat(json(keyAuth).at("/properties/key/type").asText()).isEqualTo("string");
    assertThat(json(keyAuth).get("required").toString()).isEqualTo("[\"key\"]");
    var basic = json(admin("GET", "/apisix/admin/plugins/basic-auth?schema_type=consumer", null));
    assertThat(basic.at("/properties/password").isObject()).isTrue();
    var jwt =
        json(admin("GET", "/apisix/admin/schema/plugins/jwt-auth?schema_type=consumer", null));
    assertThat(jwt.at("/properties/secret").isObject()).isTrue();
    // The route side is unchanged; a plugin without a consumer side has no such schema.
    assertThat(json(admin("GET", "/apisix/admin/schema/plugins/key-auth", null)).has("properties"))
        .isTrue();
    assertThat(
            json(admin("GET", "/apisix/admin/schema/plugins/key-auth", null))
                .at("/properties/key")
                .isMissingNode())
        .isTrue();
    var none = admin("GET", "/apisix/admin/schema/plugins/limit-count?schema_type=consumer", null);
    assertThat(none.statusCode()).isEqualTo(400);
    assertThat(admin("GET", "/apisix/admin/schema/credential", null).statusCode()).isEqualTo(200);
    assertThat(admin("GET", "/apisix/admin/schema/consumer_group", null).statusCode())
        .isEqualTo(200);
    // The same schema decides a consumer's own auth plugin.
    var bad =
        admin(
            "PUT",
            "/apisix/admin/consumers/carol",
            "{\"username\":\"carol\",\"plugins\":{\"basic-auth\":{\"username\":\"carol\"}}}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).get("error_msg").asText())
        .contains("plugins.basic-auth")
        .contains("password");
  }

  @Test
  void callsAreCountedInMetrics() throws Exception {
    admin("PUT", "/apisix/admin/routes/m", route("/m"));
    call("GET", "/apisix/admin/routes", null);
    var metrics =
        client
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + dataplane.servers().statusPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains(
            "archway_admin_requests_total{resource=\"routes\",method=\"PUT\",status=\"201\"} 1")
        .contains(
            "archway_admin_requests_total{resource=\"routes\",method=\"GET\",status=\"401\"} 1");
  }

  @Test
  void pipelinedCallsAreAnsweredInOrder() throws Exception {
    try (var socket = new java.net.Socket("127.0.0.1", dataplane.servers().adminPort())) {
      var ask =
          "PUT /apisix/admin/routes/p HTTP/1.1\r\nHost: a\r\nX-API-KEY: "
              + ADMIN
              + "\r\nContent-Length: "
              + route("/p").length()
              + "\r\n\r\n"
              + route("/p")
              // No key: refused at once on the event loop, but answered second.
              + "GET /apisix/admin/routes HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(ask.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      var answers =
          new String(
              socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(answers.indexOf("HTTP/1.1 201")).isNotNegative();
      assertThat(answers.indexOf("HTTP/1.1 401")).isGreaterThan(answers.indexOf("HTTP/1.1 201"));
    }
  }

  @Test
  void aBodyOverTheLimitGets413() throws Exception {
    var big = "{\"uri\":\"/" + "x".repeat(AdminChannelInitializer.MAX_BODY) + "\"}";
    assertThat(admin("PUT", "/apisix/admin/routes/big", big).statusCode()).isEqualTo(413);
    var metrics =
        client
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + dataplane.servers().statusPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains(
            "archway_admin_requests_total{resource=\"routes\",method=\"PUT\",status=\"413\"} 1");
  }

  @Test
  void helperEndpointsAnswerAsApisixDoes() throws Exception {
    var list = admin("GET", "/apisix/admin/plugins/list", null);
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(json(list).isArray()).isTrue();
    var names = new java.util.ArrayList<String>();
    json(list).forEach(n -> names.add(n.asText()));
    assertThat(names).contains("limit-req", "key-auth", "proxy-rewrite");
    var schema = admin("GET", "/apisix/admin/plugins/limit-req", null);
    assertThat(schema.statusCode()).isEqualTo(200);
    assertThat(json(schema).at("/properties/rate").isObject()).isTrue();
    assertThat(json(admin("GET", "/apisix/admin/schema/plugins/limit-req", null)))
        .isEqualTo(json(schema));
    assertThat(admin("GET", "/apisix/admin/plugins/no-such", null).statusCode()).isEqualTo(404);
    assertThat(
            admin("GET", "/apisix/admin/schema/plugins/limit-req?subsystem=stream", null)
                .statusCode())
        .isEqualTo(404);
    assertThat(admin("GET", "/apisix/admin/plugins/list?subsystem=x", null).statusCode())
        .isEqualTo(400);
    var all = json(admin("GET", "/apisix/admin/plugins?all=true", null));
    assertThat(all.at("/limit-req/priority").isNumber()).isTrue();
    assertThat(all.at("/limit-req/schema").isObject()).isTrue();
    var route = admin("GET", "/apisix/admin/schema/route", null);
    assertThat(route.statusCode()).isEqualTo(200);
    assertThat(json(route).at("/properties/uri").isObject()).isTrue();
    assertThat(admin("GET", "/apisix/admin/schema/plugin_metadata/http-logger", null).statusCode())
        .isEqualTo(200);
    assertThat(admin("GET", "/apisix/admin/schema/nothing", null).statusCode()).isEqualTo(404);
    var openapi = admin("GET", "/apisix/admin/openapi.json", null);
    assertThat(openapi.statusCode()).isEqualTo(200);
    assertThat(json(openapi).get("openapi").asText()).isEqualTo("3.0.3");
    // The viewer reads them; a reload is a write.
    assertThat(call("GET", "/apisix/admin/plugins/list", null, "X-API-KEY", VIEWER).statusCode())
        .isEqualTo(200);
    assertThat(call("PUT", "/apisix/admin/plugins/reload", null, "X-API-KEY", VIEWER).statusCode())
        .isEqualTo(403);
    var reload = admin("PUT", "/apisix/admin/plugins/reload", null);
    assertThat(reload.statusCode()).isEqualTo(200);
    assertThat(reload.body()).isEqualTo("done");
    assertThat(data("/from-file").body()).isEqualTo("up1");
  }

  @Test
  void deletingWhatIsStillUsedNamesTheReferrer() throws Exception {
    var up = "{\"nodes\":{\"" + upstream.node() + "\":1}}";
    assertThat(admin("PUT", "/apisix/admin/upstreams/web", up).statusCode()).isEqualTo(201);
    assertThat(
            admin("PUT", "/apisix/admin/routes/r1", "{\"uri\":\"/r1\",\"upstream_id\":\"web\"}")
                .statusCode())
        .isEqualTo(201);
    var refused = admin("DELETE", "/apisix/admin/upstreams/web", null);
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(json(refused).get("error_msg").asText())
        .contains("can not delete this upstream, route [r1] is still using it now");
    assertThat(admin("GET", "/apisix/admin/upstreams/web", null).statusCode()).isEqualTo(200);
    assertThat(admin("PUT", "/apisix/admin/plugin_configs/pc", "{\"plugins\":{}}").statusCode())
        .isEqualTo(201);
    assertThat(
            admin("PATCH", "/apisix/admin/routes/r1", "{\"plugin_config_id\":\"pc\"}").statusCode())
        .isEqualTo(200);
    assertThat(
            json(admin("DELETE", "/apisix/admin/plugin_configs/pc", null))
                .get("error_msg")
                .asText())
        .contains("route [r1]");
    assertThat(admin("DELETE", "/apisix/admin/plugin_configs/pc?force=true", null).statusCode())
        .isEqualTo(200);
    assertThat(admin("DELETE", "/apisix/admin/routes/r1", null).statusCode()).isEqualTo(200);
    assertThat(admin("DELETE", "/apisix/admin/upstreams/web", null).statusCode()).isEqualTo(200);
  }

  /**
   * Every curl command of the seeds, as published: the key and the port substituted, and the
   * limit-req example's httpbin.org:80 replaced by a local upstream (no network in tests). The
   * limit-req example sends no key (APISIX 2.x's default config had none), so the Admin API runs
   * without one, on loopback, and on the HTTP port, which the commands name.
   */
  @Test
  void theSeedsCurlCommandsRunAsPublished() throws Exception {
    dataplane.close();
    dataplane = startDataplane(AdminSettings.onLoopback(null, null, false).withDataPort(true));
    var commands = SeedCommands.read();
    assertThat(commands).extracting(SeedCommands::url).hasSize(3);
    var answers = new java.util.ArrayList<HttpResponse<String>>();
    for (var c : commands) {
      var url =
          c.url().replace("127.0.0.1:9080", "127.0.0.1:" + dataplane.servers().httpPort()).strip();
      var b =
          HttpRequest.newBuilder(URI.create(url))
              .method(
                  c.method(),
                  c.body() == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(
                          c.body().replace("httpbin.org:80", upstream.node())));
      c.headers().forEach((k, v) -> b.header(k, v.replace("${api-key}", ADMIN)));
      // One connection per command, as curl opens.
      var fresh = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      answers.add(fresh.send(b.build(), HttpResponse.BodyHandlers.ofString()));
    }
    var kafka = answers.get(0);
    assertThat(kafka.statusCode()).as(kafka.body()).isEqualTo(201);
    var stream = answers.get(1);
    assertThat(stream.statusCode()).isEqualTo(400);
    assertThat(json(stream).get("error_msg").asText())
        .contains("line 17, column 9")
        .contains("`logger = {` is Lua table syntax");
    var limitReq = answers.get(2);
    assertThat(limitReq.statusCode()).as(limitReq.body()).isEqualTo(201);
    // "When a request reaches the API it is rate limited": rate 1/s, burst 2, then 503.
    served("/get", 200);
    var burst = new java.util.ArrayList<java.util.concurrent.CompletableFuture<Integer>>();
    for (int i = 0; i < 6; i++) {
      burst.add(
          HttpClient.newHttpClient()
              .sendAsync(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + dataplane.servers().httpPort() + "/get"))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .thenApply(HttpResponse::statusCode));
    }
    var codes = burst.stream().map(java.util.concurrent.CompletableFuture::join).toList();
    assertThat(codes).contains(503).allMatch(code -> code == 200 || code == 503);
    // Only the GET method is routed.
    assertThat(
            client
                .send(
                    HttpRequest.newBuilder(
                            URI.create(
                                "http://127.0.0.1:" + dataplane.servers().httpPort() + "/get"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode())
        .isEqualTo(404);
  }

  /**
   * Every operation of the OpenAPI document answers with a status the document lists for it, never
   * 500, and never the 404 of a path the server does not know (a 404 must be "Key not found" or the
   * helper's "not found"): objects are made first (PUT, POST), then read, changed and deleted.
   */
  @Test
  void everyOperationOfTheOpenApiDocumentAnswers() throws Exception {
    var doc = json(admin("GET", "/apisix/admin/openapi.json", null));
    var paths = new java.util.ArrayList<String>();
    doc.get("paths").fieldNames().forEachRemaining(paths::add);
    var node = upstream.node();
    var bodies =
        java.util.Map.ofEntries(
            java.util.Map.entry("routes", route("/oa")),
            java.util.Map.entry("services", "{\"upstream\":{\"nodes\":{\"" + node + "\":1}}}"),
            java.util.Map.entry("upstreams", "{\"nodes\":{\"" + node + "\":1}}"),
            java.util.Map.entry("consumers", "{\"username\":\"oa1\"}"),
            java.util.Map.entry("credentials", "{\"plugins\":{\"key-auth\":{\"key\":\"k-oa\"}}}"),
            java.util.Map.entry("consumer_groups", "{\"plugins\":{}}"),
            java.util.Map.entry("plugin_configs", "{\"plugins\":{}}"),
            java.util.Map.entry("global_rules", "{\"plugins\":{}}"),
            java.util.Map.entry("protos", "{\"content\":\"syntax = \\\"proto3\\\";\"}"),
            java.util.Map.entry(
                "secrets", "{\"uri\":\"http://127.0.0.1:8200\",\"prefix\":\"kv\",\"token\":\"t\"}"),
            java.util.Map.entry("plugin_metadata", "{\"log_format\":{\"host\":\"$host\"}}"),
            java.util.Map.entry(
                "stream_routes",
                "{\"server_port\":9100,\"upstream\":{\"nodes\":{\"" + node + "\":1}}}"));
    var problems = new java.util.ArrayList<String>();
    int answered = 0;
    // Made first, then read and changed, then deleted; the whole-config calls last of all.
    var order = new java.util.ArrayList<String[]>();
    for (var method : java.util.List.of("put", "post", "get", "patch", "delete")) {
      for (var path : paths) {
        if (!path.endsWith("/configs")) {
          order.add(new String[] {method, path});
        }
      }
    }
    order.add(new String[] {"get", "/apisix/admin/configs"});
    order.add(new String[] {"put", "/apisix/admin/configs"});
    for (var step : order) {
      var method = step[0];
      var path = step[1];
      {
        var op = doc.get("paths").get(path).get(method);
        if (op == null) {
          continue;
        }
        var concrete =
            path.replace("{id}", "oa1")
                .replace("{credential}", "c1")
                .replace("{plugin}", "http-logger")
                .replace("{name}", "limit-req")
                .replace("{manager}", "vault")
                .replace("{field}", "desc")
                .replace("{resource}", "routes");
        if (path.endsWith("/plugins")) {
          concrete += "?all=true";
        }
        var parts = path.substring("/apisix/admin/".length()).split("/");
        var dir = path.contains("/credentials") ? "credentials" : parts[0];
        String body = null;
        if (!method.equals("get") && !method.equals("delete")) {
          body =
              path.endsWith("{field}")
                  ? "\"d\""
                  : path.endsWith("/configs") ? "{}" : bodies.getOrDefault(dir, "{}");
        }
        var r = admin(method.toUpperCase(java.util.Locale.ROOT), concrete, body);
        answered++;
        var status = String.valueOf(r.statusCode());
        var documented = op.get("responses").has(status);
        var unknown =
            r.statusCode() == 404
                && !r.body().contains("Key not found")
                && !r.body().contains("not found");
        if (!documented || r.statusCode() >= 500 || unknown) {
          problems.add(method + " " + concrete + " → " + status + " " + r.body());
        }
      }
    }
    assertThat(answered).isGreaterThan(40);
    assertThat(problems).isEmpty();
  }

  /**
   * The seed's Redis stream route, its logger written as JSON (the published body is Lua-style and
   * refused, see above), the node and the syslog port substituted: GET and PING wait out the
   * 5-second fault, other commands do not, and a command that took a second or more is sent to
   * syslog over UDP.
   */
  @Test
  void theSeedsRedisStreamRouteDelaysAndLogs(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    var streamPort = io.archway.model.testing.Ports.free();
    try (var redis = new io.archway.dataplane.testing.RedisServer(tmp);
        var syslog = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
      dataplane.close();
      var dp =
          new Dataplane(
                  options()
                      .withStream(
                          io.archway.dataplane.stream.StreamSettings.DEFAULTS.withPorts(
                              java.util.List.of(streamPort)))
                      .withAdmin(AdminSettings.onLoopback(ADMIN, VIEWER, false)))
              .start();
      dataplane = dp;
      await().atMost(Duration.ofSeconds(10)).until(() -> dp.config().loaded());
      var body =
          """
          {
              "upstream": {"type": "none", "nodes": {"127.0.0.1:6379": 1}},
              "protocol": {
                  "name": "redis",
                  "conf": {"faults": [{"commands": ["get", "ping"], "delay": 5}]},
                  "logger": [{
                      "name": "syslog",
                      "filter": [["rpc_time", ">=", 1]],
                      "conf": {"host": "127.0.0.1", "port": 8125, "sock_type": "udp",
                               "batch_max_size": 1, "flush_limit": 1}
                  }]
              }
          }"""
              .replace("127.0.0.1:6379", redis.node())
              .replace("8125", String.valueOf(syslog.getLocalPort()));
      var put = admin("PUT", "/apisix/admin/stream_routes/1", body);
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
      try (var s =
          await()
              .atMost(Duration.ofSeconds(10))
              .ignoreExceptions()
              .until(
                  () -> {
                    var socket = new java.net.Socket("127.0.0.1", streamPort);
                    socket.setSoTimeout(15_000);
                    socket
                        .getOutputStream()
                        .write(
                            "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
                                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    var echo = socket.getInputStream().readNBytes(8);
                    if (!"$2\r\nhi\r\n"
                        .equals(new String(echo, java.nio.charset.StandardCharsets.US_ASCII))) {
                      socket.close();
                      throw new IllegalStateException("not proxied yet");
                    }
                    return socket;
                  },
                  java.util.Objects::nonNull)) {
        // (The ECHO came back: the route is in force.)
        var out = s.getOutputStream();
        var in = s.getInputStream();
        long t0 = System.nanoTime();
        out.write(
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(new String(in.readNBytes(5), java.nio.charset.StandardCharsets.US_ASCII))
            .isEqualTo("+OK\r\n");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
        t0 = System.nanoTime();
        out.write(
            "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(new String(in.readNBytes(7), java.nio.charset.StandardCharsets.US_ASCII))
            .isEqualTo("$1\r\nv\r\n");
        assertThat(Duration.ofNanos(System.nanoTime() - t0))
            .isGreaterThanOrEqualTo(Duration.ofMillis(4900));
      }
      syslog.setSoTimeout(10_000);
      var packet = new java.net.DatagramPacket(new byte[8192], 8192);
      String line;
      do {
        syslog.receive(packet);
        line =
            new String(
                packet.getData(), 0, packet.getLength(), java.nio.charset.StandardCharsets.UTF_8);
      } while (!line.contains("\"cmd\":\"get\""));
      assertThat(line).startsWith("<14>1 ").contains("\"key\":\"k\"");
    }
  }

  /**
   * The seed's Kafka route, its three brokers replaced by one real broker: a WebSocket client then
   * reads the topic through it with APISIX's pub-sub protocol (list offset, fetch).
   */
  @Test
  void theSeedsKafkaRouteServesPubSub() throws Exception {
    try (var kafka = io.archway.dataplane.testing.KafkaBroker.start()) {
      kafka.createTopic("seed", 1);
      try (var producer =
          new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(
              java.util.Map.of(
                  org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  kafka.bootstrap()),
              new org.apache.kafka.common.serialization.ByteArraySerializer(),
              new org.apache.kafka.common.serialization.ByteArraySerializer())) {
        producer
            .send(
                new org.apache.kafka.clients.producer.ProducerRecord<>(
                    "seed", 0, null, "hello".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
            .get();
      }
      var seed =
          """
          {
              "uri": "/kafka",
              "upstream": {
                  "nodes": {
                      "kafka-server1:9092": 1,
                      "kafka-server2:9092": 1,
                      "kafka-server3:9092": 1
                  },
                  "type": "none",
                  "scheme": "kafka"
              }
          }""";
      var body =
          seed.replaceAll(
              "\"kafka-server1:9092\": 1,\\s*\"kafka-server2:9092\": 1,\\s*\"kafka-server3:9092\": 1",
              "\"" + kafka.bootstrap() + "\": 1");
      var put =
          admin("PUT", "/apisix/admin/routes/kafka", body, "Content-Type", "application/json");
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
      var url = "ws://127.0.0.1:" + dataplane.servers().httpPort() + "/kafka";
      try (var c =
          await()
              .atMost(Duration.ofSeconds(20))
              .ignoreExceptions()
              .until(() -> io.archway.dataplane.testing.PubSubClient.connect(url), x -> true)) {
        assertThat(c.listOffset("seed", 0, -1).getKafkaListOffsetResp().getOffset()).isEqualTo(1);
        var messages = c.fetch("seed", 0, 0).getKafkaFetchResp().getMessagesList();
        assertThat(messages).isNotEmpty();
        assertThat(messages.get(0).getValue().toStringUtf8()).isEqualTo("hello");
      }
    }
  }
}
