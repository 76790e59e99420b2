package io.archway.dataplane.config.xds;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
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
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Bookinfo for the xDS ITs: its services as real HTTP nodes on loopback, java-control-plane (the
 * management server Java control planes build on) serving snapshots of it to a gateway over ADS,
 * the requests and responses that server saw, and requests through the gateway. Registered as an
 * extension it starts them all for a test class, the gateway following the server with a protocol.
 */
final class XdsMesh implements BeforeAllCallback, AfterAllCallback, AutoCloseable {

  static final String PRODUCTPAGE = "outbound|9080||productpage.default.svc.cluster.local";
  static final String RATINGS = "outbound|9080||ratings.default.svc.cluster.local";

  /** The NACK of {@code bookinfo(…, badCluster: true)}. */
  static final String BAD_RATINGS =
      "cluster \""
          + RATINGS
          + "\": lb_policy: RANDOM not supported (expected: ROUND_ROBIN, LEAST_REQUEST,"
          + " RING_HASH or MAGLEV)";

  final Map<String, TestUpstream> nodes = new ConcurrentHashMap<>();

  /** State-of-the-world requests with an {@code error_detail}. */
  final List<DiscoveryRequest> nacks = new CopyOnWriteArrayList<>();

  /** Every delta request and response, as the server saw them. */
  final List<DeltaDiscoveryRequest> deltaRequests = new CopyOnWriteArrayList<>();

  final List<DeltaDiscoveryResponse> deltaResponses = new CopyOnWriteArrayList<>();
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  SimpleCache<String> cache;
  private Server server;
  private int port;
  Dataplane dataplane;

  private final XdsConfigSource.Protocol protocol;

  /** As a JUnit extension: nodes, a server with Bookinfo "1" and a gateway, for a test class. */
  XdsMesh(XdsConfigSource.Protocol protocol) {
    this.protocol = protocol;
  }

  /** The pieces are started by the test. */
  XdsMesh() {
    this(null);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    startNodes();
    serve(bookinfo("1", 20, 30, 50, false));
    startGateway(protocol);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    close();
  }

  /** Bookinfo's pods, as HTTP servers answering with their names. */
  void startNodes() throws Exception {
    for (var name :
        List.of(
            "productpage",
            "productpage-2",
            "reviews-v1",
            "reviews-v2",
            "reviews-v3",
            "ratings-a",
            "ratings-b")) {
      nodes.put(name, new TestUpstream(name));
    }
    // One ratings pod fails: a route without retries would show it.
    nodes.get("ratings-a").forceStatus(503);
  }

  /** Starts a management server (on the port of the last one, if any) with this snapshot. */
  int serve(Snapshot first) throws Exception {
    cache = new SimpleCache<>(node -> "gateways");
    cache.setSnapshot("gateways", first);
    var callbacks =
        new DiscoveryServerCallbacks() {
          @Override
          public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
            if (request.hasErrorDetail()) {
              nacks.add(request);
            }
          }

          @Override
          public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
            deltaRequests.add(request);
          }

