package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.testing.Pki;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.TlsClient;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.pkitesting.X509Bundle;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
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
 * Istio's mutual TLS from the gateway to a sidecar, driven by java-control-plane: the workload
 * certificate and the mesh root come by SDS over the ADS stream, the sidecar is a real HTTPS server
 * on loopback that requires a client certificate from the mesh CA and shows its SPIFFE identity.
 * Then a wrong expected identity, a rotated workload certificate, and a gateway certificate served
 * on the HTTPS port for its SNI. The steps run in order on one management server and one gateway.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdsMtlsIT {

  private static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
  private static final String RATINGS = "outbound|9080||ratings.default.svc.cluster.local";
  private static final String PRODUCTPAGE = "outbound|9080||productpage.default.svc.cluster.local";
  private static final String REVIEWS_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-reviews";
  private static final String GATEWAY_ID =
      "spiffe://cluster.local/ns/istio-system/sa/archway-ingressgateway";
  private static final String HOST = "bookinfo.example.com";

  private static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static X509Bundle meshCa;
  private static X509Bundle gatewayCa;
  private static X509Bundle gatewayCert;
  private static final EventLoopGroup sidecarLoop =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private static final Map<String, String> seen = new ConcurrentHashMap<>();
  private static Channel sidecar;
  private static TestUpstream productpage;
  private static SimpleCache<String> cache;
  private static Server server;
  private static Dataplane dataplane;

  @BeforeAll
  static void start() throws Exception {
    meshCa = Pki.authority("cluster.local");
    sidecar = startSidecar(sidecarLoop, meshCa, Pki.workload(meshCa, REVIEWS_ID), seen);
    productpage = new TestUpstream("productpage");
    gatewayCa = Pki.authority("Gateway CA");
    gatewayCert = Pki.server(gatewayCa, false, HOST);
    cache = new SimpleCache<>(node -> "gateways");
    cache.setSnapshot("gateways", snapshot("1", Pki.workload(meshCa, GATEWAY_ID)));
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(new V3DiscoveryServer(cache).getAggregatedDiscoveryServiceImpl())
            .build()
            .start();
    dataplane = gateway(server.getPort());
  }

  @AfterAll
  static void stop() throws Exception {
    if (dataplane != null) {
      dataplane.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (sidecar != null) {
      sidecar.close().sync();
    }
    sidecarLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    if (productpage != null) {
      productpage.close();
    }
  }

  @Test
  @Order(1)
  void trafficGoesOverMutualTlsWithTheSdsCertificate() throws Exception {
    var r = get("/reviews/0");
    assertThat(r.statusCode()).isEqualTo(200);
    // The sidecar saw the gateway's SPIFFE identity, from the certificate SDS sent.
    assertThat(r.body()).startsWith(GATEWAY_ID + " ");
    // With the cluster's SNI, and the ALPN Istio's istio.alpn filter gives HTTP/1.1.
    assertThat(seen)
        .containsEntry("sni", "outbound_.9080_._.reviews.default.svc.cluster.local")
        .containsEntry("alpn", "istio-http/1.1");
    // An endpoint without tlsMode: istio (no sidecar) is spoken to in plaintext.
    assertThat(get("/productpage").body()).isEqualTo("productpage");
  }

  @Test
  @Order(2)
  void aNodeWithoutTheExpectedIdentityFailsLikeAnyFailedNode() throws Exception {
    long before = dataplane.servers().httpMetrics().errors("upstream_connect_failed");
    // ratings expects bookinfo-ratings; the node (the same sidecar) is bookinfo-reviews.
    assertThat(get("/ratings/0").statusCode()).isEqualTo(502);
    assertThat(dataplane.servers().httpMetrics().errors("upstream_connect_failed"))
        .isGreaterThan(before);
  }

  @Test
  @Order(3)
  void aRotatedWorkloadCertificateIsUsedForNewConnections() throws Exception {
    var rotated = Pki.workload(meshCa, GATEWAY_ID);
    cache.setSnapshot("gateways", snapshot("2", rotated));
    var serial = rotated.getCertificate().getSerialNumber().toString(16);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> assertThat(get("/reviews/0").body()).isEqualTo(GATEWAY_ID + " " + serial));
  }

  @Test
  @Order(4)
  void theHttpsPortServesTheGatewayCertificateFromSdsForItsName() throws Exception {
    var tlsClient = new TlsClient(Pki.clientContext(gatewayCa, null));
    var r = tlsClient.get(dataplane.servers().httpsPort(), HOST, "/productpage");
    assertThat(r.serial()).isEqualTo(gatewayCert.getCertificate().getSerialNumber().toString(16));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("productpage");
  }

  // ---------------------------------------------------------------------------- the servers

  /**
   * A sidecar's inbound side (Netty, as Envoy, takes Istio's SNI names with their underscores,
   * which the JDK's TLS server refuses): HTTPS with the workload certificate, requiring a client
   * certificate from the mesh CA; answers with the client's URI name and serial number, and keeps
   * the server name and ALPN protocol the client sent.
   */
  static Channel startSidecar(
      EventLoopGroup loop, X509Bundle ca, X509Bundle workload, Map<String, String> seen)
      throws Exception {
    var ctx =
        SslContextBuilder.forServer(
                workload.getKeyPair().getPrivate(), workload.getCertificatePath())
            .trustManager(ca.getCertificate())
            .clientAuth(ClientAuth.REQUIRE)
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    "istio-http/1.1",
                    "istio-h2"))
            .build();
    return new ServerBootstrap()
        .group(loop)
        .channel(NioServerSocketChannel.class)
        .childHandler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                ch.pipeline()
                    .addLast(
                        new SniHandler(
                            (io.netty.util.Mapping<String, SslContext>)
                                name -> {
                                  seen.put("sni", name == null ? "" : name);
                                  return ctx;
                                }))
                    .addLast(new HttpServerCodec())
                    .addLast(new HttpObjectAggregator(65536))
                    .addLast(
                        new SimpleChannelInboundHandler<FullHttpRequest>() {
                          @Override
                          protected void channelRead0(ChannelHandlerContext c, FullHttpRequest r)
                              throws Exception {
                            var tls = c.pipeline().get(SslHandler.class);
                            var session = tls.engine().getSession();
                            seen.put("alpn", String.valueOf(tls.applicationProtocol()));
                            var peer = (X509Certificate) session.getPeerCertificates()[0];
                            var who =
                                peer.getSubjectAlternativeNames().iterator().next().get(1)
                                    + " "
                                    + peer.getSerialNumber().toString(16);
                            var res =
                                new DefaultFullHttpResponse(
                                    HttpVersion.HTTP_1_1,
                                    HttpResponseStatus.OK,
                                    Unpooled.copiedBuffer(who, StandardCharsets.UTF_8));
                            res.headers()
                                .set(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
                            c.writeAndFlush(res);
                          }
                        });
              }
            })
        .bind("127.0.0.1", 0)
        .sync()
        .channel();
  }

  // ------------------------------------------------------------------------- the snapshots

  /** The gateway's config: secrets at {@code secretsVersion}, the rest at version 1. */
  private static Snapshot snapshot(String secretsVersion, X509Bundle workload) {
    var clusters =
        List.of(
            cluster(REVIEWS)
                .addAllTransportSocketMatches(
                    istioMatches(
                        istioMutual(
                            ads(),
                            "outbound_.9080_._.reviews.default.svc.cluster.local",
                            REVIEWS_ID)))
                .build(),
            cluster(RATINGS)
                .setTransportSocket(
                    tls(
                        istioMutual(
                            ads(),
                            "outbound_.9080_._.ratings.default.svc.cluster.local",
                            "spiffe://cluster.local/ns/default/sa/bookinfo-ratings")))
                .build(),
            cluster(PRODUCTPAGE)
                .addAllTransportSocketMatches(istioMatches(istioMutual(ads(), "pp", REVIEWS_ID)))
                .build());
    var sidecarPort = ((InetSocketAddress) sidecar.localAddress()).getPort();
    var endpoints =
        List.of(
            endpoints(REVIEWS, sidecarPort, sidecar()),
            endpoints(RATINGS, sidecarPort, sidecar()),
            endpoints(PRODUCTPAGE, productpage.port(), Metadata.getDefaultInstance()));
    var vhost =
        VirtualHost.newBuilder()
            .setName("bookinfo")
            .addDomains("*")
            .addRoutes(route("/reviews", REVIEWS))
            .addRoutes(route("/ratings", RATINGS))
            .addRoutes(route("/productpage", PRODUCTPAGE));
    var routes =
        RouteConfiguration.newBuilder().setName("http.8080").addVirtualHosts(vhost).build();
    var listeners =
        List.of(
            listener("0.0.0.0_8080", FilterChain.newBuilder(), "http.8080"),
            listener(
                "0.0.0.0_443",
                FilterChain.newBuilder()
                    .setFilterChainMatch(
                        io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder()
                            .addServerNames(HOST))
                    .setTransportSocket(tls(gatewayServer("kubernetes://bookinfo-credential"))),
                "http.8080"));
    List<Secret> secrets =
        List.of(
            certificateSecret("default", Pki.chainPem(workload), Pki.keyPem(workload)),
            authoritySecret("ROOTCA", meshCa.getCertificatePEM()),
            certificateSecret(
                "kubernetes://bookinfo-credential",
                Pki.chainPem(gatewayCert),
                Pki.keyPem(gatewayCert)));
    return Snapshot.create(
        clusters,
        "1",
        endpoints,
        "1",
        listeners,
        "1",
        List.of(routes),
        "1",
        secrets,
        secretsVersion);
  }

  static Route route(String prefix, String cluster) {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(RouteAction.newBuilder().setCluster(cluster))
        .build();
  }

  static Cluster.Builder cluster(String name) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(
            Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()).setServiceName(name))
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(5));
  }

  static ClusterLoadAssignment endpoints(String cluster, int port, Metadata metadata) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .addEndpoints(
            LocalityLbEndpoints.newBuilder()
                .addLbEndpoints(endpoint("127.0.0.1", port).setMetadata(metadata)))
        .build();
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return get(dataplane, path);
  }

  static HttpResponse<String> get(Dataplane gateway, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.servers().httpPort() + path))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
