package io.archway.model.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.Keys;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.Route;
import io.archway.model.testing.EtcdExtension;
import io.archway.model.testing.RecordingListener;
import io.archway.model.testing.TcpProxy;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.DeleteOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EtcdConfigSourceIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final AtomicInteger PREFIXES = new AtomicInteger();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final String prefix = "/t" + PREFIXES.incrementAndGet();
  private final Keys keys = Keys.of(prefix);
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (var c : closeables.reversed()) {
      c.close();
    }
  }

  private EtcdConfigSource source(String endpoint) {
    var settings =
        EtcdConfigSource.Settings.of(List.of(endpoint), prefix)
            .withTiming(Duration.ofMillis(200), Duration.ofMillis(50), Duration.ofMillis(500));
    var s = new EtcdConfigSource(settings);
    closeables.add(s);
    return s;
  }

  /** A cuttable link between a source and etcd, closed after the test. */
  private TcpProxy proxyToEtcd() {
    var proxy = new TcpProxy(etcd.server().clientPort());
    closeables.add(proxy);
    return proxy;
  }

  private void put(String key, String value) throws Exception {
    etcd.client().getKVClient().put(bytes(key), bytes(value)).get();
  }

  private void putRoute(int i) throws Exception {
    put(keys.key(Kind.ROUTES, "r" + i), routeJson(i));
  }

  private static String routeJson(int i) {
    return "{\"uri\":\"/r/" + i + "\",\"upstream_id\":\"u\"}";
  }

  private void delete(String key) throws Exception {
    etcd.client().getKVClient().delete(bytes(key)).get();
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static Key route(int i) {
    return new Key(Kind.ROUTES, "r" + i);
  }

  @Test
  void initialLoadOfAThousandKeysSkipsInvalidItemsAlone() throws Exception {
    var writes = new ArrayList<CompletableFuture<?>>();
    for (int i = 0; i < 1000; i++) {
      writes.add(
          etcd.client()
              .getKVClient()
              .put(bytes(keys.key(Kind.ROUTES, "r" + i)), bytes(routeJson(i))));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
    put(keys.key(Kind.ROUTES, "not-json"), "{this is not json");
    put(keys.key(Kind.UPSTREAMS, "extra"), "{\"nodes\":{\"127.0.0.1:80\":1},\"weight_by\":\"x\"}");
    put(prefix + "/routes", "apisix 2.x directory marker");
    put(prefix + "/unknown_dir/1", "{}");

    var listener = new RecordingListener();
    var source = source(etcd.endpoint());
    source.start(listener);

    await().atMost(WAIT).until(() -> source.status().loaded());
    assertThat(listener.current()).hasSize(1000);
    assertThat(((Route) listener.current().get(route(999))).uri()).isEqualTo("/r/999");
    var status = source.status();
    assertThat(status.connected()).isTrue();
    assertThat(status.invalid())
        .containsOnlyKeys("routes/not-json", "upstreams/extra")
        .hasEntrySatisfying(
            "routes/not-json", r -> assertThat(r).startsWith("routes/not-json: not JSON ("))
        .containsEntry("upstreams/extra", "upstreams/extra: weight_by: unknown field");
    assertThat(status.rejectedTotal()).isEqualTo(2);
    assertThat(status.revision()).isPositive();
  }

  @Test
  void putsAndDeletesArriveInOrder() throws Exception {
    var listener = new RecordingListener();
    var source = source(etcd.endpoint());
    source.start(listener);
    await().atMost(WAIT).until(() -> source.status().loaded());

    putRoute(1);
    putRoute(2);
    delete(keys.key(Kind.ROUTES, "r1"));
    put(keys.key(Kind.ROUTES, "r2"), "{\"uri\":\"/changed\",\"upstream_id\":\"u\"}");
    putRoute(3);
    delete(keys.key(Kind.ROUTES, "r3"));

    await().atMost(WAIT).until(() -> listener.changes().size() == 6);
    var seen =
        listener.changes().stream()
            .map(c -> (c instanceof ConfigChange.Put ? "put " : "delete ") + c.key())
            .toList();
    assertThat(seen)
        .containsExactly(
            "put routes/r1",
            "put routes/r2",
            "delete routes/r1",
            "put routes/r2",
            "put routes/r3",
            "delete routes/r3");
    assertThat(listener.current()).containsOnlyKeys(route(2));
    assertThat(((Route) listener.current().get(route(2))).uri()).isEqualTo("/changed");
  }

  @Test
  void invalidUpdateKeepsTheLastGoodValueAndIsCountedOnce() throws Exception {
    putRoute(1);
    var listener = new RecordingListener();
    var source = source(etcd.endpoint());
    source.start(listener);
    await().atMost(WAIT).until(() -> source.status().loaded());

    put(keys.key(Kind.ROUTES, "r1"), "{\"uri\":\"no-slash\",\"upstream_id\":\"u\"}");
    putRoute(2);
    await().atMost(WAIT).until(() -> listener.current().containsKey(route(2)));

    assertThat(((Route) listener.current().get(route(1))).uri()).isEqualTo("/r/1");
    assertThat(source.status().invalid())
        .containsEntry("routes/r1", "routes/r1: uri: \"no-slash\" (expected: starts with \"/\")");
    assertThat(source.status().rejectedTotal()).isEqualTo(1);

    putRoute(1);
    await().atMost(WAIT).until(() -> source.status().invalid().isEmpty());
    delete(keys.key(Kind.ROUTES, "r1"));
    await().atMost(WAIT).until(() -> !listener.current().containsKey(route(1)));
  }

  @Test
  void compactionWhileDisconnectedForcesAFullReadAndLosesNoUpdate() throws Exception {
    for (int i = 0; i < 10; i++) {
      putRoute(i);
    }
    var proxy = proxyToEtcd();
    var listener = new RecordingListener();
    var source = source(proxy.endpoint());
    source.start(listener);
    await().atMost(WAIT).until(() -> listener.current().size() == 10);

    proxy.cut();
    await().atMost(WAIT).until(() -> !source.status().connected());
    // While the source cannot see etcd: changes, then a compaction past them all.
    delete(keys.key(Kind.ROUTES, "r0"));
    put(keys.key(Kind.ROUTES, "r1"), "{\"uri\":\"/after-cut\",\"upstream_id\":\"u\"}");
    putRoute(100);
    var rev = etcd.client().getKVClient().get(bytes(prefix)).get().getHeader().getRevision();
    etcd.client().getKVClient().compact(rev).get();
    proxy.restore();

    await().atMost(WAIT).until(() -> listener.current().containsKey(route(100)));
    assertThat(listener.current()).doesNotContainKey(route(0)).hasSize(10);
    assertThat(((Route) listener.current().get(route(1))).uri()).isEqualTo("/after-cut");
    assertThat(listener.states()).isEqualTo(2);
    assertThat(source.status().fullLoads()).isEqualTo(2);
    assertThat(source.status().connected()).isTrue();

    putRoute(101);
    await().atMost(WAIT).until(() -> listener.current().containsKey(route(101)));
  }

  @Test
  void shortDisconnectWithoutCompactionResumesTheWatchAndReadsNothingAgain() throws Exception {
    // A watch resumed after a short disconnect, with no compaction, loses nothing and reads nothing
    // again.
    putRoute(1);
    var proxy = proxyToEtcd();
    var listener = new RecordingListener();
    var source = source(proxy.endpoint());
    source.start(listener);
    await().atMost(WAIT).until(() -> listener.current().size() == 1);

    proxy.cut();
    await().atMost(WAIT).until(() -> !source.status().connected());
    putRoute(2);
    delete(keys.key(Kind.ROUTES, "r1"));
    proxy.restore();

    await()
        .atMost(WAIT)
        .until(() -> listener.current().keySet().equals(java.util.Set.of(route(2))));
    assertThat(listener.states()).isEqualTo(1);
    assertThat(listener.changes()).hasSize(2);
  }

  @Test
  void etcdKilledAndRestartedReconnectsAndConverges() throws Exception {
    putRoute(1);
    var listener = new RecordingListener();
    var source = source(etcd.endpoint());
    source.start(listener);
    await().atMost(WAIT).until(() -> listener.current().size() == 1);

    etcd.server().kill();
    await().atMost(WAIT).until(() -> !source.status().connected());
    assertThat(source.status().lastError()).isNotBlank();
    assertThat(listener.current()).containsOnlyKeys(route(1));

    etcd.server().start();
    putRoute(2);
    await().atMost(WAIT).until(() -> listener.current().containsKey(route(2)));
    await().atMost(WAIT).until(() -> source.status().connected());
    assertThat(source.status().lastError()).isNull();
  }

  @Test
  void etcdRestoredToALowerRevisionIsReadAgain() throws Exception {
    putRoute(1);
    var snapshot = etcd.server().snapshot();
    var listener = new RecordingListener();
    var source = source(etcd.endpoint());
    source.start(listener);
    await().atMost(WAIT).until(() -> listener.current().size() == 1);
    for (int i = 2; i <= 20; i++) {
      putRoute(i);
    }
    await().atMost(WAIT).until(() -> listener.current().size() == 20);

    etcd.server().restore(snapshot);

    await().atMost(WAIT).until(() -> listener.current().size() == 1);
    assertThat(listener.current()).containsOnlyKeys(route(1));
    assertThat(source.status().fullLoads()).isEqualTo(2);
    putRoute(3);
    await().atMost(WAIT).until(() -> listener.current().containsKey(route(3)));
  }

  @Test
  void etcdRestoredAndWrittenPastOurRevisionWhileCutOffIsReadAgain() throws Exception {
    putRoute(1);
    var snapshot = etcd.server().snapshot();
    var proxy = proxyToEtcd();
    var listener = new RecordingListener();
    var source = source(proxy.endpoint());
    source.start(listener);
    for (int i = 2; i <= 5; i++) {
      putRoute(i);
    }
    await().atMost(WAIT).until(() -> listener.current().size() == 5);
    long followed = source.status().revision();

    proxy.cut();
    await().atMost(WAIT).until(() -> !source.status().connected());
    etcd.server().restore(snapshot);
    // Written past the source's revision before it sees etcd again: the revision alone no longer
    // tells that etcd went back; the keys it holds at that revision do.
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              putRoute(6);
              return etcd.client().getKVClient().get(bytes(prefix)).get().getHeader().getRevision()
                  > followed + 1;
            });
    proxy.restore();

    await()
        .atMost(WAIT)
        .until(() -> listener.current().keySet().equals(java.util.Set.of(route(1), route(6))));
    assertThat(source.status().fullLoads()).isEqualTo(2);
    putRoute(7);
    await().atMost(WAIT).until(() -> listener.current().containsKey(route(7)));
  }

  @Test
  void aReconnectAfterMembersComeBackWithTheSameHistoryReadsNothingAgain() throws Exception {
    // The keys-only check on reconnect finds the same keys at the same revisions: the watch
    // resumes, even with keys of other kinds and invalid ones under the prefix.
    putRoute(1);
    put(prefix + "/unknown_kind/x", "{}");
    put(keys.key(Kind.ROUTES, "bad"), "{\"uri\":\"no-slash\"}");
    var listener = new RecordingListener();
    var source = source(etcd.endpoint());
    source.start(listener);
    await().atMost(WAIT).until(() -> listener.current().size() == 1);
    putRoute(2);
    delete(keys.key(Kind.ROUTES, "r1"));
    await()
        .atMost(WAIT)
        .until(() -> listener.current().keySet().equals(java.util.Set.of(route(2))));

    etcd.server().kill();
    await().atMost(WAIT).until(() -> !source.status().connected());
    etcd.server().start();
    await().atMost(WAIT).until(() -> source.status().connected());
    putRoute(3);
    await().atMost(WAIT).until(() -> listener.current().containsKey(route(3)));
    assertThat(source.status().fullLoads()).isEqualTo(1);
    assertThat(listener.states()).isEqualTo(1);
  }

  @Test
  void prefixDeleteRemovesEverything() throws Exception {
    putRoute(1);
    putRoute(2);
    var listener = new RecordingListener();
    var source = source(etcd.endpoint());
    source.start(listener);
    await().atMost(WAIT).until(() -> listener.current().size() == 2);
    etcd.client()
        .getKVClient()
        .delete(bytes(keys.root()), DeleteOption.builder().isPrefix(true).build())
        .get();
    await().atMost(WAIT).until(() -> listener.current().isEmpty());
  }
}
