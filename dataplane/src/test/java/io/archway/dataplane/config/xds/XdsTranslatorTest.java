package io.archway.dataplane.config.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.archway.model.Upstream;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route.Builder;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.Map;
import org.junit.jupiter.api.Test;

class XdsTranslatorTest {

  private static final String REVIEWS = "outbound|9080|v1|reviews.default.svc.cluster.local";

  @Test
  void matchesBecomeVarsInRouteOrder() throws Exception {
    var set =
        routes(
            vhost("*")
                .addRoutes(
                    route(RouteMatch.newBuilder().setPath("/productpage"))
                        .setRoute(RouteAction.newBuilder().setCluster("pp")))
                .addRoutes(
                    route(
                            RouteMatch.newBuilder()
                                .setPrefix("/api/v1")
                                .addHeaders(
                                    HeaderMatcher.newBuilder()
                                        .setName("End-User")
                                        .setStringMatch(StringMatcher.newBuilder().setPrefix("ja")))
                                .addHeaders(
                                    HeaderMatcher.newBuilder()
                                        .setName("x-canary")
                                        .setPresentMatch(true)
                                        .setInvertMatch(true))
                                .addQueryParameters(
                                    QueryParameterMatcher.newBuilder()
                                        .setName("debug")
                                        .setStringMatch(StringMatcher.newBuilder().setExact("1"))))
                        .setRoute(RouteAction.newBuilder().setCluster("pp")))
                .addRoutes(
                    route(
                            RouteMatch.newBuilder()
                                .setSafeRegex(RegexMatcher.newBuilder().setRegex("/items/[0-9]+")))
                        .setRoute(RouteAction.newBuilder().setCluster("pp"))));
    var routes = set.routes();
    assertThat(routes).hasSize(3);
    assertThat(routes.get(0).get("uri").asText()).isEqualTo("/*");
    assertThat(routes.get(0).has("hosts")).isFalse();
    assertThat(routes).extracting(r -> r.get("priority").asInt()).containsExactly(3, 2, 1);
    assertThat(routes.get(0).get("vars").toString())
        .isEqualTo("[[\"uri\",\"==\",\"/productpage\"]]");
    assertThat(routes.get(1).get("vars").toString())
        .isEqualTo(
            "[[\"uri\",\"~~\",\"^/api/v1\"],"
                + "[\"http_end_user\",\"~~\",\"^ja\"],"
                + "[\"http_x_canary\",\"!\",\"~~\",\"\"],"
                + "[\"arg_debug\",\"==\",\"1\"]]");
    assertThat(routes.get(2).get("vars").toString())
        .isEqualTo("[[\"uri\",\"~~\",\"^(?:/items/[0-9]+)$\"]]");
    // Each is a valid route of the model.
    for (var r : routes) {
      assertThat(ModelJson.read(Kind.ROUTES, r, r.get("id").asText(), "t"))
          .isInstanceOf(Route.class);
    }
  }

  @Test
  void domainsBecomeHostsWithoutPorts() throws Exception {
    var set =
        routes(
            vhost("bookinfo.example.com", "bookinfo.example.com:*", "*.shop.example.com:8080")
                .addRoutes(
                    route(RouteMatch.newBuilder().setPrefix("/"))
                        .setRoute(RouteAction.newBuilder().setCluster("pp"))));
    assertThat(set.routes().get(0).get("hosts").toString())
        .isEqualTo("[\"bookinfo.example.com\",\"*.shop.example.com\"]");
    assertThat(set.routes().get(0).has("vars")).isFalse();
  }

