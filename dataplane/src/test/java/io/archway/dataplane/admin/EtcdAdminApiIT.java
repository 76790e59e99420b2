package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.ModelJson;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.DeleteOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Admin API with {@code --etcd}: {@link AdminApiContract}'s calls on a real etcd (writes are
 * compare-and-swap transactions, served through the dataplane's watch; each answers once this node
 * serves it, so the contract's data-port checks hold on the answer, as in standalone mode), and
 * what only etcd has: keys the operator owns, and a thousand routes listed in pages.
 */
class EtcdAdminApiIT extends AdminApiContract {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  /** Every test starts from an empty {@code /apisix}: responses name keys with that prefix. */
  @Override
  void prepare(TestUpstream upstream) throws Exception {
    var kv = etcd.client().getKVClient();
    kv.delete(bytes("/apisix/"), DeleteOption.builder().isPrefix(true).build())
        .get(5, TimeUnit.SECONDS);
    put("/apisix/routes/file", route("/from-file"));
  }

  private static void put(String key, String json) throws Exception {
    etcd.client().getKVClient().put(bytes(key), bytes(json)).get(5, TimeUnit.SECONDS);
  }

  @Override
  DataplaneOptions options() {
    return DataplaneOptions.etcdOnLoopback(List.of(etcd.endpoint()), "/apisix");
  }

