package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.support.Transport;
import io.archway.model.testing.EtcdExtension;
import io.archway.model.testing.TestFiles;
import io.etcd.jetcd.ByteSequence;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class DataplaneIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  @TempDir Path dir;
  private Dataplane dataplane;
  private final HttpClient http = HttpClient.newHttpClient();

  private static final String CONFIG =
      """
      routes:
        - id: 1
          uri: /hello
          upstream:
            nodes:
              "127.0.0.1:1980": 1
      #END
      """;

  @AfterEach
  void stop() {
    if (dataplane != null) {
      dataplane.close();
    }
  }

  private Dataplane start(DataplaneOptions options) throws Exception {
    dataplane = new Dataplane(options).start();
    return dataplane;
  }

  private static DataplaneOptions standalone(Path file) {
    return DataplaneOptions.standaloneOnLoopback(file);
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String status(String path) throws Exception {
    return get(dataplane.servers().statusPort(), path).body();
  }

  private Path write(String content) throws Exception {
    return TestFiles.replaceAtomically(dir.resolve("apisix.yaml"), content);
  }

  @Test
  void standaloneServesStatusMetricsAndApisixsNotFound() throws Exception {
    var file = write(CONFIG);
    start(standalone(file));
    await().until(() -> dataplane.config().loaded());

    var res = get(dataplane.servers().httpPort(), "/anything?x=1");
    assertThat(res.statusCode()).isEqualTo(404);
    assertThat(res.body()).isEqualTo("{\"error_msg\":\"404 Route Not Found\"}\n");
    assertThat(res.headers().firstValue("content-type")).contains("application/json");

    assertThat(get(dataplane.servers().statusPort(), "/healthz").statusCode()).isEqualTo(200);
    var ready = get(dataplane.servers().statusPort(), "/readyz");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("\"ready\" : true").contains("\"items\" : 1");
    var metrics = status("/metrics");
    assertThat(metrics)
        .contains("archway_config_items{kind=\"routes\"} 1\n")
        .contains("archway_config_source_connected 1\n")
        .contains("archway_config_revision 1\n")
        .contains("archway_config_items_rejected_total 0\n")
        .contains("archway_http_responses_total{code=\"4xx\"} 1\n")
        .contains("archway_transport_info{transport=\"" + Transport.selected().label() + "\"} 1\n");

    write(CONFIG.replace("#END", "  - id: 2\n    uri: /two\n    upstream_id: u\n#END"));
    await().until(() -> status("/metrics").contains("archway_config_items{kind=\"routes\"} 2\n"));
    assertThat(status("/metrics")).contains("archway_config_revision 2\n");

    write(CONFIG.replace("/hello", "no-slash"));
    await().until(() -> status("/readyz").contains("last_error"));
    assertThat(status("/readyz")).contains("routes/1: uri: \\\"no-slash\\\"");
    assertThat(status("/metrics"))
        .contains("archway_config_items{kind=\"routes\"} 2\n")
        .contains("archway_config_items_invalid 1\n");
  }

  @Test
  void malformedRequestsGet400AndPipelinedRequestsAreAnsweredInOrder() throws Exception {
    start(standalone(write(CONFIG)));
    try (var s = new Socket(InetAddress.getLoopbackAddress(), dataplane.servers().httpPort())) {
      s.setSoTimeout(5000);
      var out = s.getOutputStream();
      out.write(
          ("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                  + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                  + "GET /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                  + "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      var all = readAll(s.getInputStream());
      assertThat(all.split("HTTP/1.1 404 Not Found", -1)).hasSize(5);
      assertThat(all).endsWith("{\"error_msg\":\"404 Route Not Found\"}\n");
    }
    try (var s = new Socket(InetAddress.getLoopbackAddress(), dataplane.servers().httpPort())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("GARBAGE\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      var all = readAll(s.getInputStream());
      assertThat(all)
          .startsWith("HTTP/1.1 400 Bad Request")
          .endsWith("{\"error_msg\":\"400 Bad Request\"}\n");
    }
    // Other clients are untouched.
    assertThat(get(dataplane.servers().httpPort(), "/ok").statusCode()).isEqualTo(404);
  }

  private static String readAll(InputStream in) throws IOException {
    var buf = new ByteArrayOutputStream();
    in.transferTo(buf);
    return buf.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void etcdModeReportsInvalidItemsAndReadinessFromTheStore() throws Exception {
    var kv = etcd.client().getKVClient();
    kv.put(bytes("/dp/routes/good"), bytes("{\"uri\":\"/g\",\"upstream_id\":\"u\"}")).get();
    kv.put(bytes("/dp/routes/bad"), bytes("{\"uri\":\"/b\"}")).get();
    start(DataplaneOptions.etcdOnLoopback(List.of(etcd.endpoint()), "/dp"));
    await().until(() -> dataplane.config().loaded());

    var metrics = status("/metrics");
    assertThat(metrics)
        .contains("archway_config_items{kind=\"routes\"} 1\n")
        .contains("archway_config_items_invalid 1\n")
        .contains("archway_config_items_rejected_total 1\n")
        .contains("archway_config_source_connected 1\n");
    assertThat(status("/readyz"))
        .contains("\"ready\" : true")
        .contains(
            "\"routes/bad\" : \"routes/bad: nothing to do (expected: at least one of plugins,"
                + " upstream, upstream_id, service_id, plugin_flow_id, plugin_flow)\"");

    kv.put(bytes("/dp/routes/more"), bytes("{\"uri\":\"/m\",\"upstream_id\":\"u\"}")).get();
    await().until(() -> status("/metrics").contains("archway_config_items{kind=\"routes\"} 2\n"));
  }

  @Test
  void notReadyUntilTheFirstConfigArrives() throws Exception {
    start(
        DataplaneOptions.etcdOnLoopback(List.of("http://127.0.0.1:1"), "/apisix")
            .withShutdownTimeout(Duration.ZERO));
    var ready = get(dataplane.servers().statusPort(), "/readyz");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).contains("\"ready\" : false");
    await().until(() -> status("/readyz").contains("last_error"));
    assertThat(status("/metrics")).contains("archway_config_source_connected 0\n");
    assertThat(get(dataplane.servers().statusPort(), "/healthz").statusCode()).isEqualTo(200);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
