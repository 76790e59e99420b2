package io.archway.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.testing.KubeMock;
import io.archway.operator.translate.GatewayApi;
import io.etcd.jetcd.Client;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HTTPRoutes against fabric8's mock API server in CRUD mode (it stands in for the Kubernetes API
 * server: none can run here) with the Gateway API CRDs created in it, and a real etcd: the routes
 * written, {@code status.parents}, and the Gateways' {@code attachedRoutes}. Tests are named after
 * the upstream conformance tests they follow.
 */
class HTTPRouteIT {

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
  static void start() {
    kube = new KubeMock();
    client = kube.client();
    for (var crd : GatewayApiIT.gatewayApiCrds(GatewayApi.BUNDLE_VERSION)) {
      client.resource(crd).create();
    }
    etcdClient = Client.builder().endpoints(etcd.endpoint()).build();
    sink = new EtcdConfigSink(etcdClient, "/hr", Duration.ofSeconds(3));
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

  private static String namespace(String... labels) {
    var ns = "r" + NS.incrementAndGet();
    var b = new NamespaceBuilder().withNewMetadata().withName(ns);
    for (int i = 0; i + 1 < labels.length; i += 2) {
      b.addToLabels(labels[i], labels[i + 1]);
    }
    client.namespaces().resource(b.endMetadata().build()).create();
    return ns;
  }

  private static <T extends HasMetadata> T apply(String ns, Class<T> type, String yaml) {
    var r = Serialization.unmarshal(yaml, type);
    r.getMetadata().setNamespace(ns);
    return client.resource(r).inNamespace(ns).createOr(existing -> existing.update());
  }

  private static void service(String ns, String name) {
    apply(
        ns,
        Service.class,
        "apiVersion: v1\nkind: Service\nmetadata: {name: "
            + name
            + "}\nspec: {clusterIP: 10.96.1.1, ports: [{name: http, port: 8080}]}\n");
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
      """;

  private static final String ROUTE =
      """
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: web}
      spec:
        parentRefs: [{name: edge}]
        rules:
        - backendRefs: [{name: web, port: 8080}]
      """;

  private static HTTPRoute route(String ns, String name) {
    return client.resources(HTTPRoute.class).inNamespace(ns).withName(name).get();
  }

  private static Gateway gateway(String ns, String name) {
    return client.resources(Gateway.class).inNamespace(ns).withName(name).get();
  }

  private static Optional<Condition> condition(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  private static List<RouteParentStatus> ours(HTTPRoute r) {
    return r == null || r.getStatus() == null || r.getStatus().getParents() == null
        ? List.of()
        : r.getStatus().getParents().stream()
            .filter(p -> CONTROLLER.equals(p.getControllerName()))
            .toList();
  }

  /** Waits for our (single) parent entry's condition at the route's generation. */
  private static HTTPRoute awaitParent(
      String ns, String name, String type, String status, String reason) {
    return await()
        .atMost(WAIT)
        .until(
            () -> route(ns, name),
            r -> {
              var ours = ours(r);
              if (ours.size() != 1) {
                return false;
              }
              var c = condition(ours.get(0).getConditions(), type);
              return c.isPresent()
                  && c.get().getStatus().equals(status)
                  && c.get().getReason().equals(reason)
                  && r.getMetadata().getGeneration().equals(c.get().getObservedGeneration());
            });
  }

  /** The values of the etcd routes the HTTPRoute wrote. */
  private static List<String> routes(String ns, String name) throws Exception {
    var out = new ArrayList<String>();
    for (var i : sink.listManaged()) {
      var o = i.owner();
      if (o != null
          && "HTTPRoute".equals(o.kind())
          && ns.equals(o.namespace())
          && name.equals(o.name())) {
        out.add(i.value().toString());
      }
    }
    return out;
  }

  private static int attachedRoutes(String ns, String gw, String listener) {
    var g = gateway(ns, gw);
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
  void httpRouteSimpleSameNamespace() throws Exception {
    var ns = namespace();
    service(ns, "web");
    apply(ns, Gateway.class, GATEWAY);
    apply(ns, HTTPRoute.class, ROUTE);
    // The Service comes through its own informer: a first reconcile may not have seen it yet.
    awaitParent(ns, "web", "ResolvedRefs", "True", "ResolvedRefs");
    var r = awaitParent(ns, "web", "Accepted", "True", "Accepted");
    assertThat(condition(ours(r).get(0).getConditions(), "ResolvedRefs").orElseThrow())
        .extracting(Condition::getStatus, Condition::getReason)
        .containsExactly("True", "ResolvedRefs");
    assertThat(ours(r).get(0).getParentRef().getName()).isEqualTo("edge");
    assertThat(condition(ours(r).get(0).getConditions(), "Accepted").orElseThrow())
        .extracting(Condition::getLastTransitionTime)
        .isNotNull();
    await().atMost(WAIT).until(() -> !routes(ns, "web").isEmpty());
    assertThat(routes(ns, "web"))
        .singleElement()
        .asString()
        .contains("on " + ns + "/edge/http")
        .contains(ns + "/web:http");
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "http") == 1);

    // Route deletion: its keys go, and the Gateway counts it no more.
    client.resources(HTTPRoute.class).inNamespace(ns).withName("web").delete();
    await().atMost(WAIT).until(() -> routes(ns, "web").isEmpty());
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "http") == 0);
  }

  @Test
  void httpRouteCrossNamespace() throws Exception {
    var infra = namespace();
    var apps = namespace("shared-gateway-access", "true");
    var backends = namespace();
    service(backends, "web");
    apply(
        infra,
        Gateway.class,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge}
        spec:
          gatewayClassName: archway-it
          listeners:
          - name: http
            port: 8080
            protocol: HTTP
            allowedRoutes:
              namespaces:
                from: Selector
                selector: {matchLabels: {shared-gateway-access: "true"}}
        """);
    apply(
        apps,
        HTTPRoute.class,
        ROUTE
            .replace("{name: edge}", "{name: edge, namespace: " + infra + "}")
            .replace(
                "{name: web, port: 8080}", "{name: web, namespace: " + backends + ", port: 8080}"));
    // Attached through the selector (once the namespace's labels are in the operator's cache), but
    // the backend in a third namespace is not granted.
    awaitParent(apps, "web", "Accepted", "True", "Accepted");
    var r = awaitParent(apps, "web", "ResolvedRefs", "False", "RefNotPermitted");
    assertThat(condition(ours(r).get(0).getConditions(), "Accepted").orElseThrow().getStatus())
        .isEqualTo("True");
    await().atMost(WAIT).until(() -> attachedRoutes(infra, "edge", "http") == 1);

