package io.archway.dataplane.config.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.testing.TestUpstream;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The dataplane as an xDS client of java-control-plane (the management server Java control planes
 * build on), on loopback, with Bookinfo's services as real HTTP nodes: the routing, weights, fault
 * and retry rules of the snapshots are what traffic through the gateway follows, through an update,
 * a NACKed snapshot and a restart of the management server. The steps run in order on one
 * management server and one gateway.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdsBookinfoIT {

  private static final String PRODUCTPAGE = "outbound|9080||productpage.default.svc.cluster.local";
  private static final String RATINGS = "outbound|9080||ratings.default.svc.cluster.local";

  private static final Map<String, TestUpstream> nodes = new ConcurrentHashMap<>();
  private static final List<DiscoveryRequest> nacks = new CopyOnWriteArrayList<>();
  private static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static SimpleCache<String> cache;
  private static Server server;
  private static int xdsPort;
  private static Dataplane dataplane;

  @BeforeAll
  static void start() throws Exception {
    for (var name : List.of("productpage", "reviews-v1", "reviews-v2", "reviews-v3")) {
      nodes.put(name, new TestUpstream(name));
    }
    nodes.put("ratings-a", new TestUpstream("ratings-a"));
    nodes.put("ratings-b", new TestUpstream("ratings-b"));
    // One ratings pod fails: a route without retries would show it.
    nodes.get("ratings-a").forceStatus(503);
    cache = new SimpleCache<>(node -> "gateways");
    cache.setSnapshot("gateways", bookinfo("1", 20, 30, 50, false));
    server = startServer(0);
    xdsPort = server.getPort();
    dataplane = XdsFixtures.gateway(xdsPort);
  }

  @AfterAll
  static void stop() throws Exception {
    if (dataplane != null) {
      dataplane.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (var n : nodes.values()) {
      n.close();
    }
  }

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
    assertThat(dataplane.source().status().connected()).isTrue();
  }

  @Test
  @Order(2)
  void followsAnUpdate() throws Exception {
    cache.setSnapshot("gateways", bookinfo("2", 0, 0, 100, false));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(spread("/reviews/0", 10)).containsOnlyKeys("reviews-v3"));
  }

  @Test
  @Order(3)
  void nacksABadSnapshotAndKeepsServing() throws Exception {
    cache.setSnapshot("gateways", bookinfo("3", 100, 0, 0, true));
    await().atMost(Duration.ofSeconds(20)).until(() -> !nacks.isEmpty());
    var nack = nacks.get(0);
    assertThat(nack.getTypeUrl()).isEqualTo(XdsTranslator.CLUSTER);
    assertThat(nack.getVersionInfo()).isEqualTo("2");
    assertThat(nack.getErrorDetail().getMessage())
        .isEqualTo(
            "cluster \""
                + RATINGS
                + "\": lb_policy: RANDOM not supported (expected: ROUND_ROBIN, LEAST_REQUEST,"
                + " RING_HASH or MAGLEV)");
    assertThat(dataplane.source().status().invalid()).containsKey("Cluster");
    // Version 3's routes came with it (RDS is its own update): Envoy would take them too. The
    // clusters stay version 2's, and every request is still served.
    for (int i = 0; i < 5; i++) {
      assertThat(get("/productpage").statusCode()).isEqualTo(200);
      assertThat(get("/ratings/0").body()).isEqualTo("ratings-b");
    }
    cache.setSnapshot("gateways", bookinfo("4", 100, 0, 0, false));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(spread("/reviews/0", 10)).containsOnlyKeys("reviews-v1"));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> dataplane.source().status().invalid().isEmpty());
  }

  @Test
  @Order(4)
  void keepsTheLastConfigWhileTheServerIsAwayThenResyncs() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(20)).until(() -> !dataplane.source().status().connected());
    for (int i = 0; i < 5; i++) {
      assertThat(get("/reviews/0").body()).isEqualTo("reviews-v1");
    }
    // A new management server (empty memory) on the same address, with a newer snapshot.
    cache = new SimpleCache<>(node -> "gateways");
    cache.setSnapshot("gateways", bookinfo("5", 0, 100, 0, false));
    server = startServer(xdsPort);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(spread("/reviews/0", 10)).containsOnlyKeys("reviews-v2"));
    assertThat(dataplane.source().status().connected()).isTrue();
    assertThat(get("/productpage").body()).isEqualTo("productpage");
  }

  // ---------------------------------------------------------------------------- the server

  private static Server startServer(int port) throws Exception {
    var callbacks =
        new DiscoveryServerCallbacks() {
          @Override
          public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
            if (request.hasErrorDetail()) {
              nacks.add(request);
            }
          }

          @Override
          public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {}
        };
    var xds = new V3DiscoveryServer(callbacks, cache);
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(xds.getAggregatedDiscoveryServiceImpl())
        .build()
        .start();
  }

  // ---------------------------------------------------------------------- the snapshots

  /** Bookinfo as Istio's gateway sees it: weights of reviews v1/v2/v3; a bad ratings cluster. */
  static Snapshot bookinfo(String version, int v1, int v2, int v3, boolean badCluster) {
    var clusters =
        List.of(
            cluster(PRODUCTPAGE, Cluster.LbPolicy.LEAST_REQUEST),
            cluster(reviews("v1"), Cluster.LbPolicy.LEAST_REQUEST),
            cluster(reviews("v2"), Cluster.LbPolicy.LEAST_REQUEST),
            cluster(reviews("v3"), Cluster.LbPolicy.LEAST_REQUEST),
            cluster(RATINGS, badCluster ? Cluster.LbPolicy.RANDOM : Cluster.LbPolicy.ROUND_ROBIN));
    var endpoints =
        List.of(
            endpoints(PRODUCTPAGE, "productpage"),
            endpoints(reviews("v1"), "reviews-v1"),
            endpoints(reviews("v2"), "reviews-v2"),
            endpoints(reviews("v3"), "reviews-v3"),
            endpoints(RATINGS, "ratings-a", "ratings-b"));
    var hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix("outbound_0.0.0.0_8080")
            .setRds(Rds.newBuilder().setRouteConfigName("http.8080").setConfigSource(ads()))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.fault")
                    .setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    var listener =
        Listener.newBuilder()
            .setName("0.0.0.0_8080")
            .setAddress(address("0.0.0.0", 8080))
            .addFilterChains(
                FilterChain.newBuilder()
                    .addFilters(
                        Filter.newBuilder()
                            .setName("envoy.filters.network.http_connection_manager")
                            .setTypedConfig(Any.pack(hcm))))
            .build();
    var weighted = WeightedCluster.newBuilder();
    int[] weights = {v1, v2, v3};
    for (int i = 0; i < 3; i++) {
      weighted.addClusters(
          WeightedCluster.ClusterWeight.newBuilder()
              .setName(reviews("v" + (i + 1)))
              .setWeight(UInt32Value.of(weights[i])));
    }
    var vhost =
        VirtualHost.newBuilder()
            .setName("bookinfo")
            .addDomains("*")
            .addRoutes(
                Route.newBuilder()
                    .setMatch(RouteMatch.newBuilder().setPath("/productpage"))
                    .setRoute(RouteAction.newBuilder().setCluster(PRODUCTPAGE)))
            .addRoutes(
                Route.newBuilder()
                    .setMatch(
                        RouteMatch.newBuilder()
                            .setPrefix("/reviews")
                            .addHeaders(
                                HeaderMatcher.newBuilder()
                                    .setName("end-user")
                                    .setStringMatch(
                                        io.envoyproxy.envoy.type.matcher.v3.StringMatcher
                                            .newBuilder()
                                            .setExact("jason"))))
                    .setRoute(RouteAction.newBuilder().setCluster(reviews("v2"))))
            .addRoutes(
                Route.newBuilder()
                    .setMatch(RouteMatch.newBuilder().setPrefix("/reviews"))
                    .setRoute(RouteAction.newBuilder().setWeightedClusters(weighted)))
            .addRoutes(
                Route.newBuilder()
                    .setMatch(
                        RouteMatch.newBuilder()
                            .setPrefix("/ratings")
                            .addHeaders(
                                HeaderMatcher.newBuilder()
                                    .setName("x-fault")
                                    .setPresentMatch(true)))
                    .setRoute(RouteAction.newBuilder().setCluster(RATINGS))
                    .putTypedPerFilterConfig(
                        "envoy.filters.http.fault",
                        Any.pack(
                            HTTPFault.newBuilder()
                                .setAbort(
                                    FaultAbort.newBuilder()
                                        .setHttpStatus(555)
                                        .setPercentage(
                                            FractionalPercent.newBuilder().setNumerator(100)))
                                .build())))
            .addRoutes(
                Route.newBuilder()
                    .setMatch(RouteMatch.newBuilder().setPrefix("/ratings"))
                    .setRoute(
                        RouteAction.newBuilder()
                            .setCluster(RATINGS)
                            .setRetryPolicy(
                                RetryPolicy.newBuilder()
                                    .setRetryOn("5xx,connect-failure")
                                    .setNumRetries(UInt32Value.of(3)))))
            .addRoutes(
                Route.newBuilder()
                    .setMatch(RouteMatch.newBuilder().setPath("/old"))
                    .setRedirect(
                        RedirectAction.newBuilder()
                            .setPathRedirect("/productpage")
                            .setStripQuery(true)))
            .addRoutes(
                Route.newBuilder()
                    .setMatch(RouteMatch.newBuilder().setPath("/ready"))
                    .setDirectResponse(
                        DirectResponseAction.newBuilder()
                            .setStatus(200)
                            .setBody(DataSource.newBuilder().setInlineString("ready"))));
    var routes =
        RouteConfiguration.newBuilder().setName("http.8080").addVirtualHosts(vhost).build();
    return Snapshot.create(
        clusters, endpoints, List.of(listener), List.of(routes), List.of(), version);
  }

  private static String reviews(String version) {
    return "outbound|9080|" + version + "|reviews.default.svc.cluster.local";
  }

  private static ConfigSource ads() {
    return ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();
  }

  private static Cluster cluster(String name, Cluster.LbPolicy lb) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(
            Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()).setServiceName(name))
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(5))
        .setLbPolicy(lb)
        .build();
  }

  private static ClusterLoadAssignment endpoints(String cluster, String... pods) {
    var locality = LocalityLbEndpoints.newBuilder();
    for (var pod : pods) {
      locality.addLbEndpoints(
          LbEndpoint.newBuilder()
              .setEndpoint(
                  Endpoint.newBuilder().setAddress(address("127.0.0.1", nodes.get(pod).port()))));
    }
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .addEndpoints(locality)
        .build();
  }

  private static Address address(String host, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
        .build();
  }

  // ------------------------------------------------------------------------------ traffic

  private static HttpResponse<String> get(String path, String... headers) throws Exception {
    var b =
        HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + dataplane.servers().httpPort() + path));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Which node answered how many of {@code n} GETs of {@code path}. */
  private static Map<String, Integer> spread(String path, int n) throws Exception {
    var counts = new java.util.TreeMap<String, Integer>();
    for (int i = 0; i < n; i++) {
      counts.merge(get(path).body(), 1, Integer::sum);
    }
    return counts;
  }
}
