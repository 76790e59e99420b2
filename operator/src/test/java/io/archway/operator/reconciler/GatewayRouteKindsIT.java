package io.archway.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.crds.apisix.v1alpha1.L4RoutePolicy;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.testing.KubeMock;
import io.archway.operator.translate.GatewayApi;
import io.etcd.jetcd.Client;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * GRPCRoutes, TLSRoutes, TCPRoutes and UDPRoutes against fabric8's mock API server in CRUD mode (it
 * stands in for the Kubernetes API server: none can run here) with the Gateway API CRDs created in
 * it (GRPCRoute {@code v1}, the L4 kinds {@code v1alpha2}), and a real etcd: the routes and stream
 * routes written, {@code status.parents}, L4RoutePolicies, and the Gateways' {@code
 * attachedRoutes}. Tests are named after the upstream conformance tests they follow.
 */
class GatewayRouteKindsIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger NS = new AtomicInteger();
  private static final String CONTROLLER = "archway.io/gateway-controller";

  static KubeMock kube;
  static KubernetesClient client;
  static ArchwayOperator operator;
  static EtcdConfigSink sink;
  static Client etcdClient;

  @BeforeAll
  static void start() throws Exception {
    kube = new KubeMock();
    client = kube.client();
    var crds = new ArrayList<>(GatewayApiIT.gatewayApiCrds(GatewayApi.BUNDLE_VERSION));
    crds.addAll(
        KubeMock.gatewayApiCrds(GatewayApi.BUNDLE_VERSION, KubeMock.GATEWAY_API_ROUTE_KINDS));
    for (var crd : crds) {
      client.resource(crd).create();
    }
    etcdClient = Client.builder().endpoints(etcd.endpoint()).build();
    sink = new EtcdConfigSink(etcdClient, "/rk", Duration.ofSeconds(3));
    // What an earlier operator left for routes deleted while none ran: orphans at start-up.
    for (var kind : List.of("TLSRoute", "TCPRoute", "UDPRoute")) {
      var id = "ghost_" + kind.toLowerCase();
      sink.putIfChanged(
          Kind.STREAM_ROUTES,
          ModelJson.read(
              Kind.STREAM_ROUTES,
              ModelJson.mapper()
                  .readTree(
                      "{\"id\":\""
                          + id
                          + "\",\"server_port\":9999,"
                          + "\"upstream\":{\"nodes\":{\"10.0.0.1:80\":1}}}"),
              id,
              id),
          new Owner(kind, "gone", "ghost", "u-" + kind));
    }
    operator =
        new ArchwayOperator(
            client,
            sink,
            new ArchwayOperator.Settings(
                java.util.Set.of(),
                "archway",
                null,
                null,
                null,
                "it",
                Duration.ofSeconds(5),
                io.archway.operator.translate.Refs.ControlPlaneDiscovery.OFF));
    assertThat(operator.gatewayApi().has("TLSRoute", "v1alpha2")).isTrue();
    assertThat(operator.gatewayApi().has("GRPCRoute", "v1")).isTrue();
    operator.start();
    client
        .resource(
            Serialization.unmarshal(
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GatewayClass
                metadata: {name: archway-it}
                spec: {controllerName: archway.io/gateway-controller}
                """,
                GatewayClass.class))
        .create();
  }

  @AfterAll
  static void stop() {
    operator.close();
    sink.close();
    kube.close();
  }

  private static String namespace() {
    var ns = "k" + NS.incrementAndGet();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    return ns;
  }

  private static <T extends HasMetadata> T apply(String ns, Class<T> type, String yaml) {
    var r = Serialization.unmarshal(yaml, type);
    r.getMetadata().setNamespace(ns);
    return client.resource(r).inNamespace(ns).createOr(existing -> existing.update());
  }

  private static void service(String ns, String name, String port) {
    apply(
        ns,
        Service.class,
        "apiVersion: v1\nkind: Service\nmetadata: {name: "
            + name
            + "}\nspec: {clusterIP: 10.96.1.1, ports: ["
            + port
            + "]}\n");
  }

  private static final String GATEWAY =
      """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: edge}
      spec:
        gatewayClassName: archway-it
        listeners:
        - {name: http, port: 8080, protocol: HTTP}
        - {name: tls, port: 8443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
        - {name: tcp, port: 5432, protocol: TCP}
        - {name: udp, port: 5353, protocol: UDP}
      """;

  private static final String TLS_ROUTE =
      """
      apiVersion: gateway.networking.k8s.io/v1alpha2
      kind: TLSRoute
      metadata: {name: secure}
      spec:
        parentRefs: [{name: edge, sectionName: tls}]
        hostnames: [abc.example.com]
        rules:
        - backendRefs: [{name: tls-backend, port: 443}]
      """;

  private static final String TCP_ROUTE =
      """
      apiVersion: gateway.networking.k8s.io/v1alpha2
      kind: TCPRoute
      metadata: {name: db}
      spec:
        parentRefs: [{name: edge, sectionName: tcp}]
        rules:
        - backendRefs: [{name: db, port: 5432}]
      """;

  private static Optional<Condition> condition(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  private static List<RouteParentStatus> ours(List<RouteParentStatus> parents) {
    return parents == null
        ? List.of()
        : parents.stream().filter(p -> CONTROLLER.equals(p.getControllerName())).toList();
  }

  /** Waits for our (single) parent entry's condition at the route's generation. */
  private static <T extends HasMetadata> T awaitParent(
      Class<T> type,
      Function<T, List<RouteParentStatus>> parents,
      String ns,
      String name,
      String conditionType,
      String status,
      String reason) {
    return await()
        .atMost(WAIT)
        .until(
            () -> client.resources(type).inNamespace(ns).withName(name).get(),
            r -> {
              if (r == null) {
                return false;
              }
              var ours = ours(parents.apply(r));
              if (ours.size() != 1) {
                return false;
              }
              var c = condition(ours.get(0).getConditions(), conditionType);
              return c.isPresent()
                  && c.get().getStatus().equals(status)
                  && c.get().getReason().equals(reason)
                  && r.getMetadata().getGeneration().equals(c.get().getObservedGeneration())
                  && c.get().getLastTransitionTime() != null;
            });
  }

  private static List<RouteParentStatus> tlsParents(TLSRoute r) {
    return r.getStatus() == null ? null : r.getStatus().getParents();
  }

  private static List<RouteParentStatus> tcpParents(TCPRoute r) {
    return r.getStatus() == null ? null : r.getStatus().getParents();
  }

  /** The values of the etcd items the route of {@code kind} wrote. */
  private static List<String> written(String kind, String ns, String name) throws Exception {
    var out = new ArrayList<String>();
    for (var i : sink.listManaged()) {
      var o = i.owner();
      if (o != null && kind.equals(o.kind()) && ns.equals(o.namespace()) && name.equals(o.name())) {
        out.add(i.value().toString());
      }
    }
    return out;
  }

  private static int attachedRoutes(String ns, String gw, String listener) {
    var g = client.resources(Gateway.class).inNamespace(ns).withName(gw).get();
    if (g == null || g.getStatus() == null || g.getStatus().getListeners() == null) {
      return -1;
    }
    return g.getStatus().getListeners().stream()
        .filter(l -> listener.equals(l.getName()))
        .findFirst()
        .map(l -> l.getAttachedRoutes())
        .orElse(-1);
  }

  @Test
  void keysOfL4RoutesDeletedWhileNoOperatorRanAreRemoved() throws Exception {
    // The clean-up runs at the operator's first write: make one.
    var ns = namespace();
    service(ns, "db", "{name: pg, port: 5432}");
    apply(ns, Gateway.class, GATEWAY);
    apply(ns, TCPRoute.class, TCP_ROUTE);
    await().atMost(WAIT).until(() -> !written("TCPRoute", ns, "db").isEmpty());
    for (var kind : List.of("TLSRoute", "TCPRoute", "UDPRoute")) {
      await()
          .atMost(WAIT)
          .until(() -> sink.get(Kind.STREAM_ROUTES, "ghost_" + kind.toLowerCase()).isEmpty());
    }
  }

  @Test
  void grpcRouteSimpleSameNamespace() throws Exception {
    var ns = namespace();
    service(
        ns, "grpc-infra-backend-v1", "{name: grpc, port: 8080, appProtocol: kubernetes.io/h2c}");
    apply(ns, Gateway.class, GATEWAY);
    apply(
        ns,
        GRPCRoute.class,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: exact-matching}
        spec:
          parentRefs: [{name: edge, sectionName: http}]
          rules:
          - matches: [{method: {service: gateway_api_conformance.echo_basic.grpc_echo.GrpcEcho, method: Echo}}]
            backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]
        """);
    var r =
        awaitParent(
            GRPCRoute.class,
            g -> g.getStatus() == null ? null : g.getStatus().getParents(),
            ns,
            "exact-matching",
            "Accepted",
            "True",
            "Accepted");
    assertThat(condition(ours(r.getStatus().getParents()).get(0).getConditions(), "ResolvedRefs"))
        .get()
        .extracting(Condition::getStatus)
        .isEqualTo("True");
    await().atMost(WAIT).until(() -> !written("GRPCRoute", ns, "exact-matching").isEmpty());
    assertThat(written("GRPCRoute", ns, "exact-matching"))
        .singleElement()
        .asString()
        .contains("/gateway_api_conformance.echo_basic.grpc_echo.GrpcEcho/Echo");
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "http") == 1);

    client.resources(GRPCRoute.class).inNamespace(ns).withName("exact-matching").delete();
    await().atMost(WAIT).until(() -> written("GRPCRoute", ns, "exact-matching").isEmpty());
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "http") == 0);
  }

  @Test
  void tlsRouteSimpleSameNamespace() throws Exception {
    var ns = namespace();
    service(ns, "tls-backend", "{name: https, port: 443}");
    apply(ns, Gateway.class, GATEWAY);
    apply(ns, TLSRoute.class, TLS_ROUTE);
    awaitParent(
        TLSRoute.class,
        GatewayRouteKindsIT::tlsParents,
        ns,
        "secure",
        "ResolvedRefs",
        "True",
        "ResolvedRefs");
    await().atMost(WAIT).until(() -> !written("TLSRoute", ns, "secure").isEmpty());
    assertThat(written("TLSRoute", ns, "secure"))
        .singleElement()
        .asString()
        .contains("abc.example.com")
        .contains("8443")
        .contains(ns + "/tls-backend:https");

    client.resources(TLSRoute.class).inNamespace(ns).withName("secure").delete();
    await().atMost(WAIT).until(() -> written("TLSRoute", ns, "secure").isEmpty());
  }

  @Test
  void tcpRouteAndUdpRouteBasic() throws Exception {
    var ns = namespace();
    service(ns, "db", "{name: pg, port: 5432}");
    service(ns, "dns", "{name: dns, port: 53, protocol: UDP}");
    apply(ns, Gateway.class, GATEWAY);
    apply(ns, TCPRoute.class, TCP_ROUTE);
    apply(
        ns,
        UDPRoute.class,
        """
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: UDPRoute
        metadata: {name: dns}
        spec:
          parentRefs: [{name: edge, sectionName: udp}]
          rules:
          - backendRefs: [{name: dns, port: 53}]
        """);
    awaitParent(
        TCPRoute.class, GatewayRouteKindsIT::tcpParents, ns, "db", "Accepted", "True", "Accepted");
    awaitParent(
        UDPRoute.class,
        u -> u.getStatus() == null ? null : u.getStatus().getParents(),
        ns,
        "dns",
        "Accepted",
        "True",
        "Accepted");
    await().atMost(WAIT).until(() -> !written("TCPRoute", ns, "db").isEmpty());
    assertThat(written("TCPRoute", ns, "db"))
        .singleElement()
        .asString()
        .contains("5432")
        .contains(ns + "/db:pg");
    await().atMost(WAIT).until(() -> !written("UDPRoute", ns, "dns").isEmpty());
    assertThat(written("UDPRoute", ns, "dns"))
        .singleElement()
        .asString()
        .contains("5353")
        .contains(ns + "/dns:dns");
  }

  @Test
  void tlsRouteInvalidReferenceGrantThenGranted() throws Exception {
    var ns = namespace();
    var backends = namespace();
    service(backends, "tls-backend", "{name: https, port: 443}");
    apply(ns, Gateway.class, GATEWAY);
    apply(
        ns,
        TLSRoute.class,
        TLS_ROUTE.replace(
            "{name: tls-backend, port: 443}",
            "{name: tls-backend, namespace: " + backends + ", port: 443}"));
    awaitParent(
        TLSRoute.class,
        GatewayRouteKindsIT::tlsParents,
        ns,
        "secure",
        "ResolvedRefs",
        "False",
        "RefNotPermitted");
    assertThat(written("TLSRoute", ns, "secure")).isEmpty();

    apply(
        backends,
        ReferenceGrant.class,
        """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: tls-to-services}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: TLSRoute, namespace: NS}]
          to: [{group: "", kind: Service}]
        """
            .replace("NS", ns));
    awaitParent(
        TLSRoute.class,
        GatewayRouteKindsIT::tlsParents,
        ns,
        "secure",
        "ResolvedRefs",
        "True",
        "ResolvedRefs");
    await().atMost(WAIT).until(() -> !written("TLSRoute", ns, "secure").isEmpty());
    assertThat(written("TLSRoute", ns, "secure"))
        .singleElement()
        .asString()
        .contains(backends + "/tls-backend:https");
  }

  @Test
  void l4RoutePolicyAppliedThenRemoved() throws Exception {
    var ns = namespace();
    service(ns, "db", "{name: pg, port: 5432}");
    apply(ns, Gateway.class, GATEWAY);
    apply(ns, TCPRoute.class, TCP_ROUTE);
    await().atMost(WAIT).until(() -> !written("TCPRoute", ns, "db").isEmpty());
    assertThat(written("TCPRoute", ns, "db")).singleElement().asString().doesNotContain("limit");

    apply(
        ns,
        L4RoutePolicy.class,
        """
        apiVersion: apisix.apache.org/v1alpha1
        kind: L4RoutePolicy
        metadata: {name: limits}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: db}]
          plugins:
          - name: limit-conn
            config: {conn: 10, burst: 5, default_conn_delay: 0.1, key: remote_addr}
        """);
    await()
        .atMost(WAIT)
        .until(() -> written("TCPRoute", ns, "db").toString().contains("limit-conn"));

    client.resources(L4RoutePolicy.class).inNamespace(ns).withName("limits").delete();
    await()
        .atMost(WAIT)
        .until(
            () -> {
              var w = written("TCPRoute", ns, "db");
              return w.size() == 1 && !w.get(0).contains("limit-conn");
            });
  }

  @Test
  void gatewayWithAttachedRoutes() throws Exception {
    var ns = namespace();
    service(ns, "tls-backend", "{name: https, port: 443}");
    service(ns, "db", "{name: pg, port: 5432}");
    apply(ns, Gateway.class, GATEWAY);
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "tls") == 0);
    apply(ns, TLSRoute.class, TLS_ROUTE);
    apply(ns, TCPRoute.class, TCP_ROUTE);
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "tls") == 1);
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "tcp") == 1);
    assertThat(attachedRoutes(ns, "edge", "udp")).isZero();
    assertThat(attachedRoutes(ns, "edge", "http")).isZero();

    client.resources(TCPRoute.class).inNamespace(ns).withName("db").delete();
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "tcp") == 0);
    assertThat(attachedRoutes(ns, "edge", "tls")).isEqualTo(1);
  }

  @Test
  void grpcRouteExtensionRefPluginConfigCreatedLaterResolves() throws Exception {
    var ns = namespace();
    service(ns, "grpc", "{name: grpc, port: 8080}");
    apply(ns, Gateway.class, GATEWAY);
    apply(
        ns,
        GRPCRoute.class,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: echo}
        spec:
          parentRefs: [{name: edge, sectionName: http}]
          rules:
          - filters:
            - type: ExtensionRef
              extensionRef: {group: apisix.apache.org, kind: ApisixPluginConfig, name: cors}
            backendRefs: [{name: grpc, port: 8080}]
        """);
    Function<GRPCRoute, List<RouteParentStatus>> parents =
        g -> g.getStatus() == null ? null : g.getStatus().getParents();
    awaitParent(GRPCRoute.class, parents, ns, "echo", "ResolvedRefs", "False", "BackendNotFound");
    apply(
        ns,
        io.archway.crds.apisix.ApisixPluginConfig.class,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixPluginConfig
        metadata: {name: cors}
        spec:
          plugins:
          - {name: cors, enable: true}
        """);
    awaitParent(GRPCRoute.class, parents, ns, "echo", "ResolvedRefs", "True", "ResolvedRefs");
    await()
        .atMost(WAIT)
        .until(
            () ->
                written("GRPCRoute", ns, "echo").stream()
                    .anyMatch(v -> v.contains("plugin_config_id")));
  }
}