  @Test
  void weightedClustersRetriesTimeoutsAndHeaders() throws Exception {
    var weighted = WeightedCluster.newBuilder();
    weighted.addClusters(
        WeightedCluster.ClusterWeight.newBuilder()
            .setName(REVIEWS)
            .setWeight(UInt32Value.of(80))
            .addRequestHeadersToAdd(header("x-version", "v1", false)));
    weighted.addClusters(
        WeightedCluster.ClusterWeight.newBuilder()
            .setName("reviews-v2")
            .setWeight(UInt32Value.of(20)));
    var set =
        routes(
            vhost("*")
                .addRoutes(
                    route(RouteMatch.newBuilder().setPrefix("/reviews"))
                        .addRequestHeadersToAdd(header("x-added", "yes", true))
                        .addRequestHeadersToRemove("cookie")
                        .addResponseHeadersToAdd(header("x-served-by", "archway", false))
                        .setRoute(
                            RouteAction.newBuilder()
                                .setWeightedClusters(weighted)
                                .setTimeout(Duration.newBuilder().setSeconds(3))
                                .setPrefixRewrite("/v2/reviews")
                                .setRetryPolicy(
                                    RetryPolicy.newBuilder()
                                        .setRetryOn("gateway-error,connect-failure,refused-stream")
                                        .setNumRetries(UInt32Value.of(2))
                                        .setPerTryTimeout(
                                            Duration.newBuilder().setNanos(500_000_000))))));
    var r = set.routes().get(0);
    var plugins = r.get("plugins");
    var split = plugins.get("traffic-split").get("rules").get(0).get("weighted_upstreams");
    assertThat(split).hasSize(2);
    assertThat(split.get(0).get("weight").asInt()).isEqualTo(80);
    assertThat(split.get(0).get("plugins").toString())
        .isEqualTo("{\"proxy-rewrite\":{\"headers\":{\"set\":{\"x-version\":\"v1\"}}}}");
    // The retry policy makes a variant of each cluster: retries are an upstream's in the model.
    var variantId = split.get(0).get("upstream_id").asText();
    assertThat(set.variants()).containsKey(variantId);
    assertThat(set.variants().get(variantId).cluster()).isEqualTo(REVIEWS);
    assertThat(set.variants().get(variantId).retry().toString())
        .isEqualTo("{\"retries\":2,\"retry_timeout\":0.5,\"retry_on_status\":[502,503,504]}");
    assertThat(r.get("timeout").toString()).isEqualTo("{\"read\":3.0}");
    assertThat(plugins.get("proxy-rewrite").toString())
        .isEqualTo(
            "{\"headers\":{\"add\":{\"x-added\":\"yes\"},\"remove\":[\"cookie\"]},"
                + "\"regex_uri\":[\"^/reviews(.*)\",\"/v2/reviews$1\"]}");
    assertThat(plugins.get("response-rewrite").toString())
        .isEqualTo("{\"headers\":{\"set\":{\"x-served-by\":\"archway\"}}}");

    var cluster = XdsTranslator.cluster(eds(REVIEWS, Cluster.LbPolicy.ROUND_ROBIN).build());
    var objects =
        XdsTranslator.assemble(
            Map.of(
                "l",
                new XdsTranslator.ListenerRoutes(
                    java.util.List.of("rc"), java.util.List.of(), true)),
            Map.of("rc", set),
            Map.of(REVIEWS, cluster),
            Map.of(REVIEWS, XdsTranslator.nodes(cla(REVIEWS), "t")));
    var variant = (Upstream) objects.get(new Key(Kind.UPSTREAMS, variantId));
    assertThat(variant.retries()).isEqualTo(2);
    assertThat(variant.nodes().nodes()).hasSize(2);
    // reviews-v2 was not sent: an upstream without nodes answers its share with 503.
    var missing =
        (Upstream) objects.get(new Key(Kind.UPSTREAMS, split.get(1).get("upstream_id").asText()));
    assertThat(missing.nodes().nodes()).isEmpty();
    var route = (Route) objects.get(new Key(Kind.ROUTES, r.get("id").asText()));
    assertThat(route.enableWebsocket()).isTrue();
  }

  @Test
  void redirectsDirectResponsesAndFaults() throws Exception {
    var fault =
        HTTPFault.newBuilder()
            .setDelay(
                FaultDelay.newBuilder()
                    .setFixedDelay(Duration.newBuilder().setSeconds(7))
                    .setPercentage(
                        FractionalPercent.newBuilder()
                            .setNumerator(1000)
                            .setDenominator(FractionalPercent.DenominatorType.TEN_THOUSAND)))
            .build();
    var set =
        routes(
            vhost("*")
                .addRoutes(
                    route(RouteMatch.newBuilder().setPath("/http"))
                        .setRedirect(RedirectAction.newBuilder().setHttpsRedirect(true)))
                .addRoutes(
                    route(RouteMatch.newBuilder().setPath("/moved"))
                        .setRedirect(
                            RedirectAction.newBuilder()
                                .setHostRedirect("new.example.com")
                                .setPathRedirect("/home")
                                .setResponseCode(
                                    RedirectAction.RedirectResponseCode.PERMANENT_REDIRECT)))
                .addRoutes(
                    route(RouteMatch.newBuilder().setPath("/slow"))
                        .setRoute(RouteAction.newBuilder().setCluster("ratings"))
                        .putTypedPerFilterConfig("envoy.filters.http.fault", Any.pack(fault))));
    var routes = set.routes();
    assertThat(routes.get(0).get("plugins").get("redirect").toString())
        .isEqualTo("{\"ret_code\":301,\"http_to_https\":true}");
    assertThat(routes.get(1).get("plugins").get("redirect").toString())
        .isEqualTo(
            "{\"ret_code\":308,\"uri\":\"$scheme://new.example.com/home\",\"append_query_string\":true}");
    assertThat(routes.get(2).get("plugins").get("fault-injection").toString())
        .isEqualTo("{\"delay\":{\"duration\":7.0,\"percentage\":10}}");
  }

