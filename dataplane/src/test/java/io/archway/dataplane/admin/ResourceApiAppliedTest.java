package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.plugin.PluginRegistry;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write's answer waits for this node to serve its revision ({@link ConfigApplied}), and no longer
 * than the bound: then it goes out anyway, marked {@code X-Archway-Applied: false}. The store is a
 * real standalone store; what stands in for the dataplane is the revisions asked for.
 */
class ResourceApiAppliedTest {

  @TempDir Path dir;
  private StandaloneAdminStore store;
  private final List<Long> asked = new ArrayList<>();
  private final List<CompletableFuture<Void>> pending = new ArrayList<>();

  @BeforeEach
  void load() throws Exception {
    var file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes: []\n#END\n");
    store = StandaloneAdminStore.load(file, false);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private ResourceApi api(Duration timeout) {
    ConfigApplied applied =
        revision -> {
          asked.add(revision);
          var f = new CompletableFuture<Void>();
          pending.add(f);
          return f;
        };
    var validation = new AdminValidation(PluginRegistry.load());
    return new ResourceApi(
        store, validation, new AdminEndpoints().deleteCheck(), "/apisix", applied, timeout);
  }

  private static AdminRequest request(String method, String path, String body) {
    return new AdminRequest(
        method,
        path,
        Map.of(),
        new DefaultHttpHeaders(),
        body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8),
        AdminRequest.Role.ADMIN,
        "127.0.0.1");
  }

  private static final String ROUTE =
      "{\"uri\":\"/a\",\"upstream\":{\"nodes\":{\"127.0.0.1:1980\":1}}}";

  @Test
  void aWriteAnswersOnceItsRevisionIsServed() throws Exception {
    var api = api(Duration.ofSeconds(30));
    var put = api.serve(request("PUT", "/apisix/admin/routes/1", ROUTE)).toCompletableFuture();
    assertThat(put).isNotDone();
    assertThat(asked).containsExactly(store.revision());
    pending.get(0).complete(null);
    var res = put.get(5, TimeUnit.SECONDS);
    assertThat(res.status()).isEqualTo(201);
    assertThat(res.body().get("modifiedIndex").asLong()).isEqualTo(asked.get(0));
    assertThat(res.headers()).doesNotContainKey(ResourceApi.APPLIED_HEADER);

    var delete = api.serve(request("DELETE", "/apisix/admin/routes/1", null)).toCompletableFuture();
    assertThat(delete).isNotDone();
    assertThat(asked).hasSize(2);
    assertThat(asked.get(1)).isGreaterThan(asked.get(0));
    pending.get(1).complete(null);
    assertThat(delete.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
  }

  @Test
  void pastTheBoundTheWriteAnswersAnywayMarkedNotApplied() throws Exception {
    var api = api(Duration.ofMillis(50));
    var res =
        api.serve(request("PUT", "/apisix/admin/routes/1", ROUTE))
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    assertThat(res.status()).isEqualTo(201);
    assertThat(res.body().at("/value/uri").asText()).isEqualTo("/a");
    assertThat(res.headers()).containsEntry(ResourceApi.APPLIED_HEADER, "false");
  }

  @Test
  void readsRefusalsAndObjectsTheDataplaneDoesNotHoldDoNotWait() throws Exception {
    var api = api(Duration.ofSeconds(30));
    assertThat(api.serve(request("GET", "/apisix/admin/routes", null))).isCompleted();
    assertThat(api.serve(request("PUT", "/apisix/admin/routes/1", "{\"uri\":1}"))).isCompleted();
    assertThat(api.serve(request("DELETE", "/apisix/admin/routes/none", null))).isCompleted();
    assertThat(asked).isEmpty();
    // (protos and secrets were objects the dataplane did not hold until grpc-transcode and the
    // secret managers read them: a secret's write now waits for its revision, as a route's.)
    var secret =
        api.serve(
            request("PUT", "/apisix/admin/secrets/vault/1", "{\"uri\":\"http://127.0.0.1:1\"}"));
    assertThat(secret).isNotCompleted();
    assertThat(asked).hasSize(1);
  }
}
