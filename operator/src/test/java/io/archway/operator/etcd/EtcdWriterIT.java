package io.archway.operator.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.translate.Translation;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The writer against a real etcd: what the start-up resync removed stays removed, and a fenced
 * writer (a replica that lost its Lease) writes nothing.
 */
class EtcdWriterIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Owner WEB = new Owner("ApisixRoute", "default", "web", "uid-1");
  private static final Duration WAIT = Duration.ofSeconds(30);

  EtcdConfigSink sink;

  @BeforeEach
  void start() {
    sink =
        new EtcdConfigSink(
            Client.builder().endpoints(etcd.endpoint()).build(),
            "/writer-" + System.nanoTime(),
            Duration.ofSeconds(30));
  }

  @AfterEach
  void stop() {
    sink.close();
  }

  private static List<Translation.Item> route(String id, String uri) throws Exception {
    var json =
        "{\"id\":\""
            + id
            + "\",\"uri\":\""
            + uri
            + "\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}";
    return List.of(
        new Translation.Item(
            Kind.ROUTES,
            ModelJson.read(
                Kind.ROUTES, json.getBytes(StandardCharsets.UTF_8), id, "routes/" + id)));
  }

  @Test
  void aReconcileThatReadItsResourceBeforeItWentDoesNotBringItsKeysBack() throws Exception {
    new EtcdWriter(sink, () -> o -> true).apply(WEB, route("web", "/web"));
    assertThat(sink.get(Kind.ROUTES, "web")).isPresent();

    // A new leader: the resource is gone from the API server (deleted without its finalizer), but
    // a reconcile had read it from the cache before, and writes after the resync.
    var writer = new EtcdWriter(sink, () -> o -> false);
    var applied = writer.apply(WEB, route("web", "/web"));

    assertThat(applied.keys()).isEmpty();
    assertThat(sink.get(Kind.ROUTES, "web")).isEmpty();
    assertThat(writer.deletes()).isEqualTo(1);
    // The same name created again is another resource (another uid): it is written.
    var again = new Owner("ApisixRoute", "default", "web", "uid-2");
    assertThat(writer.apply(again, route("web", "/web")).created()).isEqualTo(1);
    assertThat(sink.get(Kind.ROUTES, "web")).isPresent();
  }

  @Test
  void aResourceReportedGoneLosesOnlyTheKeysOfThatIncarnation() throws Exception {
    var writer = new EtcdWriter(sink, () -> o -> true);
    writer.apply(WEB, route("web", "/web"));
    var other = new Owner("ApisixRoute", "default", "other", "uid-9");
    writer.apply(other, route("other", "/other"));

    writer.deleted(WEB);

    await().atMost(WAIT).until(() -> sink.get(Kind.ROUTES, "web").isEmpty());
    assertThat(sink.get(Kind.ROUTES, "other")).isPresent();
    // A reconcile that read it before it went writes nothing.
    assertThat(writer.apply(WEB, route("web", "/web")).keys()).isEmpty();
    assertThat(sink.get(Kind.ROUTES, "web")).isEmpty();

    // The same name created again (another uid) writes its key; the late report of the first
    // one's deletion does not touch it.
    var again = new Owner("ApisixRoute", "default", "web", "uid-2");
    writer.apply(again, route("web", "/web-again"));
    writer.deleted(WEB);
    writer.deleted(new Owner("ApisixRoute", "default", "ghost", "uid-7"));
    // Once the writer's thread has run both reports, the other route's key is still there.
    var marker = new Owner("ApisixRoute", "default", "marker", "uid-8");
    writer.apply(marker, route("marker", "/marker"));
    writer.deleted(marker);
    await().atMost(WAIT).until(() -> sink.get(Kind.ROUTES, "marker").isEmpty());
    assertThat(sink.get(Kind.ROUTES, "web").orElseThrow().owner()).isEqualTo(again);
    assertThat(writer.deletes()).isEqualTo(2);
  }

  @Test
  void aDeletionReportedBeforeTheFirstWriteIsLeftToTheStartUpResync() throws Exception {
    new EtcdWriter(sink, () -> o -> true).apply(WEB, route("web", "/web"));
    var writer = new EtcdWriter(sink, () -> o -> !o.name().equals("web"));

    writer.deleted(WEB);
    var other = new Owner("ApisixRoute", "default", "other", "uid-9");
    writer.apply(other, route("other", "/other"));

    assertThat(sink.get(Kind.ROUTES, "web")).isEmpty();
    assertThat(writer.apply(WEB, route("web", "/web")).keys()).isEmpty();
    assertThat(sink.get(Kind.ROUTES, "web")).isEmpty();
  }

  @Test
  void aFencedWriterWritesNothing() throws Exception {
    var writer = new EtcdWriter(sink, () -> o -> true);
    writer.apply(WEB, route("web", "/web"));
    long revision = sink.get(Kind.ROUTES, "web").orElseThrow().modRevision();

    writer.fence();

    assertThat(writer.fenced()).isTrue();
    assertThatThrownBy(() -> writer.apply(WEB, route("web", "/changed")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not the leader");
    assertThatThrownBy(() -> writer.deleteAll(WEB)).isInstanceOf(IllegalStateException.class);
    assertThat(sink.get(Kind.ROUTES, "web").orElseThrow().modRevision()).isEqualTo(revision);
  }
}