  @Test
  void clustersBecomeUpstreams() throws Exception {
    assertThat(type(Cluster.LbPolicy.ROUND_ROBIN)).isEqualTo("roundrobin");
    assertThat(type(Cluster.LbPolicy.LEAST_REQUEST)).isEqualTo("least_conn");
    assertThat(type(Cluster.LbPolicy.RING_HASH)).isEqualTo("chash");
    assertThat(type(Cluster.LbPolicy.MAGLEV)).isEqualTo("chash");
    var c =
        XdsTranslator.cluster(
            eds(REVIEWS, Cluster.LbPolicy.ROUND_ROBIN)
                .setOutlierDetection(
                    OutlierDetection.newBuilder()
                        .setConsecutive5Xx(UInt32Value.of(3))
                        .setBaseEjectionTime(Duration.newBuilder().setSeconds(15)))
                .build());
    assertThat(c.upstream().get("id").asText())
        .matches("outbound_9080_v1_reviews\\.default\\.svc\\.cluster\\.local-[0-9a-f]{8}");
    assertThat(c.edsName()).isEqualTo(REVIEWS);
    var checks = c.upstream().get("checks");
    assertThat(checks.get("active").toString())
        .isEqualTo(
            "{\"type\":\"tcp\",\"healthy\":{\"interval\":15,\"successes\":1},"
                + "\"unhealthy\":{\"interval\":15,\"tcp_failures\":1}}");
    assertThat(checks.get("passive").get("unhealthy").get("http_failures").asInt()).isEqualTo(3);
  }

  @Test
  void endpointsKeepPrioritiesAndLocalitiesAndLeaveOutUnhealthyOnes() throws Exception {
    var cla =
        ClusterLoadAssignment.newBuilder()
            .setClusterName("c")
            .addEndpoints(
                LocalityLbEndpoints.newBuilder()
                    .setLocality(Locality.newBuilder().setRegion("eu").setZone("eu-1a"))
                    .addLbEndpoints(lb("10.0.0.1", 9080).setLoadBalancingWeight(UInt32Value.of(3)))
                    .addLbEndpoints(lb("10.0.0.2", 9080).setHealthStatus(HealthStatus.UNHEALTHY)))
            .addEndpoints(
                LocalityLbEndpoints.newBuilder()
                    .setPriority(1)
                    .addLbEndpoints(lb("10.0.1.1", 9080)))
            .build();
    var nodes = XdsTranslator.nodes(cla, "t");
    assertThat(nodes.toString())
        .isEqualTo(
            "[{\"host\":\"10.0.0.1\",\"port\":9080,\"weight\":3,"
                + "\"metadata\":{\"region\":\"eu\",\"zone\":\"eu-1a\",\"sub_zone\":\"\"}},"
                + "{\"host\":\"10.0.1.1\",\"port\":9080,\"weight\":1,\"priority\":-1}]");
  }

