package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.admin.AdminStore.Conflict;
import io.archway.dataplane.admin.AdminStore.Stored;
import io.archway.model.ModelJson;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

class EtcdAdminStoreIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private String prefix;
  private EtcdAdminStore store;

  @BeforeEach
  void open(TestInfo info) {
    prefix = "/" + info.getTestMethod().orElseThrow().getName();
    store = new EtcdAdminStore(etcd.client(), prefix, false);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void putGetListDeleteWithEtcdRevisions() throws Exception {
    var created = await(store.put("routes/1", route("/a"), AdminStore.ABSENT));
    assertThat(created.createdIndex()).isEqualTo(created.modifiedIndex()).isPositive();
    assertThat(store.revision()).isEqualTo(created.modifiedIndex());

    var updated = await(store.put("routes/1", route("/b"), created.modifiedIndex()));
    assertThat(updated.createdIndex()).isEqualTo(created.createdIndex());
    assertThat(updated.modifiedIndex()).isGreaterThan(created.modifiedIndex());

    var got = await(store.get("routes/1")).orElseThrow();
    assertThat(got.value().get("uri").asText()).isEqualTo("/b");
    assertThat(got.createdIndex()).isEqualTo(created.createdIndex());
    assertThat(got.modifiedIndex()).isEqualTo(updated.modifiedIndex());
    // Written where the dataplane's watch reads: <prefix>/routes/1.
    var raw = etcd.client().getKVClient().get(bytes(prefix + "/routes/1")).get(5, TimeUnit.SECONDS);
    assertThat(raw.getKvs()).hasSize(1);

    assertThat(await(store.delete("routes/1", updated.modifiedIndex()))).isTrue();
    assertThat(await(store.get("routes/1"))).isEmpty();
    assertThat(await(store.delete("routes/1", AdminStore.ANY))).isFalse();
  }

  @Test
  void connectsWithItsOwnClient() throws Exception {
    try (var own = EtcdAdminStore.connect(List.of(etcd.endpoint()), prefix, null, null, null)) {
      var put = await(own.put("services/s", ModelJson.mapper().createObjectNode(), AdminStore.ANY));
      assertThat(await(store.get("services/s")).orElseThrow().modifiedIndex())
          .isEqualTo(put.modifiedIndex());
      assertThat(await(own.list("services/")))
          .extracting(Stored::key)
          .containsExactly("services/s");
    }
  }

  @Test
  void staleRevisionsAndCreatesOverExistingKeysAreConflicts() throws Exception {
    var first = await(store.put("upstreams/u", upstream(), AdminStore.ABSENT));
    assertConflict(store.put("upstreams/u", upstream(), AdminStore.ABSENT), "already exists");
    var second = await(store.put("upstreams/u", upstream(), first.modifiedIndex()));

    // A writer that read the first revision lost the race: its write and its delete are refused.
    assertConflict(
        store.put("upstreams/u", upstream(), first.modifiedIndex()),
        "is not at revision " + first.modifiedIndex() + ": it is at " + second.modifiedIndex());
    assertConflict(store.delete("upstreams/u", first.modifiedIndex()), "is not at revision");
    assertThat(await(store.get("upstreams/u")).orElseThrow().modifiedIndex())
        .isEqualTo(second.modifiedIndex());

    // A guarded write to a key that is gone is a conflict, not a create.
    assertThat(await(store.delete("upstreams/u", AdminStore.ANY))).isTrue();
    assertConflict(
        store.put("upstreams/u", upstream(), second.modifiedIndex()), "it does not exist");
  }

  @Test
  void ofWritesRacingOnOneRevisionExactlyOneWins() throws Exception {
    var base = await(store.put("routes/race", route("/0"), AdminStore.ABSENT));
    var attempts = new ArrayList<CompletableFuture<Stored>>();
    for (int i = 0; i < 8; i++) {
      attempts.add(
          store
              .put("routes/race", route("/" + (i + 1)), base.modifiedIndex())
              .toCompletableFuture());
    }
    var won = new AtomicInteger();
    var lost = new AtomicInteger();
    for (var a : attempts) {
      try {
        a.get(10, TimeUnit.SECONDS);
        won.incrementAndGet();
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(Conflict.class);
        lost.incrementAndGet();
      }
    }
    assertThat(won.get()).isEqualTo(1);
    assertThat(lost.get()).isEqualTo(7);
  }

  @Test
  void unguardedWritesRacingEachOtherAllLand() throws Exception {
    // ANY still checks ownership on what it read; losing that race retries rather than failing.
    var writes = new ArrayList<CompletableFuture<Stored>>();
    for (int i = 0; i < 4; i++) {
      writes.add(store.put("routes/any", route("/" + i), AdminStore.ANY).toCompletableFuture());
    }
    var revisions = new ArrayList<Long>();
    for (var w : writes) {
      revisions.add(w.get(10, TimeUnit.SECONDS).modifiedIndex());
    }
    assertThat(revisions).doesNotHaveDuplicates();
    assertThat(await(store.get("routes/any")).orElseThrow().modifiedIndex())
        .isEqualTo(revisions.stream().mapToLong(Long::longValue).max().orElseThrow());
  }

  @Test
  void operatorOwnedKeysAreRefusedNamingTheirResource() throws Exception {
    var owned = route("/web");
    owned.set(
        "labels",
        ModelJson.mapper().valueToTree(new Owner("ApisixRoute", "default", "web", "u-1").labels()));
    etcd.client()
        .getKVClient()
        .put(
            bytes(prefix + "/routes/web"),
            ByteSequence.from(ModelJson.mapper().writeValueAsBytes(owned)))
        .get(5, TimeUnit.SECONDS);
    var rev = await(store.get("routes/web")).orElseThrow().modifiedIndex();

    assertConflict(
        store.put("routes/web", route("/mine"), AdminStore.ANY), "ApisixRoute default/web");
    assertConflict(store.put("routes/web", route("/mine"), rev), "ApisixRoute default/web");
    assertConflict(store.delete("routes/web", AdminStore.ANY), "ApisixRoute default/web");
    assertThat(await(store.get("routes/web")).orElseThrow().value()).isEqualTo(owned);

    // A body may not claim to be the operator's either.
    var claiming = route("/claim");
    claiming.putObject("labels").put("managed-by", "archway");
    assertThatThrownBy(() -> await(store.put("routes/claim", claiming, AdminStore.ABSENT)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("labels.managed-by");
    assertThat(await(store.get("routes/claim"))).isEmpty();
  }

  @Test
  void aThousandKeysAreListedSortedAndOnlyUnderTheirDirectory() throws Exception {
    var writes = new ArrayList<CompletableFuture<Stored>>();
    for (int i = 0; i < 1000; i++) {
      writes.add(
          store
              .put("routes/" + String.format("r%04d", i), route("/" + i), AdminStore.ABSENT)
              .toCompletableFuture());
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    await(store.put("upstreams/u", upstream(), AdminStore.ABSENT));
    // APISIX 2.x's directory marker, and a value that is not an object: neither is listed.
    etcd.client().getKVClient().put(bytes(prefix + "/routes"), bytes("init_dir")).get();
    etcd.client().getKVClient().put(bytes(prefix + "/routes/zz-bad"), bytes("[1]")).get();

    List<Stored> all = await(store.list("routes/"));
    assertThat(all).hasSize(1000);
    assertThat(all.get(0).key()).isEqualTo("routes/r0000");
    assertThat(all.get(999).key()).isEqualTo("routes/r0999");
    assertThat(all).extracting(Stored::key).isSorted();
    assertThat(all.get(42).value().get("uri").asText()).isEqualTo("/42");
    assertThat(store.revision()).isGreaterThanOrEqualTo(all.get(999).modifiedIndex());
  }

  private static ObjectNode route(String uri) {
    var r = ModelJson.mapper().createObjectNode();
    r.put("uri", uri);
    r.put("upstream_id", "u");
    return r;
  }

  private static ObjectNode upstream() {
    var u = ModelJson.mapper().createObjectNode();
    u.putObject("nodes").put("127.0.0.1:80", 1);
    return u;
  }

  private static void assertConflict(CompletionStage<?> stage, String message) {
    assertThatThrownBy(() -> await(stage))
        .isInstanceOf(Conflict.class)
        .hasMessageContaining(message);
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    try {
      return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
