package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProxyIT {

  @TempDir Path dir;
  TestUpstream a;
  Gateways gw;

  @BeforeEach
  void upstream() throws Exception {
    a = new TestUpstream("a");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    a.close();
  }

  private String route(String uri, String node) {
    return """
        routes:
          - id: r1
            uri: %s
            upstream:
              nodes:
                "%s": 1
        """
        .formatted(uri, node);
  }

  @Test
  void proxiesAndKeepsTheUpstreamConnectionAlive() throws Exception {
    gw = Gateways.start(dir, route("/*", a.node()));
    for (int i = 0; i < 20; i++) {
      var res = gw.get("/hello?x=1");
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(res.body()).isEqualTo("a");
    }
    assertThat(a.requests()).isEqualTo(20);
    assertThat(a.connections()).isLessThanOrEqualTo(2);
    var h = a.lastHeaders();
    assertThat(h)
        .containsEntry("x-real-ip", "127.0.0.1")
        .containsEntry("x-forwarded-proto", "http");
    assertThat(h.get("x-forwarded-for")).isEqualTo("127.0.0.1");
    assertThat(h.get("host")).isEqualTo("127.0.0.1:" + gw.port());
  }

  @Test
  void postBodyIsEchoed() throws Exception {
    gw = Gateways.start(dir, route("/echo", a.node()));
    var res =
        gw.client()
            .send(
                HttpRequest.newBuilder(URI.create(gw.url("/echo")))
                    .POST(HttpRequest.BodyPublishers.ofString("ping"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isEqualTo("ping");
  }
}