          @Override
          public void onV3StreamDeltaResponse(
              long streamId, DeltaDiscoveryRequest request, DeltaDiscoveryResponse response) {
            deltaResponses.add(response);
          }
        };
    var xds = new V3DiscoveryServer(callbacks, cache);
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
            .addService(xds.getAggregatedDiscoveryServiceImpl())
            .build()
            .start();
    port = server.getPort();
    return port;
  }

  /**
   * Starts a gateway following the management server with {@code protocol}; waits for its config.
   */
  void startGateway(XdsConfigSource.Protocol protocol) throws Exception {
    var node = XdsNode.of(null, null, Map.of("POD_NAME", "gw-1", "POD_NAMESPACE", "istio-system"));
    var settings =
        new XdsConfigSource.Settings(
                "127.0.0.1:" + port, node, Duration.ofMillis(50), Duration.ofMillis(500))
            .with(protocol, Duration.ofSeconds(15));
    dataplane =
        new Dataplane(
                DataplaneOptions.standaloneOnLoopback(Path.of("unused.yaml")).withXds(settings))
            .start();
    await().atMost(Duration.ofSeconds(20)).until(() -> dataplane.config().loaded());
  }

  /** Stops the management server (its memory goes with it). */
  void stopServer() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    if (dataplane != null) {
      dataplane.close();
    }
    if (server != null) {
      stopServer();
    }
    for (var n : nodes.values()) {
      n.close();
    }
  }

  // ---------------------------------------------------------------------- the snapshots

  /** Bookinfo as Istio's gateway sees it: weights of reviews v1/v2/v3; a bad ratings cluster. */
  Snapshot bookinfo(String version, int v1, int v2, int v3, boolean badCluster) {
    return bookinfo(version, v1, v2, v3, badCluster, "productpage", true);
  }

  /**
   * The same, with productpage's load assignment on pod {@code productpage} and, unless {@code
   * ratings} is false, the ratings cluster and its routes.
   */
  Snapshot bookinfo(
      String version,
      int v1,
      int v2,
      int v3,
      boolean badCluster,
      String productpage,
      boolean ratings) {
    var clusters =
        new ArrayList<>(
            List.of(
                cluster(PRODUCTPAGE, Cluster.LbPolicy.LEAST_REQUEST),
                cluster(reviews("v1"), Cluster.LbPolicy.LEAST_REQUEST),
                cluster(reviews("v2"), Cluster.LbPolicy.LEAST_REQUEST),
                cluster(reviews("v3"), Cluster.LbPolicy.LEAST_REQUEST)));
    var endpoints =
        new ArrayList<>(
            List.of(
                endpoints(PRODUCTPAGE, productpage),
                endpoints(reviews("v1"), "reviews-v1"),
                endpoints(reviews("v2"), "reviews-v2"),
                endpoints(reviews("v3"), "reviews-v3")));
    if (ratings) {
      clusters.add(
          cluster(RATINGS, badCluster ? Cluster.LbPolicy.RANDOM : Cluster.LbPolicy.ROUND_ROBIN));
      endpoints.add(endpoints(RATINGS, "ratings-a", "ratings-b"));
    }
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
    if (ratings) {
      vhost
          .addRoutes(
              Route.newBuilder()
                  .setMatch(
                      RouteMatch.newBuilder()
                          .setPrefix("/ratings")
                          .addHeaders(
                              HeaderMatcher.newBuilder().setName("x-fault").setPresentMatch(true)))
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
                                  .setNumRetries(UInt32Value.of(3)))));
    }
    var routes =
        RouteConfiguration.newBuilder().setName("http.8080").addVirtualHosts(vhost).build();
    return Snapshot.create(
        clusters, endpoints, List.of(listener), List.of(routes), List.of(), version);
  }

  static String reviews(String version) {
    return "outbound|9080|" + version + "|reviews.default.svc.cluster.local";
  }

  private static ConfigSource ads() {
    return ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();
  }

  static Cluster cluster(String name, Cluster.LbPolicy lb) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(
            Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()).setServiceName(name))
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(5))
        .setLbPolicy(lb)
        .build();
  }

  private ClusterLoadAssignment endpoints(String cluster, String... pods) {
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

  HttpResponse<String> get(String path, String... headers) throws Exception {
    var b =
        HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + dataplane.servers().httpPort() + path));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The gateway's {@code /metrics} text. */
  String metrics() throws Exception {
    var uri = URI.create("http://127.0.0.1:" + dataplane.servers().statusPort() + "/metrics");
    return client
        .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** Which node answered how many of {@code n} GETs of {@code path}. */
  Map<String, Integer> spread(String path, int n) throws Exception {
    var counts = new java.util.TreeMap<String, Integer>();
    for (int i = 0; i < n; i++) {
      counts.merge(get(path).body(), 1, Integer::sum);
    }
    return counts;
  }
}
