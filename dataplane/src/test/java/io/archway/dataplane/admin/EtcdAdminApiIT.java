package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.discovery.KubernetesSettings;
import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.pubsub.PubSubSettings;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.stream.StreamSettings;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.tls.TlsSettings;
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
 * compare-and-swap transactions, served through the dataplane's watch), and what only etcd has:
 * keys the operator owns, and a thousand routes listed in pages.
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
    return new DataplaneOptions(
        null,
        List.of(etcd.endpoint()),
        "/apisix",
        null,
        null,
        null,
        "127.0.0.1",
        0,
        0,
        0,
        Duration.ofSeconds(2),
        0,
        HttpSettings.DEFAULTS.withAccessLog("off"),
        StreamSettings.DEFAULTS,
        PubSubSettings.DEFAULTS,
        KubernetesSettings.AUTO,
        TlsSettings.DEFAULTS);
  }

  @Override
  void writeBehindTheApi(String key, String json) throws Exception {
    put("/apisix/" + key, json);
  }

  @Override
  boolean servedOnAnswer() {
    return false;
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
      served("/race", r -> r.body().equals(expected));
    } finally {
      other.close();
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