    // The grant appears: the route is reconciled again and resolves.
    apply(
        backends,
        ReferenceGrant.class,
        """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: routes-to-services}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: NS}]
          to: [{group: "", kind: Service}]
        """
            .replace("NS", apps));
    awaitParent(apps, "web", "ResolvedRefs", "True", "ResolvedRefs");
    await()
        .atMost(WAIT)
        .until(
            () -> routes(apps, "web").stream().anyMatch(v -> v.contains(backends + "/web:http")));

    // The namespace loses the label the listener selects: the route is no longer allowed.
    client
        .namespaces()
        .withName(apps)
        .edit(
            n -> {
              n.getMetadata().getLabels().remove("shared-gateway-access");
              return n;
            });
    awaitParent(apps, "web", "Accepted", "False", "NotAllowedByListeners");
    await().atMost(WAIT).until(() -> attachedRoutes(infra, "edge", "http") == 0);
  }

  /**
   * A namespace label that takes one of a route's two listeners away: the route stays accepted
   * through the other, and the listener it left counts it no more.
   */
  @Test
  void aNamespaceLabelTakingOneListenerAwayRecountsIt() throws Exception {
    var infra = namespace();
    var apps = namespace("shared-gateway-access", "true");
    service(apps, "web");
    apply(
        infra,
        Gateway.class,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge}
        spec:
          gatewayClassName: archway-it
          listeners:
          - name: selected
            port: 8080
            protocol: HTTP
            allowedRoutes:
              namespaces:
                from: Selector
                selector: {matchLabels: {shared-gateway-access: "true"}}
          - name: open
            port: 8081
            protocol: HTTP
            allowedRoutes: {namespaces: {from: All}}
        """);
    apply(
        apps,
        HTTPRoute.class,
        ROUTE.replace("{name: edge}", "{name: edge, namespace: " + infra + "}"));
    awaitParent(apps, "web", "Accepted", "True", "Accepted");
    await()
        .atMost(WAIT)
        .until(
            () ->
                attachedRoutes(infra, "edge", "selected") == 1
                    && attachedRoutes(infra, "edge", "open") == 1);

    client
        .namespaces()
        .withName(apps)
        .edit(
            n -> {
              n.getMetadata().getLabels().remove("shared-gateway-access");
              return n;
            });
    await().atMost(WAIT).until(() -> attachedRoutes(infra, "edge", "selected") == 0);
    assertThat(attachedRoutes(infra, "edge", "open")).isEqualTo(1);
    assertThat(
            condition(ours(route(apps, "web")).get(0).getConditions(), "Accepted")
                .orElseThrow()
                .getStatus())
        .isEqualTo("True");
  }

  @Test
  void httpRouteHostnameIntersectionAndNoMatchingListenerHostname() throws Exception {
    var ns = namespace();
    service(ns, "web");
    apply(
        ns,
        Gateway.class,
        GATEWAY.replace("protocol: HTTP}", "protocol: HTTP, hostname: \"*.example.com\"}"));
    apply(ns, HTTPRoute.class, ROUTE.replace("spec:\n", "spec:\n  hostnames: [other.org]\n"));
    awaitParent(ns, "web", "Accepted", "False", "NoMatchingListenerHostname");
    assertThat(routes(ns, "web")).isEmpty();

    apply(
        ns,
        HTTPRoute.class,
        ROUTE.replace("spec:\n", "spec:\n  hostnames: [other.org, app.example.com]\n"));
    awaitParent(ns, "web", "Accepted", "True", "Accepted");
    await().atMost(WAIT).until(() -> !routes(ns, "web").isEmpty());
    assertThat(routes(ns, "web"))
        .allMatch(v -> v.contains("app.example.com") && !v.contains("other.org"));
  }

  @Test
  void httpRouteInvalidParentRefNotMatchingSectionName() throws Exception {
    var ns = namespace();
    service(ns, "web");
    apply(ns, Gateway.class, GATEWAY);
    apply(ns, HTTPRoute.class, ROUTE.replace("{name: edge}", "{name: edge, sectionName: nope}"));
    awaitParent(ns, "web", "Accepted", "False", "NoMatchingParent");
    assertThat(routes(ns, "web")).isEmpty();
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "http") == 0);
  }

  @Test
  void gatewayWithAttachedRoutes() throws Exception {
    var ns = namespace();
    service(ns, "web");
    apply(
        ns,
        Gateway.class,
        GATEWAY.replace(
            "- {name: http, port: 8080, protocol: HTTP}",
            "- {name: http, port: 8080, protocol: HTTP}\n"
                + "  - {name: hosts, port: 8081, protocol: HTTP, hostname: only.example.com}"));
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "http") == 0);
    apply(ns, HTTPRoute.class, ROUTE);
    // No hostname: it attaches to both listeners.
    await()
        .atMost(WAIT)
        .until(
            () ->
                attachedRoutes(ns, "edge", "http") == 1
                    && attachedRoutes(ns, "edge", "hosts") == 1);
    apply(
        ns,
        HTTPRoute.class,
        ROUTE
            .replace("name: web}", "name: second}")
            .replace("{name: edge}", "{name: edge, sectionName: http}"));
    await()
        .atMost(WAIT)
        .until(
            () ->
                attachedRoutes(ns, "edge", "http") == 2
                    && attachedRoutes(ns, "edge", "hosts") == 1);
    // An invalid route (not accepted) does not count.
    apply(
        ns,
        HTTPRoute.class,
        ROUTE
            .replace("name: web}", "name: broken}")
            .replace(
                "- backendRefs:",
                "- matches: [{path: {type: RegularExpression, value: \"(\"}}]\n    backendRefs:"));
    awaitParent(ns, "broken", "Accepted", "False", "UnsupportedValue");
    // The first route narrows to the other listener: one less on http.
    apply(ns, HTTPRoute.class, ROUTE.replace("{name: edge}", "{name: edge, sectionName: hosts}"));
    await()
        .atMost(WAIT)
        .until(
            () ->
                attachedRoutes(ns, "edge", "http") == 1
                    && attachedRoutes(ns, "edge", "hosts") == 1);
    client.resources(HTTPRoute.class).inNamespace(ns).withName("web").delete();
    await()
        .atMost(WAIT)
        .until(
            () ->
                attachedRoutes(ns, "edge", "http") == 1
                    && attachedRoutes(ns, "edge", "hosts") == 0);
  }

  /**
   * A Gateway that is not accepted (its parameters name a GatewayParameters that does not exist)
   * serves no listener: the route's parent status says so ({@code NotAllowedByListeners}), nothing
   * is written, and the listener counts no route; once the Gateway is accepted, the route is.
   */
  @Test
  void aGatewayNotAcceptedDoesNotAcceptItsRoutes() throws Exception {
    var ns = namespace();
    service(ns, "web");
    var invalid =
        GATEWAY.replace(
            "  listeners:",
            "  infrastructure:\n    parametersRef: {group: archway.io, kind: GatewayParameters,"
                + " name: nowhere}\n  listeners:");
    apply(ns, Gateway.class, invalid);
    apply(ns, HTTPRoute.class, ROUTE);
    var r = awaitParent(ns, "web", "Accepted", "False", "NotAllowedByListeners");
    assertThat(condition(ours(r).get(0).getConditions(), "Accepted").orElseThrow().getMessage())
        .contains("Gateway " + ns + "/edge is not accepted")
        .contains("InvalidParameters");
    assertThat(routes(ns, "web")).isEmpty();
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "http") == 0);

    apply(ns, Gateway.class, GATEWAY);
    awaitParent(ns, "web", "Accepted", "True", "Accepted");
    await().atMost(WAIT).until(() -> !routes(ns, "web").isEmpty());
    await().atMost(WAIT).until(() -> attachedRoutes(ns, "edge", "http") == 1);
  }

  @Test
  void httpRouteObservedGenerationBump() throws Exception {
    var ns = namespace();
    service(ns, "web");
    apply(ns, Gateway.class, GATEWAY);
    apply(ns, HTTPRoute.class, ROUTE);
    var first = awaitParent(ns, "web", "Accepted", "True", "Accepted");
    var since = condition(ours(first).get(0).getConditions(), "Accepted").orElseThrow();
    apply(
        ns,
        HTTPRoute.class,
        ROUTE.replace(
            "- backendRefs:",
            "- matches: [{path: {type: PathPrefix, value: /v2}}]\n    backendRefs:"));
    var bumped =
        await()
            .atMost(WAIT)
            .until(
                () -> route(ns, "web"),
                r ->
                    r.getMetadata().getGeneration() > first.getMetadata().getGeneration()
                        && ours(r).size() == 1
                        && condition(ours(r).get(0).getConditions(), "Accepted")
                            .map(
                                c ->
                                    r.getMetadata()
                                        .getGeneration()
                                        .equals(c.getObservedGeneration()))
                            .orElse(false));
    var accepted = condition(ours(bumped).get(0).getConditions(), "Accepted").orElseThrow();
    assertThat(accepted.getStatus()).isEqualTo("True");
    assertThat(accepted.getLastTransitionTime()).isEqualTo(since.getLastTransitionTime());
    await().atMost(WAIT).until(() -> routes(ns, "web").stream().anyMatch(v -> v.contains("/v2")));
  }

  @Test
  void anotherControllersParentStatusIsKept() throws Exception {
    var ns = namespace();
    service(ns, "web");
    apply(ns, Gateway.class, GATEWAY);
    client
        .resource(
            Serialization.unmarshal(
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GatewayClass
                metadata: {name: other-it}
                spec: {controllerName: example.com/gateway-controller}
                """,
                GatewayClass.class))
        .createOr(existing -> existing.update());
    apply(ns, Gateway.class, GATEWAY.replace("archway-it", "other-it").replace("edge", "theirs"));
    apply(ns, HTTPRoute.class, ROUTE.replace("[{name: edge}]", "[{name: edge}, {name: theirs}]"));
    awaitParent(ns, "web", "Accepted", "True", "Accepted");
    // Another controller writes its entry for its own Gateway.
    var r = route(ns, "web");
    var theirs =
        new RouteParentStatusBuilder()
            .withControllerName("example.com/gateway-controller")
            .withNewParentRef()
            .withName("theirs")
            .endParentRef()
            .withConditions(
                new io.fabric8.kubernetes.api.model.ConditionBuilder()
                    .withType("Accepted")
                    .withStatus("True")
                    .withReason("Accepted")
                    .withMessage("theirs")
                    .withLastTransitionTime("2026-01-01T00:00:00Z")
                    .withObservedGeneration(r.getMetadata().getGeneration())
                    .build())
            .build();
    var parents = new ArrayList<>(r.getStatus().getParents());
    parents.add(theirs);
    r.getStatus().setParents(parents);
    client.resource(r).updateStatus();
    // Our entry changes (the route moves to another section); theirs stays as it was.
    apply(
        ns,
        HTTPRoute.class,
        ROUTE.replace("[{name: edge}]", "[{name: edge, sectionName: nope}, {name: theirs}]"));
    var after = awaitParent(ns, "web", "Accepted", "False", "NoMatchingParent");
    assertThat(after.getStatus().getParents()).contains(theirs).hasSize(2);
    await().atMost(WAIT).until(() -> routes(ns, "web").isEmpty());
  }

  @Test
  void aBackendServiceCreatedLaterResolvesAndAGatewayCreatedLaterAcceptsTheRoute()
      throws Exception {
    var ns = namespace();
    apply(ns, HTTPRoute.class, ROUTE);
    // Neither the Gateway nor the Service exists yet.
    awaitParent(ns, "web", "Accepted", "False", "NoMatchingParent");
    apply(ns, Gateway.class, GATEWAY);
    var r = awaitParent(ns, "web", "Accepted", "True", "Accepted");
    assertThat(condition(ours(r).get(0).getConditions(), "ResolvedRefs").orElseThrow().getReason())
        .isEqualTo("BackendNotFound");
    service(ns, "web");
    awaitParent(ns, "web", "ResolvedRefs", "True", "ResolvedRefs");
    await()
        .atMost(WAIT)
        .until(() -> routes(ns, "web").stream().anyMatch(v -> v.contains(ns + "/web:http")));
  }

  @Test
  void anExtensionRefPluginConfigCreatedLaterResolves() throws Exception {
    var ns = namespace();
    service(ns, "web");
    apply(ns, Gateway.class, GATEWAY);
    apply(
        ns,
        HTTPRoute.class,
        ROUTE.replace(
            "- backendRefs:",
            "- filters:\n    - type: ExtensionRef\n      extensionRef: {group: apisix.apache.org,"
                + " kind: ApisixPluginConfig, name: cors}\n    backendRefs:"));
    awaitParent(ns, "web", "ResolvedRefs", "False", "BackendNotFound");
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
    awaitParent(ns, "web", "ResolvedRefs", "True", "ResolvedRefs");
    await()
        .atMost(WAIT)
        .until(() -> routes(ns, "web").stream().anyMatch(v -> v.contains("plugin_config_id")));
  }
}
