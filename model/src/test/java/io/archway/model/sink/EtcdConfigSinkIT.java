package io.archway.model.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.archway.model.ValidationException;
import io.archway.model.testing.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EtcdConfigSinkIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();
  private static final AtomicInteger PREFIXES = new AtomicInteger();

  private final Owner alice = new Owner("ApisixRoute", "default", "alice", "uid-1");
  private final Owner bob = new Owner("ApisixRoute", "default", "bob", "uid-2");
  private String prefix;
  private EtcdConfigSink sink;

  @BeforeEach
  void setUp() {
    prefix = "/sink" + PREFIXES.incrementAndGet();
    sink = new EtcdConfigSink(etcd.client(), prefix, Duration.ofSeconds(10));
  }

  private static Route route(String id, String uri, Map<String, String> labels) throws Exception {
    var json = "{\"id\":\"" + id + "\",\"uri\":\"" + uri + "\",\"upstream_id\":\"u\"}";
    var r =
        (Route)
            ModelJson.read(
                Kind.ROUTES, json.getBytes(StandardCharsets.UTF_8), null, "routes/" + id);
    return labels == null
        ? r
        : new Route(
            r.id(),
            r.name(),
            r.desc(),
            r.uri(),
            r.uris(),
            r.host(),
            r.hosts(),
            r.remoteAddr(),
            r.remoteAddrs(),
            r.methods(),
            r.vars(),
            r.priority(),
            r.status(),
            r.enableWebsocket(),
            r.timeout(),
            r.plugins(),
            r.pluginConfigId(),
            r.pluginFlowId(),
            r.pluginFlow(),
            r.rawPath(),
            r.upstream(),
            r.upstreamId(),
            r.serviceId(),
            labels,
            r.createTime(),
            r.updateTime());
  }

  @Test
  void aValueWithNumbersOfEveryWidthIsUnchangedWhenWrittenAgain() throws Exception {
    // A timeout, retries and a weight: numbers the model holds as Long, Integer and Double.
    var json =
        "{\"id\":\"n\",\"uri\":\"/n\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":100},"
            + "\"retries\":2,\"timeout\":{\"connect\":5,\"send\":30,\"read\":30.5}}}";
    var route =
        ModelJson.read(Kind.ROUTES, json.getBytes(StandardCharsets.UTF_8), null, "routes/n");
    assertThat(sink.putIfChanged(Kind.ROUTES, route, alice))
        .isEqualTo(EtcdConfigSink.Result.CREATED);
    long revision = sink.get(Kind.ROUTES, "n").orElseThrow().modRevision();

    assertThat(sink.putIfChanged(Kind.ROUTES, route, alice))
        .isEqualTo(EtcdConfigSink.Result.UNCHANGED);
    assertThat(sink.get(Kind.ROUTES, "n").orElseThrow().modRevision()).isEqualTo(revision);
  }

  private void putRaw(String key, String value) throws Exception {
    etcd.client()
        .getKVClient()
        .put(
            ByteSequence.from(key, StandardCharsets.UTF_8),
            ByteSequence.from(value, StandardCharsets.UTF_8))
        .get();
  }

  @Test
  void writesOnlyWhatChangedWithOwnerLabels() throws Exception {
    assertThat(sink.putIfChanged(Kind.ROUTES, route("1", "/a", Map.of("team", "web")), alice))
        .isEqualTo(EtcdConfigSink.Result.CREATED);
    var first = sink.get(Kind.ROUTES, "1").orElseThrow();
    assertThat(first.owner()).isEqualTo(alice);
    assertThat(first.value().path("labels").path("managed-by").asText()).isEqualTo("archway");
    assertThat(first.value().path("labels").path("team").asText()).isEqualTo("web");
    assertThat(first.value().path("labels").path("archway.io/owner-uid").asText())
        .isEqualTo("uid-1");

    assertThat(sink.putIfChanged(Kind.ROUTES, route("1", "/a", Map.of("team", "web")), alice))
        .isEqualTo(EtcdConfigSink.Result.UNCHANGED);
    assertThat(sink.get(Kind.ROUTES, "1").orElseThrow().modRevision())
        .isEqualTo(first.modRevision());

    assertThat(sink.putIfChanged(Kind.ROUTES, route("1", "/b", null), alice))
        .isEqualTo(EtcdConfigSink.Result.UPDATED);
    assertThat(sink.get(Kind.ROUTES, "1").orElseThrow().value().path("uri").asText())
        .isEqualTo("/b");
  }

  @Test
  void neverTouchesKeysItDidNotCreate() throws Exception {
    var foreign = "{\"id\":\"9\",\"uri\":\"/admin-api\",\"upstream_id\":\"u\"}";
    putRaw(prefix + "/routes/9", foreign);
    assertThatThrownBy(() -> sink.putIfChanged(Kind.ROUTES, route("9", "/mine", null), alice))
        .isInstanceOf(NotOwnedException.class)
        .hasMessage("routes/9 exists and is not managed by archway; not touching it");
    assertThatThrownBy(() -> sink.delete(Kind.ROUTES, "9", alice))
        .isInstanceOf(NotOwnedException.class);
    assertThat(sink.get(Kind.ROUTES, "9").orElseThrow().value().path("uri").asText())
        .isEqualTo("/admin-api");

    sink.putIfChanged(Kind.ROUTES, route("2", "/bob", null), bob);
    assertThatThrownBy(() -> sink.putIfChanged(Kind.ROUTES, route("2", "/alice", null), alice))
        .isInstanceOf(NotOwnedException.class)
        .hasMessage("routes/2 belongs to ApisixRoute default/bob, not ApisixRoute default/alice");
  }

  @Test
  void ownerLabelsWinAndInvalidObjectsAreNeverWritten() throws Exception {
    var claimsBob = route("3", "/x", Map.of("archway.io/owner-name", "bob"));
    sink.putIfChanged(Kind.ROUTES, claimsBob, alice);
    assertThat(sink.get(Kind.ROUTES, "3").orElseThrow().owner()).isEqualTo(alice);
    var alsoBad = route("4", "/x", Map.of("blank", "two words"));
    assertThatThrownBy(() -> sink.putIfChanged(Kind.ROUTES, alsoBad, alice))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("routes/4: labels.blank:");
    assertThat(sink.get(Kind.ROUTES, "4")).isEmpty();
  }

  @Test
  void compareAndSwapOnModRevision() throws Exception {
    assertThat(sink.compareAndSwap(Kind.ROUTES, route("5", "/v1", null), 0)).isTrue();
    assertThat(sink.compareAndSwap(Kind.ROUTES, route("5", "/again", null), 0)).isFalse();
    var rev = sink.get(Kind.ROUTES, "5").orElseThrow().modRevision();
    assertThat(sink.compareAndSwap(Kind.ROUTES, route("5", "/v2", null), rev + 100)).isFalse();
    assertThat(sink.compareAndSwap(Kind.ROUTES, route("5", "/v2", null), rev)).isTrue();
    assertThat(sink.get(Kind.ROUTES, "5").orElseThrow().value().path("uri").asText())
        .isEqualTo("/v2");
  }

  @Test
  void listsAndDeletesByOwner() throws Exception {
    sink.putIfChanged(Kind.ROUTES, route("a1", "/a1", null), alice);
    sink.putIfChanged(Kind.ROUTES, route("a2", "/a2", null), alice);
    sink.putIfChanged(Kind.ROUTES, route("b1", "/b1", null), bob);
    putRaw(prefix + "/routes/other", "{\"id\":\"other\",\"uri\":\"/o\",\"upstream_id\":\"u\"}");
    putRaw(prefix + "/routes/garbage", "not json");

    assertThat(sink.listByOwner(alice))
        .extracting(i -> i.key().id())
        .containsExactlyInAnyOrder("a1", "a2");
    assertThat(sink.listManaged())
        .extracting(i -> i.key().id())
        .containsExactlyInAnyOrder("a1", "a2", "b1");

    assertThat(sink.delete(Kind.ROUTES, "a1", alice)).isTrue();
    assertThat(sink.delete(Kind.ROUTES, "a1", alice)).isFalse();
    assertThatThrownBy(() -> sink.delete(Kind.ROUTES, "b1", alice))
        .isInstanceOf(NotOwnedException.class);
    assertThat(sink.listByOwner(alice)).extracting(i -> i.key().id()).containsExactly("a2");
    assertThat(Keys.of(prefix).key(Kind.ROUTES, "a2")).isEqualTo(prefix + "/routes/a2");
  }
}
