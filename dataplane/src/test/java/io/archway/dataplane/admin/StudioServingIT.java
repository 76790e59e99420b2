package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Studio under {@code /ui/} on a real admin port, next to the Admin API that needs a key. */
class StudioServingIT {

  private static final String KEY = "edd1c9f034335f136f87ad84b625c8f1";

  @TempDir Path dir;
  private Dataplane dataplane;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() throws Exception {
    var file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes: []\n#END\n");
    dataplane =
        new Dataplane(
                DataplaneOptions.standaloneOnLoopback(file)
                    .withAdmin(AdminSettings.onLoopback(KEY, null, true)))
            .start();
    await().atMost(Duration.ofSeconds(10)).until(() -> dataplane.config().loaded());
  }

  @AfterEach
  void stop() {
    dataplane.close();
  }

  private HttpResponse<String> call(String method, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + dataplane.servers().adminPort() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theAppIsServedWithoutAKeyAndTheApiStillWantsOne() throws Exception {
    var redirect = call("GET", "/ui");
    assertThat(redirect.statusCode()).isEqualTo(301);
    assertThat(redirect.headers().firstValue("Location")).hasValue("/ui/");

    var index = call("GET", "/ui/");
    assertThat(index.statusCode()).isEqualTo(200);
    assertThat(index.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    assertThat(index.headers().firstValue("Content-Security-Policy")).isPresent();
    var script = index.body().replaceAll("(?s).*src=\"(/ui/assets/[^\"]+\\.js)\".*", "$1");
    assertThat(script).startsWith("/ui/assets/");

    var js = call("GET", script);
    assertThat(js.statusCode()).isEqualTo(200);
    assertThat(js.headers().firstValue("Cache-Control"))
        .hasValueSatisfying(c -> assertThat(c).contains("immutable"));

    assertThat(call("GET", "/ui/flows/anything").body()).isEqualTo(index.body());
    assertThat(call("HEAD", "/ui/").statusCode()).isEqualTo(200);
    assertThat(call("POST", "/ui/").statusCode()).isEqualTo(405);
    assertThat(call("GET", "/ui/%2e%2e/apisix/admin/routes").statusCode()).isEqualTo(400);
    assertThat(call("GET", "/apisix/admin/routes").statusCode()).isEqualTo(401);
  }
}
