package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.testing.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /apisix/admin/healthcheck}: the Studio's overview reads the nodes' health through the
 * Admin API, the same body the control API serves at {@code /v1/healthcheck}.
 */
class AdminHealthcheckIT {

  static final String KEY = AdminApiContract.ADMIN;
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  TestUpstream up;
  Dataplane dataplane;

  @AfterEach
  void stop() {
    if (dataplane != null) {
      dataplane.close();
    }
    if (up != null) {
      up.close();
    }
  }

  @Test
  void theAdminApiShowsTheNodesHealthAsTheControlApiDoes() throws Exception {
    up = new TestUpstream("up");
    int closed = Ports.free(); // nothing listens there: that node fails its checks
    var file = dir.resolve("apisix.yaml");
    Files.writeString(
        file,
        """
        upstreams:
          - id: web
            nodes:
              "%s": 1
              "127.0.0.1:%d": 1
            checks:
              active:
                type: tcp
                timeout: 1
                healthy: {interval: 1, successes: 1}
                unhealthy: {interval: 1, tcp_failures: 1}
        routes:
          - id: r
            uri: /*
            upstream_id: web
        #END
        """
            .formatted(up.node(), closed));
    dataplane =
        new Dataplane(
                DataplaneOptions.standaloneOnLoopback(file)
                    .withAdmin(AdminSettings.onLoopback(KEY, null, false)))
            .start();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(adminPort(), "/apisix/admin/healthcheck", KEY).contains("unhealthy"));
    var admin = JSON.readTree(get(adminPort(), "/apisix/admin/healthcheck", KEY));
    assertThat(admin.at("/0/name").asText()).isEqualTo("upstreams/web");
    assertThat(statusOf(admin, closed)).isEqualTo("unhealthy");
    assertThat(statusOf(admin, Integer.parseInt(up.node().split(":")[1]))).isEqualTo("healthy");
    // The same body as the control API's (both read the same checkers).
    var control = JSON.readTree(get(dataplane.servers().statusPort(), "/v1/healthcheck", null));
    assertThat(admin).isEqualTo(control);
    // Behind the key, and read-only.
    assertThat(send(adminPort(), "GET", "/apisix/admin/healthcheck", "wrong").statusCode())
        .isEqualTo(401);
    assertThat(send(adminPort(), "PUT", "/apisix/admin/healthcheck", KEY).statusCode())
        .isEqualTo(405);
  }

  private int adminPort() {
    return dataplane.servers().adminPort();
  }

  private static String statusOf(JsonNode list, int port) {
    for (var n : list.at("/0/nodes")) {
      if (n.path("port").asInt() == port) {
        return n.path("status").asText();
      }
    }
    return "absent";
  }

  private String get(int port, String path, String key) throws Exception {
    var r = send(port, "GET", path, key);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private HttpResponse<String> send(int port, String method, String path, String key)
      throws Exception {
    var b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (key != null) {
      b.header("X-API-KEY", key);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
