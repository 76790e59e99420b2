package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsMesh.PRODUCTPAGE;
import static io.archway.dataplane.config.xds.XdsMesh.RATINGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.Kind;
import io.archway.model.Upstream;
import io.archway.model.source.ConfigItem;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The dataplane as a delta xDS client of java-control-plane, on Bookinfo (as {@link
 * XdsBookinfoIT}): what the server sends is only what changed, and traffic follows it through an
 * update of one cluster, a NACKed cluster, a removed cluster and a restart of the management
 * server. The steps run in order on one management server and one gateway.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdsDeltaBookinfoIT {

  @RegisterExtension static final XdsMesh mesh = new XdsMesh(XdsConfigSource.Protocol.DELTA);

  @Test
  @Order(1)
  void subscribesAndServesTheFirstConfig() throws Exception {
    assertThat(mesh.get("/productpage").body()).isEqualTo("productpage");
    assertThat(mesh.spread("/reviews/0", 30).keySet())
        .containsOnly("reviews-v1", "reviews-v2", "reviews-v3");
    assertThat(mesh.get("/ratings/0").body()).isEqualTo("ratings-b");
    // Listeners and clusters by wildcard; route configurations and load assignments by name.
    assertThat(subscribed(XdsTranslator.LISTENER)).isEmpty();
    assertThat(subscribed(XdsTranslator.CLUSTER)).isEmpty();
    assertThat(subscribed(XdsTranslator.ROUTE)).containsExactly("http.8080");
    assertThat(subscribed(XdsTranslator.ENDPOINT))
        .containsExactlyInAnyOrder(
            PRODUCTPAGE,
            RATINGS,
            XdsMesh.reviews("v1"),
            XdsMesh.reviews("v2"),
            XdsMesh.reviews("v3"));
    assertThat(mesh.dataplane.source().status().source()).endsWith(" delta");
  }

  @Test
  @Order(2)
  void anUpdateOfOneClusterSendsAndChangesOnlyIt() throws Exception {
    mesh.cache.setSnapshot(
        "gateways", mesh.bookinfo("2", 20, 30, 50, false, "productpage-2", true));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> assertThat(mesh.get("/productpage").body()).isEqualTo("productpage-2"));
    var sent = responses("2");
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).getTypeUrl()).isEqualTo(XdsTranslator.ENDPOINT);
    assertThat(sent.get(0).getResourcesList())
        .extracting(Resource::getName)
        .containsExactly(PRODUCTPAGE);
    assertThat(mesh.get("/ratings/0").body()).isEqualTo("ratings-b");
  }

  @Test
  @Order(3)
  void aNackRefusesTheBadClusterAloneAndAppliesTheGoodOnesOfTheSameResponse() throws Exception {
    // One response: productpage's cluster changed (good) and ratings' (bad).
    var bad = mesh.bookinfo("3", 20, 30, 50, true, "productpage-2", true);
    var clusters =
        bad.clusters().resources().values().stream()
            .map(
                c ->
                    c.getName().equals(PRODUCTPAGE)
                        ? XdsMesh.cluster(PRODUCTPAGE, Cluster.LbPolicy.ROUND_ROBIN)
                        : c)
            .toList();
    mesh.cache.setSnapshot(
        "gateways",
        Snapshot.create(
            clusters,
            bad.endpoints().resources().values(),
            bad.listeners().resources().values(),
            bad.routes().resources().values(),
            List.of(),
            "3"));
    await().atMost(Duration.ofSeconds(20)).until(() -> !nacks().isEmpty());
    var nack = nacks().get(0);
    assertThat(nack.getTypeUrl()).isEqualTo(XdsTranslator.CLUSTER);
    assertThat(nack.getResponseNonce()).isNotEmpty();
    assertThat(nack.getErrorDetail().getMessage()).isEqualTo(XdsMesh.BAD_RATINGS);
    assertThat(responses("3"))
        .singleElement()
        .satisfies(
            r ->
                assertThat(r.getResourcesList())
                    .extracting(Resource::getName)
                    .containsExactlyInAnyOrder(PRODUCTPAGE, RATINGS));
    // The good cluster of the NACKed response is applied.
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(mesh.dataplane.config().current().items(Kind.UPSTREAMS).values())
                    .map(ConfigItem::value)
                    .filteredOn(
                        o ->
                            o instanceof Upstream u
                                && u.desc().equals("xds cluster " + PRODUCTPAGE))
                    .isNotEmpty()
                    .allSatisfy(o -> assertThat(((Upstream) o).type()).isEqualTo("roundrobin")));
    assertThat(mesh.dataplane.source().status().invalid())
        .containsOnlyKeys("Cluster \"" + RATINGS + "\"");
    assertThat(mesh.metrics())
        .contains("archway_xds_responses_total{protocol=\"delta\",result=\"nack\"} ")
        .doesNotContain("archway_xds_responses_total{protocol=\"delta\",result=\"nack\"} 0\n")
        .doesNotContain("protocol=\"sotw\"");
    for (int i = 0; i < 5; i++) {
      assertThat(mesh.get("/ratings/0").body()).isEqualTo("ratings-b");
      assertThat(mesh.get("/productpage").body()).isEqualTo("productpage-2");
    }
  }

  @Test
  @Order(4)
  void aRemovedClusterAndItsRoutesStopBeingServed() throws Exception {
    mesh.cache.setSnapshot(
        "gateways", mesh.bookinfo("4", 20, 30, 50, false, "productpage-2", false));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(mesh.get("/ratings/0").statusCode()).isEqualTo(404));
    assertThat(responses("4"))
        .filteredOn(r -> r.getTypeUrl().equals(XdsTranslator.CLUSTER))
        .singleElement()
        .satisfies(r -> assertThat(r.getRemovedResourcesList()).containsExactly(RATINGS));
    // Its load assignment is no longer asked for.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                mesh.deltaRequests.stream()
                    .anyMatch(r -> r.getResourceNamesUnsubscribeList().contains(RATINGS)));
    assertThat(mesh.dataplane.source().status().invalid()).isEmpty();
    assertThat(mesh.get("/productpage").body()).isEqualTo("productpage-2");
  }

  @Test
  @Order(5)
  void keepsTheLastConfigWhileTheServerIsAwayThenResyncsWithItsVersions() throws Exception {
    mesh.stopServer();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !mesh.dataplane.source().status().connected());
    assertThat(mesh.get("/productpage").body()).isEqualTo("productpage-2");
    int before = mesh.deltaRequests.size();
    mesh.serve(mesh.bookinfo("5", 0, 100, 0, false, "productpage-2", false));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertThat(mesh.spread("/reviews/0", 10)).containsOnlyKeys("reviews-v2"));
    // The new stream said which versions it holds, so the server could skip them.
    var resumed = mesh.deltaRequests.subList(before, mesh.deltaRequests.size());
    assertThat(resumed)
        .filteredOn(r -> r.getTypeUrl().equals(XdsTranslator.CLUSTER))
        .first()
        .satisfies(
            r ->
                assertThat(r.getInitialResourceVersionsMap())
                    .containsOnlyKeys(
                        PRODUCTPAGE,
                        XdsMesh.reviews("v1"),
                        XdsMesh.reviews("v2"),
                        XdsMesh.reviews("v3")));
    assertThat(resumed)
        .filteredOn(r -> r.getTypeUrl().equals(XdsTranslator.ENDPOINT))
        .first()
        .satisfies(
            r -> {
              assertThat(r.getResourceNamesSubscribeList())
                  .contains(PRODUCTPAGE)
                  .doesNotContain(RATINGS);
              assertThat(r.getInitialResourceVersionsMap())
                  .containsKey(PRODUCTPAGE)
                  .doesNotContainKey(RATINGS);
            });
    assertThat(mesh.get("/productpage").body()).isEqualTo("productpage-2");
  }

  /** The names the first delta request of {@code type} subscribed to. */
  private static List<String> subscribed(String type) {
    return mesh.deltaRequests.stream()
        .filter(r -> r.getTypeUrl().equals(type))
        .findFirst()
        .orElseThrow()
        .getResourceNamesSubscribeList();
  }

  private static List<DeltaDiscoveryResponse> responses(String version) {
    return mesh.deltaResponses.stream()
        .filter(r -> r.getSystemVersionInfo().equals(version))
        .toList();
  }

  private static List<DeltaDiscoveryRequest> nacks() {
    return mesh.deltaRequests.stream().filter(DeltaDiscoveryRequest::hasErrorDetail).toList();
  }
}
