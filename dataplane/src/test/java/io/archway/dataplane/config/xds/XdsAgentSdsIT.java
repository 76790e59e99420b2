package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.testing.Pki;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.pkitesting.X509Bundle;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Istio's auto mTLS with the workload certificate from Istio's agent ({@code --xds-sds}): istiod's
 * part (java-control-plane, ADS on TCP) sends Istio-shaped clusters whose secrets {@code default}
 * and {@code ROOTCA} come from cluster {@code sds-grpc}; the agent's part (a second
 * java-control-plane server, SDS on a Unix socket) is not there when the gateway starts, so the
 * cluster warms (503), then serves over mutual TLS once the agent comes, and takes a rotated {@code
 * default} for new connections. The steps run in order on one gateway.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdsAgentSdsIT {

  private static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
  private static final String REVIEWS_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-reviews";
  private static final String GATEWAY_ID =
      "spiffe://cluster.local/ns/istio-system/sa/archway-ingressgateway";

  private static final EventLoopGroup sidecarLoop =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private static final EpollEventLoopGroup agentLoop = new EpollEventLoopGroup(1);
  private static final Map<String, String> seen = new ConcurrentHashMap<>();
  private static X509Bundle meshCa;
  private static Channel sidecar;
  private static Path dir;
  private static SimpleCache<String> agentCache;
  private static Server istiod;
  private static Server agent;
  private static Dataplane dataplane;

  @BeforeAll
  static void start() throws Exception {
    meshCa = Pki.authority("cluster.local");
    sidecar = XdsMtlsIT.startSidecar(sidecarLoop, meshCa, Pki.workload(meshCa, REVIEWS_ID), seen);
    var cache = new SimpleCache<String>(node -> "gateways");
    cache.setSnapshot("gateways", istiod());
    istiod =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(new V3DiscoveryServer(cache).getAggregatedDiscoveryServiceImpl())
            .build()
            .start();
    agentCache = new SimpleCache<>(node -> "agent");
    dir = Files.createTempDirectory("archway-sds");
    dataplane = gateway(istiod.getPort(), "unix://" + dir.resolve("socket"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (dataplane != null) {
      dataplane.close();
    }
    for (var s : new Server[] {istiod, agent}) {
      if (s != null) {
        s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    agentLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    if (sidecar != null) {
      sidecar.close().sync();
    }
    sidecarLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    if (dir != null) {
      Files.deleteIfExists(dir.resolve("socket"));
      Files.deleteIfExists(dir);
    }
  }

  @Test
  @Order(1)
  void withoutTheAgentTheClusterWarms() throws Exception {
    var r = XdsMtlsIT.get(dataplane, "/reviews/0");
    assertThat(r.statusCode()).isEqualTo(503);
  }

  @Test
  @Order(2)
  void onceTheAgentComesTheSidecarSeesTheGatewaysIdentity() throws Exception {
    agentCache.setSnapshot("agent", agentSecrets("1", Pki.workload(meshCa, GATEWAY_ID)));
    agent =
        NettyServerBuilder.forAddress(new DomainSocketAddress(dir.resolve("socket").toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(agentLoop)
            .workerEventLoopGroup(agentLoop)
            .addService(new V3DiscoveryServer(agentCache).getSecretDiscoveryServiceImpl())
            .build()
            .start();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(XdsMtlsIT.get(dataplane, "/reviews/0").body())
                    .startsWith(GATEWAY_ID + " "));
    assertThat(seen).containsEntry("sni", "outbound_.9080_._.reviews.default.svc.cluster.local");
  }

  @Test
  @Order(3)
  void aRotatedWorkloadCertificateIsUsedForNewConnections() throws Exception {
    var rotated = Pki.workload(meshCa, GATEWAY_ID);
    agentCache.setSnapshot("agent", agentSecrets("2", rotated));
    var serial = rotated.getCertificate().getSerialNumber().toString(16);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(XdsMtlsIT.get(dataplane, "/reviews/0").body())
                    .isEqualTo(GATEWAY_ID + " " + serial));
  }

  /** istiod's part: an Istio-shaped cluster whose TLS takes its secrets from the agent. */
  private static Snapshot istiod() {
    var cluster =
        XdsMtlsIT.cluster(REVIEWS)
            .addAllTransportSocketMatches(
                istioMatches(
                    istioMutual(
                        agent(),
                        "outbound_.9080_._.reviews.default.svc.cluster.local",
                        REVIEWS_ID)))
            .build();
    var sidecarPort = ((InetSocketAddress) sidecar.localAddress()).getPort();
    var vhost =
        VirtualHost.newBuilder()
            .setName("bookinfo")
            .addDomains("*")
            .addRoutes(XdsMtlsIT.route("/reviews", REVIEWS));
    var routes =
        RouteConfiguration.newBuilder().setName("http.8080").addVirtualHosts(vhost).build();
    return Snapshot.create(
        List.of(cluster),
        "1",
        List.of(XdsMtlsIT.endpoints(REVIEWS, sidecarPort, sidecar())),
        "1",
        List.of(listener("0.0.0.0_8080", FilterChain.newBuilder(), "http.8080")),
        "1",
        List.of(routes),
        "1",
        List.of(),
        "1");
  }

  /** The agent's part: the workload certificate and the mesh root. */
  private static Snapshot agentSecrets(String version, X509Bundle workload) {
    return Snapshot.create(
        List.of(),
        "1",
        List.of(),
        "1",
        List.of(),
        "1",
        List.of(),
        "1",
        List.of(
            certificateSecret("default", Pki.chainPem(workload), Pki.keyPem(workload)),
            authoritySecret("ROOTCA", meshCa.getCertificatePEM())),
        version);
  }
}