  /**
   * Straight into etcd; returns once this dataplane's watch has brought it, as an API write's
   * answer does (the contract then checks the data port at once, in both modes).
   */
  @Override
  void writeBehindTheApi(String key, String json) throws Exception {
    long revision =
        etcd.client()
            .getKVClient()
            .put(bytes("/apisix/" + key), bytes(json))
            .get(5, TimeUnit.SECONDS)
            .getHeader()
            .getRevision();
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> dataplane.config().current().revision() >= revision);
  }

  /** A write answers once this node's compiled config has reached its revision. */
  @Override
  boolean servedOnAnswer() {
    return true;
  }

  /**
   * Read-your-writes on one node: each PUT is followed at once by a request on the data port, with
   * no waiting or polling, and it is served; each DELETE is followed at once by a 404.
   */
  @Test
  void aWriteIsServedByTheNextRequestWithoutWaiting() throws Exception {
    for (int i = 0; i < 20; i++) {
      var put = admin("PUT", "/apisix/admin/routes/ryw" + i, route("/ryw/" + i));
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
      assertThat(put.headers().firstValue(ResourceApi.APPLIED_HEADER)).isEmpty();
      var got = data("/ryw/" + i);
      assertThat(got.statusCode()).as("PUT %d then GET", i).isEqualTo(200);
      assertThat(got.body()).isEqualTo("up1");
    }
    // A change of an existing route, and a PATCH, are in force on the answer too.
    var other = new TestUpstream("up2");
    try {
      var moved =
          admin(
              "PATCH", "/apisix/admin/routes/ryw3/upstream/nodes", "{\"" + other.node() + "\":1}");
      assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
      assertThat(data("/ryw/3").body()).isEqualTo("up2");
    } finally {
      other.close();
    }
    for (int i = 0; i < 20; i++) {
      var delete = admin("DELETE", "/apisix/admin/routes/ryw" + i, null);
      assertThat(delete.statusCode()).as(delete.body()).isEqualTo(200);
      assertThat(data("/ryw/" + i).statusCode()).as("DELETE %d then GET", i).isEqualTo(404);
    }
    // POST, the generated id's route.
    var post = admin("POST", "/apisix/admin/routes", route("/posted-ryw"));
    assertThat(post.statusCode()).as(post.body()).isEqualTo(201);
    assertThat(data("/posted-ryw").statusCode()).isEqualTo(200);
  }

  /**
   * The same on several connections at once: every writer's own next request sees its write (the
   * answers wait on their own revisions, not behind one another).
   */
  @Test
  void concurrentWritersEachSeeTheirOwnWrite() throws Exception {
    var writers = new java.util.ArrayList<java.util.concurrent.CompletableFuture<Void>>();
    for (int w = 0; w < 4; w++) {
      int writer = w;
      writers.add(
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                try {
                  for (int i = 0; i < 10; i++) {
                    var path = "/w" + writer + "/" + i;
                    var put =
                        admin("PUT", "/apisix/admin/routes/w" + writer + "-" + i, route(path));
                    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
                    assertThat(data(path).statusCode()).as(path).isEqualTo(200);
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    for (var w : writers) {
      w.get(60, TimeUnit.SECONDS);
    }
  }

  @Override
  void assertStoredSecret(String secret) throws Exception {
    var got =
        etcd.client().getKVClient().get(bytes("/apisix/consumers/jack")).get(5, TimeUnit.SECONDS);
    assertThat(got.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8)).contains(secret);
  }

  @Test
  void keysTheOperatorOwnsAreRefusedNamingTheResource() throws Exception {
    var owned = ModelJson.mapper().createObjectNode().put("uri", "/op");
    owned.putObject("upstream").putObject("nodes").put(upstream.node(), 1);
    owned.set(
        "labels",
        ModelJson.mapper().valueToTree(new Owner("ApisixRoute", "default", "web", "u-1").labels()));
    put("/apisix/routes/op", owned.toString());
    var write = admin("PUT", "/apisix/admin/routes/op", route("/mine"));
    assertThat(write.statusCode()).as(write.body()).isEqualTo(409);
    assertThat(json(write).get("error_msg").asText()).contains("ApisixRoute").contains("web");
    var patch = admin("PATCH", "/apisix/admin/routes/op", "{\"name\":\"x\"}");
    assertThat(patch.statusCode()).isEqualTo(409);
    var delete = admin("DELETE", "/apisix/admin/routes/op", null);
    assertThat(delete.statusCode()).isEqualTo(409);
    assertThat(json(delete).get("error_msg").asText()).contains("ApisixRoute");
    assertThat(json(admin("GET", "/apisix/admin/routes/op", null)).at("/value/uri").asText())
        .isEqualTo("/op");
  }

  @Test
  void aBodyClaimingTheOperatorsLabelIsRefused() throws Exception {
    var body =
        "{\"uri\":\"/c\",\"labels\":{\"managed-by\":\"archway\"},\"upstream\":{\"nodes\":{\""
            + upstream.node()
            + "\":1}}}";
    var r = admin("PUT", "/apisix/admin/routes/c", body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(json(r).get("error_msg").asText()).contains("managed-by");
    assertThat(admin("GET", "/apisix/admin/routes/c", null).statusCode()).isEqualTo(404);
  }

  @Test
  void aThousandRoutesPostedThenListedInPages() throws Exception {
    for (int i = 0; i < 1000; i++) {
      var r = admin("POST", "/apisix/admin/routes", route("/many/" + i));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
    var first = json(admin("GET", "/apisix/admin/routes?page=1&page_size=500", null));
    var second = json(admin("GET", "/apisix/admin/routes?page=2&page_size=500", null));
    var third = json(admin("GET", "/apisix/admin/routes?page=3&page_size=500", null));
    assertThat(first.get("total").asInt()).isEqualTo(1001); // and route file
    assertThat(second.get("total").asInt()).isEqualTo(1001);
    assertThat(first.get("list").size()).isEqualTo(500);
    assertThat(second.get("list").size()).isEqualTo(500);
    assertThat(third.get("list").size()).isEqualTo(1);
    var keys = new java.util.HashSet<String>();
    for (var page : List.of(first, second, third)) {
      page.get("list").forEach(item -> keys.add(item.get("key").asText()));
    }
    assertThat(keys).hasSize(1001).contains("/apisix/routes/file");
    served("/many/999", 200);
  }

  /**
   * The API's guarded writes racing another etcd writer on one route, while the dataplane's watch
   * applies both: every API write either wins on the revision it read or is a 409 (never a lost
   * update), and the dataplane ends up serving what etcd holds last.
   */
  @Test
  void guardedWritesRacingAnotherWriterAndTheWatch() throws Exception {
    var other = new TestUpstream("up2");
    try {
      var mine = route("/race");
      var theirs = "{\"uri\":\"/race\",\"upstream\":{\"nodes\":{\"" + other.node() + "\":1}}}";
      assertThat(admin("PUT", "/apisix/admin/routes/race", mine).statusCode()).isEqualTo(201);
      var writer =
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 30; i++) {
                  try {
                    put("/apisix/routes/race", theirs.replace("}}}", "}},\"desc\":\"" + i + "\"}"));
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                }
              });
      int won = 0;
      int conflicts = 0;
      for (int i = 0; i < 30; i++) {
        var read = json(admin("GET", "/apisix/admin/routes/race", null));
        var rev = read.get("modifiedIndex").asText();
        var r = admin("PUT", "/apisix/admin/routes/race", mine, "If-Match", rev);
        assertThat(r.statusCode()).as(r.body()).isIn(200, 409);
        if (r.statusCode() == 200) {
          won++;
          assertThat(json(r).get("modifiedIndex").asLong()).isGreaterThan(Long.parseLong(rev));
        } else {
          conflicts++;
        }
      }
      writer.get(30, TimeUnit.SECONDS);
      assertThat(won + conflicts).isEqualTo(30);
      assertThat(won).isPositive();
      var last =
          etcd.client().getKVClient().get(bytes("/apisix/routes/race")).get(5, TimeUnit.SECONDS);
      var expected =
          last.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8).contains(other.node())
              ? "up2"
              : "up1";
      // The other writer's last put is not an API write: the watch brings it when it comes.
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> data("/race"), r -> r.body().equals(expected));
    } finally {
      other.close();
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