  @Test
  void whatIsNotServedIsRefusedByNameAndField() {
    assertThatThrownBy(() -> XdsTranslator.cluster(eds("c", Cluster.LbPolicy.RANDOM).build()))
        .hasMessage(
            "cluster \"c\": lb_policy: RANDOM not supported (expected: ROUND_ROBIN,"
                + " LEAST_REQUEST, RING_HASH or MAGLEV)");
    assertThatThrownBy(
            () ->
                XdsTranslator.cluster(
                    eds("c", Cluster.LbPolicy.ROUND_ROBIN)
                        .setTransportSocket(TransportSocket.newBuilder().setName("tls"))
                        .build()))
        .hasMessage(
            "cluster \"c\": transport_socket: \"tls\" not supported (expected:"
                + " envoy.transport_sockets.tls or envoy.transport_sockets.raw_buffer)");
    assertThatThrownBy(
            () ->
                routes(
                    vhost("*")
                        .addRoutes(
                            route(
                                    RouteMatch.newBuilder()
                                        .setSafeRegex(RegexMatcher.newBuilder().setRegex("(a)\\1")))
                                .setRoute(RouteAction.newBuilder().setCluster("c")))))
        .hasMessageStartingWith(
            "route configuration \"rc\": virtual host \"vh\": routes[0]: match: safe_regex: regex:"
                + " \"(a)\\1\" (expected: a valid regular expression in RE2 syntax");
    assertThatThrownBy(
            () ->
                routes(
                    vhost("*")
                        .addRoutes(
                            route(RouteMatch.newBuilder().setPrefix("/"))
                                .setRoute(
                                    RouteAction.newBuilder()
                                        .setCluster("c")
                                        .setAutoHostRewrite(BoolValue.of(true))))))
        .hasMessage(
            "route configuration \"rc\": virtual host \"vh\": routes[0]: route: auto_host_rewrite:"
                + " not supported (expected: unset; Archway serves cluster, weighted_clusters,"
                + " prefix_rewrite, regex_rewrite, host_rewrite_literal, timeout, idle_timeout,"
                + " retry_policy, hash_policy, max_stream_duration, max_grpc_timeout,"
                + " cluster_not_found_response_code)");
    var hcm =
        HttpConnectionManager.newBuilder()
            .setRds(Rds.newBuilder().setRouteConfigName("r"))
            .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.jwt_authn"))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    assertThatThrownBy(() -> XdsTranslator.listener(listener(hcm)))
        .hasMessageStartingWith(
            "listener \"l\": filter_chains[0]: filters[0]"
                + " (envoy.filters.network.http_connection_manager): http_filters[0]"
                + " (envoy.filters.http.jwt_authn): HTTP filter not supported");
  }

  @Test
  void listenersNameTheirRouteConfigurations() throws Exception {
    var hcm =
        HttpConnectionManager.newBuilder()
            .setRds(Rds.newBuilder().setRouteConfigName("http.8080"))
            .addUpgradeConfigs(
                HttpConnectionManager.UpgradeConfig.newBuilder().setUpgradeType("websocket"))
            .addHttpFilters(HttpFilter.newBuilder().setName("istio.metadata_exchange"))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    var l = XdsTranslator.listener(listener(hcm));
    assertThat(l.rdsNames()).containsExactly("http.8080");
    assertThat(l.websocket()).isTrue();
  }

  @Test
  void idsAreModelIds() {
    assertThat(XdsTranslator.id("reviews")).isEqualTo("reviews");
    var long_ = "outbound|9080|v1|" + "x".repeat(100) + ".svc.cluster.local";
    assertThat(XdsTranslator.id(long_)).hasSizeLessThanOrEqualTo(64).matches("[a-zA-Z0-9._-]+");
    assertThat(XdsTranslator.id("a|b")).isNotEqualTo(XdsTranslator.id("a_b"));
  }

  // ------------------------------------------------------------------------------- helpers

  private static XdsTranslator.RouteSet routes(VirtualHost.Builder vh) throws XdsException {
    return XdsTranslator.routes(
        RouteConfiguration.newBuilder().setName("rc").addVirtualHosts(vh).build());
  }

  private static VirtualHost.Builder vhost(String... domains) {
    var b = VirtualHost.newBuilder().setName("vh");
    for (var d : domains) {
      b.addDomains(d);
    }
    return b;
  }

  private static Builder route(RouteMatch.Builder match) {
    return io.envoyproxy.envoy.config.route.v3.Route.newBuilder().setMatch(match);
  }

  private static HeaderValueOption header(String name, String value, boolean append) {
    return HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey(name).setValue(value))
        .setAppendAction(
            append
                ? HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
                : HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
        .build();
  }

  private static Cluster.Builder eds(String name, Cluster.LbPolicy lb) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setServiceName(name))
        .setLbPolicy(lb);
  }

  private static String type(Cluster.LbPolicy lb) throws XdsException {
    JsonNode up = XdsTranslator.cluster(eds("c", lb).build()).upstream();
    return up.get("type").asText();
  }

  private static ClusterLoadAssignment cla(String name) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(name)
        .addEndpoints(
            LocalityLbEndpoints.newBuilder()
                .addLbEndpoints(lb("10.0.0.1", 9080))
                .addLbEndpoints(lb("10.0.0.2", 9080)))
        .build();
  }

  private static LbEndpoint.Builder lb(String ip, int port) {
    return XdsFixtures.endpoint(ip, port);
  }

  private static Listener listener(HttpConnectionManager hcm) {
    return Listener.newBuilder()
        .setName("l")
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm))))
        .build();
  }
}
