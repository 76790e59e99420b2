package io.archway.dataplane.config.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The dataplane as an xDS client of java-control-plane (the management server Java control planes
 * build on), on loopback, with Bookinfo's services as real HTTP nodes: the routing, weights, fault
 * and retry rules of the snapshots are what traffic through the gateway follows, through an update,
 * a NACKed snapshot and a restart of the management server. The steps run in order on one
 * management server and one gateway.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdsBookinfoIT {

  @RegisterExtension static final XdsMesh mesh = new XdsMesh(XdsConfigSource.Protocol.SOTW);

  @Test
  @Order(1)
  void servesBookinfoAsTheSnapshotSays() throws Exception {
    assertThat(get("/productpage").body()).isEqualTo("productpage");
    // The header rule comes first: jason sees v2 only.
    for (int i = 0; i < 10; i++) {
      assertThat(get("/reviews/0", "end-user", "jason").body()).isEqualTo("reviews-v2");
    }
    // Everyone else: 20/30/50 over v1, v2, v3.
    var counts = spread("/reviews/0", 100);
    assertThat(counts.keySet()).containsOnly("reviews-v1", "reviews-v2", "reviews-v3");
    assertThat(counts.get("reviews-v3")).isGreaterThan(counts.get("reviews-v1"));
    // The retry rule hides the failing ratings pod; the fault rule aborts on x-fault.
    for (int i = 0; i < 10; i++) {
      var r = get("/ratings/0");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("ratings-b");
    }
    assertThat(get("/ratings/0", "x-fault", "yes").statusCode()).isEqualTo(555);
    // A redirect and a direct response.
    var redirect = get("/old");
    assertThat(redirect.statusCode()).isEqualTo(301);
    assertThat(redirect.headers().firstValue("location")).hasValue("/productpage");
    var direct = get("/ready");
    assertThat(direct.statusCode()).isEqualTo(200);
    assertThat(direct.body()).isEqualTo("ready");
    assertThat(get("/nowhere").statusCode()).isEqualTo(404);
    assertThat(mesh.dataplane.source().status().connected()).isTrue();
  }

  @Test
  @Order(2)
  void followsAnUpdate() throws Exception {
    mesh.cache.setSnapshot("gateways", mesh.bookinfo("2", 0, 0, 100, false));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(spread("/reviews/0", 10)).containsOnlyKeys("reviews-v3"));
  }

  @Test
  @Order(3)
  void nacksABadSnapshotAndKeepsServing() throws Exception {
    mesh.cache.setSnapshot("gateways", mesh.bookinfo("3", 100, 0, 0, true));
    await().atMost(Duration.ofSeconds(20)).until(() -> !mesh.nacks.isEmpty());
    var nack = mesh.nacks.get(0);
    assertThat(nack.getTypeUrl()).isEqualTo(XdsTranslator.CLUSTER);
    assertThat(nack.getVersionInfo()).isEqualTo("2");
    assertThat(nack.getErrorDetail().getMessage()).isEqualTo(XdsMesh.BAD_RATINGS);
    assertThat(mesh.dataplane.source().status().invalid()).containsKey("Cluster");
    assertThat(mesh.metrics())
        .contains("archway_xds_responses_total{protocol=\"sotw\",result=\"nack\"} ");
    // Version 3's routes came with it (RDS is its own update): Envoy would take them too. The
    // clusters stay version 2's, and every request is still served.
    for (int i = 0; i < 5; i++) {
      assertThat(get("/productpage").statusCode()).isEqualTo(200);
      assertThat(get("/ratings/0").body()).isEqualTo("ratings-b");
    }
    mesh.cache.setSnapshot("gateways", mesh.bookinfo("4", 100, 0, 0, false));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(spread("/reviews/0", 10)).containsOnlyKeys("reviews-v1"));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> mesh.dataplane.source().status().invalid().isEmpty());
  }

  @Test
  @Order(4)
  void keepsTheLastConfigWhileTheServerIsAwayThenResyncs() throws Exception {
    mesh.stopServer();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !mesh.dataplane.source().status().connected());
    for (int i = 0; i < 5; i++) {
      assertThat(get("/reviews/0").body()).isEqualTo("reviews-v1");
    }
    // A new management server (empty memory) on the same address, with a newer snapshot.
    mesh.serve(mesh.bookinfo("5", 0, 100, 0, false));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(spread("/reviews/0", 10)).containsOnlyKeys("reviews-v2"));
    assertThat(mesh.dataplane.source().status().connected()).isTrue();
    assertThat(get("/productpage").body()).isEqualTo("productpage");
  }

  private static HttpResponse<String> get(String path, String... headers) throws Exception {
    return mesh.get(path, headers);
  }

  private static Map<String, Integer> spread(String path, int n) throws Exception {
    return mesh.spread(path, n);
  }
}
