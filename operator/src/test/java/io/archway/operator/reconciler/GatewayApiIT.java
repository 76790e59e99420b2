package io.archway.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.Kind;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.testing.KubeMock;
import io.archway.operator.translate.GatewayApi;
import io.archway.operator.translate.Manifests;
import io.etcd.jetcd.Client;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * GatewayClass and Gateway against fabric8's mock API server in CRUD mode (it stands in for the
 * Kubernetes API server: none can run here) with the Gateway API CRDs created in it, and a real
 * etcd. Tests are named after the upstream conformance tests they follow.
 */
class GatewayApiIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger NS = new AtomicInteger();
  private static final String CLASS = "archway-it";

  static KubeMock kube;
  static KubernetesClient client;
  static ArchwayOperator operator;
  static EtcdConfigSink sink;
  static Client etcdClient;

  @BeforeAll
  static void start() {
    kube = new KubeMock();
    client = kube.client();
    for (var crd : gatewayApiCrds(GatewayApi.BUNDLE_VERSION)) {
      client.resource(crd).create();
    }
    // The published dataplane Service: its address becomes the Gateways'.
    client
        .resource(
            Serialization.unmarshal(
                """
                apiVersion: v1
                kind: Service
                metadata: {name: archway-gateway, namespace: default}
                spec: {clusterIP: 10.96.0.20, ports: [{port: 80}]}
                """,
                io.fabric8.kubernetes.api.model.Service.class))
        .create();
    etcdClient = Client.builder().endpoints(etcd.endpoint()).build();
    sink = new EtcdConfigSink(etcdClient, "/gw", Duration.ofSeconds(3));
    operator = new ArchwayOperator(client, sink, settings());
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

  private static ArchwayOperator.Settings settings() {
    return new ArchwayOperator.Settings(
        java.util.Set.of(),
        "archway",
        "default/archway-gateway",
        null,
        null,
        "it",
        Duration.ofSeconds(5),
        io.archway.operator.translate.Refs.ControlPlaneDiscovery.OFF);
  }

  @AfterAll
  static void stop() {
    operator.close();
    sink.close();
    kube.close();
  }

  /**
   * The upstream bundle's CRDs, reduced to what detection reads ({@link KubeMock#gatewayApiCrds}).
   */
  static List<CustomResourceDefinition> gatewayApiCrds(String bundleVersion) {
    return KubeMock.gatewayApiCrds(bundleVersion, KubeMock.GATEWAY_API_STANDARD);
  }

  private static String namespace() {
    var ns = "g" + NS.incrementAndGet();
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

  /** The Secret with a good certificate for app.example.com, from the translator fixtures. */
  private static Secret tlsSecret(String ns, String name) throws Exception {
    var docs =
        new Manifests("default")
            .read(Path.of("src/test/resources/translate/gw-https/input.yaml"))
            .docs();
    var s =
        (Secret)
            docs.stream()
                .filter(d -> d.resource() instanceof Secret)
                .findFirst()
                .orElseThrow()
                .resource();
    s.getMetadata().setNamespace(ns);
    s.getMetadata().setName(name);
    return client.resource(s).inNamespace(ns).createOr(existing -> existing.update());
  }

  private static Gateway gateway(String ns, String name) {
    return client.resources(Gateway.class).inNamespace(ns).withName(name).get();
  }

  private static Optional<Condition> condition(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  private static ListenerStatus listener(Gateway gw, String name) {
    return gw.getStatus().getListeners().stream()
        .filter(l -> name.equals(l.getName()))
        .findFirst()
        .orElseThrow();
  }

  /** Waits for the listener's condition; returns the Gateway as it was then. */
  private static Gateway awaitListener(
      String ns, String gw, String listener, String type, String status, String reason) {
    return await()
        .atMost(WAIT)
        .until(
            () -> gateway(ns, gw),
            g -> {
              if (g == null || g.getStatus() == null || g.getStatus().getListeners() == null) {
                return false;
              }
              var l =
                  g.getStatus().getListeners().stream()
                      .filter(x -> listener.equals(x.getName()))
                      .findFirst();
              var c = l.flatMap(x -> condition(x.getConditions(), type));
              return c.isPresent()
                  && c.get().getStatus().equals(status)
                  && c.get().getReason().equals(reason)
                  && g.getMetadata().getGeneration().equals(c.get().getObservedGeneration());
            });
  }

  private static String etcdValue(Kind kind, String id) throws Exception {
    return sink.get(kind, id).map(i -> i.value().toString()).orElse(null);
  }

  @Test
  void detectsTheInstalledGatewayApiKindsAndBundleVersion() {
    var found = operator.gatewayApi();
    assertThat(found.has("GatewayClass", "v1")).isTrue();
    assertThat(found.has("Gateway", "v1")).isTrue();
    assertThat(found.has("ReferenceGrant", "v1beta1")).isTrue();
    assertThat(found.has("TCPRoute", "v1alpha2")).isFalse();
    assertThat(found.bundleVersion()).isEqualTo(GatewayApi.BUNDLE_VERSION);
  }

  @Test
  void withoutTheGatewayApiCrdsNoGatewayApiControllerRunsAndNothingFails() {
    try (var bare = new KubeMock()) {
      var other = new ArchwayOperator(bare.client(), sink, settings());
      try {
        other.start();
        assertThat(other.gatewayApi().kinds()).isEmpty();
        assertThat(other.gatewayApi().bundleVersion()).isNull();
      } finally {
        other.close();
      }
    }
  }

  @Test
  void gatewayClassObservedGenerationBump() {
    var name = "archway-bump";
    client
        .resource(
            Serialization.unmarshal(
                "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: "
                    + name
                    + "}\nspec: {controllerName: archway.io/gateway-controller}\n",
                GatewayClass.class))
        .create();
    var first = awaitClass(name, 1L);
    assertThat(condition(first.getStatus().getConditions(), "Accepted").orElseThrow().getStatus())
        .isEqualTo("True");
    assertThat(
            condition(first.getStatus().getConditions(), "SupportedVersion")
                .orElseThrow()
                .getReason())
        .isEqualTo("SupportedVersion");
    var since =
        condition(first.getStatus().getConditions(), "Accepted")
            .orElseThrow()
            .getLastTransitionTime();
    client
        .resources(GatewayClass.class)
        .withName(name)
        .edit(
            c -> {
              c.getSpec().setDescription("bumped");
              return c;
            });
    var bumped = awaitClass(name, 2L);
    var accepted = condition(bumped.getStatus().getConditions(), "Accepted").orElseThrow();
    assertThat(accepted.getStatus()).isEqualTo("True");
    // The status did not change: neither does its transition time.
    assertThat(accepted.getLastTransitionTime()).isEqualTo(since);
  }

  @Test
  void gatewayClassWithParametersItCannotFindIsNotAccepted() {
    var name = "archway-params";
    client
        .resource(
            Serialization.unmarshal(
                "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: "
                    + name
                    + "}\nspec:\n  controllerName: archway.io/gateway-controller\n"
                    + "  parametersRef: {group: apisix.apache.org, kind: GatewayProxy, name:"
                    + " nowhere, namespace: default}\n",
                GatewayClass.class))
        .create();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var c = client.resources(GatewayClass.class).withName(name).get();
              var accepted = condition(c.getStatus().getConditions(), "Accepted").orElseThrow();
              assertThat(accepted.getStatus()).isEqualTo("False");
              assertThat(accepted.getReason()).isEqualTo("InvalidParameters");
              assertThat(accepted.getMessage()).contains("GatewayProxy default/nowhere not found");
            });
  }

  private static GatewayClass awaitClass(String name, long generation) {
    return await()
        .atMost(WAIT)
        .until(
            () -> client.resources(GatewayClass.class).withName(name).get(),
            c ->
                c.getStatus() != null
                    && c.getMetadata().getGeneration() == generation
                    && condition(c.getStatus().getConditions(), "Accepted")
                        .map(x -> Long.valueOf(generation).equals(x.getObservedGeneration()))
                        .orElse(false));
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

  @Test
  void gatewayObservedGenerationBump() throws Exception {
    var ns = namespace();
    apply(ns, Gateway.class, GATEWAY);
    var gw = awaitListener(ns, "edge", "http", "Programmed", "True", "Programmed");
    var programmed = condition(gw.getStatus().getConditions(), "Programmed").orElseThrow();
    assertThat(programmed.getStatus()).isEqualTo("True");
    assertThat(gw.getStatus().getAddresses())
        .extracting(a -> a.getType() + " " + a.getValue())
        .containsExactly("IPAddress 10.96.0.20");
    assertThat(listener(gw, "http").getAttachedRoutes()).isZero();
    var id = ns + "_edge_http";
    assertThat(etcdValue(Kind.LISTENERS, id)).contains("\"port\":8080").contains("\"HTTP\"");
    var stored = sink.get(Kind.LISTENERS, id).orElseThrow();
    assertThat(stored.owner().kind()).isEqualTo("Gateway");
    var since = programmed.getLastTransitionTime();

    apply(ns, Gateway.class, GATEWAY.replace("port: 8080", "port: 8081"));
    var bumped = awaitListener(ns, "edge", "http", "Programmed", "True", "Programmed");
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, id).contains("\"port\":8081"));
    bumped = gateway(ns, "edge");
    var again = condition(bumped.getStatus().getConditions(), "Programmed").orElseThrow();
    assertThat(again.getObservedGeneration()).isEqualTo(bumped.getMetadata().getGeneration());
    assertThat(again.getLastTransitionTime()).isEqualTo(since);

    client.resources(Gateway.class).inNamespace(ns).withName("edge").delete();
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, id) == null);
  }

  private static final String HTTPS_GATEWAY =
      """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: edge}
      spec:
        gatewayClassName: archway-it
        listeners:
        - name: https
          port: 8443
          protocol: HTTPS
          hostname: app.example.com
          tls: {certificateRefs: [{name: app-tls, namespace: SECRET_NS}]}
        - {name: http, port: 8080, protocol: HTTP}
      """;

  @Test
  void gatewayInvalidTLSConfiguration() throws Exception {
    var ns = namespace();
    apply(ns, Gateway.class, HTTPS_GATEWAY.replace("SECRET_NS", ns));
    var gw = awaitListener(ns, "edge", "https", "ResolvedRefs", "False", "InvalidCertificateRef");
    assertThat(condition(listener(gw, "https").getConditions(), "Programmed").orElseThrow())
        .extracting(Condition::getStatus, Condition::getReason)
        .containsExactly("False", "Invalid");
    // The other listener is served all the same.
    awaitListener(ns, "edge", "http", "Programmed", "True", "Programmed");
    assertThat(etcdValue(Kind.LISTENERS, ns + "_edge_http")).isNotNull();
    assertThat(etcdValue(Kind.LISTENERS, ns + "_edge_https")).isNull();

    // A malformed Secret is no better.
    apply(
        ns,
        Secret.class,
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: app-tls}
        type: kubernetes.io/tls
        stringData: {tls.crt: not a certificate, tls.key: not a key}
        """);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        condition(
                                listener(gateway(ns, "edge"), "https").getConditions(),
                                "ResolvedRefs")
                            .orElseThrow()
                            .getMessage())
                    .contains("app-tls"));

    // The Secret made good: the listener follows it, without touching the Gateway.
    tlsSecret(ns, "app-tls");
    awaitListener(ns, "edge", "https", "ResolvedRefs", "True", "ResolvedRefs");
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, ns + "_edge_https") != null);
    assertThat(etcdValue(Kind.LISTENERS, ns + "_edge_https"))
        .contains("gw_" + ns + "_edge_https_0");
    assertThat(etcdValue(Kind.SSLS, "gw_" + ns + "_edge_https_0")).contains("app.example.com");
  }

  @Test
  void gatewaySecretMissingReferenceGrant() throws Exception {
    var ns = namespace();
    var certs = namespace();
    tlsSecret(certs, "app-tls");
    apply(ns, Gateway.class, HTTPS_GATEWAY.replace("SECRET_NS", certs));
    var gw = awaitListener(ns, "edge", "https", "ResolvedRefs", "False", "RefNotPermitted");
    assertThat(condition(gw.getStatus().getConditions(), "Accepted").orElseThrow())
        .extracting(Condition::getStatus, Condition::getReason)
        .containsExactly("True", "ListenersNotValid");
    assertThat(etcdValue(Kind.SSLS, "gw_" + ns + "_edge_https_0")).isNull();
  }

  @Test
  void gatewaySecretReferenceGrantAllInNamespace() throws Exception {
    var ns = namespace();
    var certs = namespace();
    tlsSecret(certs, "app-tls");
    apply(ns, Gateway.class, HTTPS_GATEWAY.replace("SECRET_NS", certs));
    awaitListener(ns, "edge", "https", "ResolvedRefs", "False", "RefNotPermitted");
    // The grant comes after the Gateway: it is reconciled again, and let in.
    apply(
        certs,
        ReferenceGrant.class,
        """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: all-secrets}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: NS}]
          to: [{group: "", kind: Secret}]
        """
            .replace("NS", ns));
    awaitListener(ns, "edge", "https", "ResolvedRefs", "True", "ResolvedRefs");
    awaitListener(ns, "edge", "https", "Programmed", "True", "Programmed");
    await().atMost(WAIT).until(() -> etcdValue(Kind.SSLS, "gw_" + ns + "_edge_https_0") != null);
  }

  @Test
  void listenersConflictingOnAPortAreLeftOutAlone() throws Exception {
    var ns = namespace();
    apply(
        ns,
        Gateway.class,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge}
        spec:
          gatewayClassName: archway-it
          listeners:
          - {name: web, port: 9000, protocol: HTTP}
          - {name: raw, port: 9000, protocol: TCP}
          - {name: ok, port: 9001, protocol: HTTP}
          - {name: odd, port: 9002, protocol: example.com/sctp}
        """);
    awaitListener(ns, "edge", "web", "Conflicted", "True", "ProtocolConflict");
    awaitListener(ns, "edge", "raw", "Conflicted", "True", "ProtocolConflict");
    awaitListener(ns, "edge", "odd", "Accepted", "False", "UnsupportedProtocol");
    awaitListener(ns, "edge", "ok", "Programmed", "True", "Programmed");
    assertThat(etcdValue(Kind.LISTENERS, ns + "_edge_ok")).isNotNull();
    assertThat(etcdValue(Kind.LISTENERS, ns + "_edge_web")).isNull();
    assertThat(etcdValue(Kind.LISTENERS, ns + "_edge_raw")).isNull();
  }

  @Test
  void aGatewayCreatedBeforeItsClassIsServedWhenTheClassComes() throws Exception {
    var ns = namespace();
    apply(ns, Gateway.class, GATEWAY.replace("archway-it", "archway-late"));
    client
        .resource(
            Serialization.unmarshal(
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GatewayClass
                metadata: {name: archway-late}
                spec: {controllerName: archway.io/gateway-controller}
                """,
                GatewayClass.class))
        .create();
    awaitListener(ns, "edge", "http", "Programmed", "True", "Programmed");
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, ns + "_edge_http") != null);

    // One whose class comes later and is another controller's: left alone, no finalizer kept.
    apply(ns, Gateway.class, GATEWAY.replace("archway-it", "late-other").replace("edge", "theirs"));
    await()
        .atMost(WAIT)
        .until(() -> !gateway(ns, "theirs").getMetadata().getFinalizers().isEmpty());
    client
        .resource(
            Serialization.unmarshal(
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GatewayClass
                metadata: {name: late-other}
                spec: {controllerName: example.com/gateway-controller}
                """,
                GatewayClass.class))
        .create();
    await().atMost(WAIT).until(() -> gateway(ns, "theirs").getMetadata().getFinalizers().isEmpty());
    assertThat(gateway(ns, "theirs").getStatus()).isNull();
  }

  @Test
  void aGatewayOfAnotherControllersClassIsLeftAlone() {
    var ns = namespace();
    client
        .resource(
            Serialization.unmarshal(
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GatewayClass
                metadata: {name: someone-else}
                spec: {controllerName: example.com/gateway-controller}
                """,
                GatewayClass.class))
        .create();
    apply(ns, Gateway.class, GATEWAY.replace("archway-it", "someone-else"));
    // Ours gets its status; the other's never does, nor a finalizer.
    apply(ns, Gateway.class, GATEWAY.replace("name: edge", "name: mine"));
    awaitListener(ns, "mine", "http", "Programmed", "True", "Programmed");
    var theirs = gateway(ns, "edge");
    assertThat(theirs.getStatus() == null || theirs.getStatus().getConditions() == null).isTrue();
    assertThat(theirs.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(client.resources(GatewayClass.class).withName("someone-else").get().getStatus())
        .satisfiesAnyOf(
            s -> assertThat(s).isNull(), s -> assertThat(s.getConditions()).isNullOrEmpty());
  }

  // GatewayParameters (archway.io/v1alpha1): class and Gateway parameters, the Service per Gateway.

  private static GatewayClass gatewayClass(String yaml) {
    return client
        .resource(Serialization.unmarshal(yaml, GatewayClass.class))
        .createOr(existing -> existing.update());
  }

  /** A GatewayClass of Archway's whose parameters are the GatewayParameters {@code ns/platform}. */
  private static void classWithParameters(String name, String ns) {
    gatewayClass(
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: NAME}
        spec:
          controllerName: archway.io/gateway-controller
          parametersRef: {group: archway.io, kind: GatewayParameters, name: platform, namespace: NS}
        """
            .replace("NAME", name)
            .replace("NS", ns));
  }

  private static Condition classCondition(String name, String type) {
    var c = client.resources(GatewayClass.class).withName(name).get();
    return c == null || c.getStatus() == null
        ? null
        : condition(c.getStatus().getConditions(), type).orElse(null);
  }

  private static Condition gatewayCondition(String ns, String name, String type) {
    var g = gateway(ns, name);
    return g == null || g.getStatus() == null
        ? null
        : condition(g.getStatus().getConditions(), type).orElse(null);
  }

  private static void awaitGateway(
      String ns, String name, String type, String status, String reason) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(gatewayCondition(ns, name, type))
                    .isNotNull()
                    .extracting(Condition::getStatus, Condition::getReason)
                    .containsExactly(status, reason));
  }

  private static io.fabric8.kubernetes.api.model.Service service(String ns, String name) {
    return client.services().inNamespace(ns).withName(name).get();
  }

  private static List<String> ports(io.fabric8.kubernetes.api.model.Service s) {
    return s.getSpec().getPorts().stream()
        .map(
            p ->
                p.getName()
                    + " "
                    + p.getProtocol()
                    + " "
                    + p.getPort()
                    + "->"
                    + p.getTargetPort().getIntVal())
        .toList();
  }

  private static final String PARAMETERS =
      """
      apiVersion: archway.io/v1alpha1
      kind: GatewayParameters
      metadata: {name: platform}
      spec:
        service:
          type: LoadBalancer
          annotations: {lb.example.com/scheme: internet-facing}
          labels: {team: platform, tier: edge}
          externalTrafficPolicy: Local
        listenerDefaults:
          tls: {protocols: [TLSv1.2, TLSv1.3]}
      """;

  @Test
  void gatewayClassWithGatewayParametersInvalidThenAccepted() {
    var infra = namespace();
    // Another kind than Archway's or APISIX's parameters: InvalidParameters.
    gatewayClass(
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: archway-gwp-kind}
        spec:
          controllerName: archway.io/gateway-controller
          parametersRef: {group: "", kind: ConfigMap, name: platform, namespace: NS}
        """
            .replace("NS", infra));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(classCondition("archway-gwp-kind", "Accepted"))
                    .isNotNull()
                    .extracting(Condition::getStatus, Condition::getReason)
                    .containsExactly("False", "InvalidParameters"));
    // Pointed at a GatewayParameters that does not exist yet: still InvalidParameters.
    classWithParameters("archway-gwp-kind", infra);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(classCondition("archway-gwp-kind", "Accepted").getMessage())
                    .contains("GatewayParameters " + infra + "/platform not found"));
    // It comes: the class is accepted (the parameters object reconciles the class naming it).
    apply(infra, io.archway.crds.archway.GatewayParameters.class, PARAMETERS);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(classCondition("archway-gwp-kind", "Accepted"))
                    .extracting(Condition::getStatus, Condition::getReason)
                    .containsExactly("True", "Accepted"));
    // Made invalid: not accepted again.
    apply(
        infra,
        io.archway.crds.archway.GatewayParameters.class,
        PARAMETERS.replace("type: LoadBalancer", "type: ExternalName"));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(classCondition("archway-gwp-kind", "Accepted").getMessage())
                    .contains("spec.service.type: ExternalName"));
  }

  /**
   * The Service Archway keeps per Gateway. The mock API server runs no cloud controller: the test
   * plays one, writing the Service's {@code status.loadBalancer} itself.
   */
  @Test
  void aGatewayWithParametersGetsAServiceThatFollowsItsListenersAndLoadBalancer() throws Exception {
    var infra = namespace();
    var ns = namespace();
    apply(infra, io.archway.crds.archway.GatewayParameters.class, PARAMETERS);
    classWithParameters("archway-gwp-svc", infra);
    tlsSecret(ns, "app-tls");
    apply(
        ns,
        Gateway.class,
        EDGE.replace(
            "  listeners:",
            "  infrastructure:\n"
                + "    labels: {team: edge, cost-center: \"42\"}\n"
                + "    annotations: {example.com/owner: edge-team}\n"
                + "  listeners:"));
    var name = "edge-archway";
    await().atMost(WAIT).until(() -> service(ns, name) != null);
    var svc = service(ns, name);
    assertThat(ports(svc))
        .containsExactly(
            "tcp-80 TCP 80->10080",
            "udp-5353 UDP 5353->5353",
            "tcp-5432 TCP 5432->5432",
            "tcp-8443 TCP 8443->8443");
    assertThat(svc.getSpec().getType()).isEqualTo("LoadBalancer");
    assertThat(svc.getSpec().getExternalTrafficPolicy()).isEqualTo("Local");
    assertThat(svc.getSpec().getSelector())
        .containsEntry("app.kubernetes.io/component", "dataplane")
        .containsEntry("app.kubernetes.io/instance", "archway");
    assertThat(svc.getMetadata().getLabels())
        .containsEntry("team", "edge") // the Gateway's infrastructure over the parameters'
        .containsEntry("tier", "edge")
        .containsEntry("cost-center", "42")
        .containsEntry("gateway.networking.k8s.io/gateway-name", "edge");
    assertThat(svc.getMetadata().getAnnotations())
        .containsEntry("lb.example.com/scheme", "internet-facing")
        .containsEntry("example.com/owner", "edge-team");
    var gw = gateway(ns, "edge");
    assertThat(svc.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("Gateway");
              assertThat(o.getUid()).isEqualTo(gw.getMetadata().getUid());
            });
    // The listener defaults reach the HTTPS listener's certificate.
    await().atMost(WAIT).until(() -> etcdValue(Kind.SSLS, "gw_" + ns + "_edge_https_0") != null);
    assertThat(etcdValue(Kind.SSLS, "gw_" + ns + "_edge_https_0"))
        .contains("\"ssl_protocols\":[\"TLSv1.2\",\"TLSv1.3\"]");

    // No load balancer address yet (nor a cluster IP: the mock assigns none).
    awaitGateway(ns, "edge", "Programmed", "False", "AddressNotAssigned");
    // The cloud controller (the test) gives it one: the Gateway's address.
    svc.setStatus(
        new io.fabric8.kubernetes.api.model.ServiceStatusBuilder()
            .withNewLoadBalancer()
            .addNewIngress()
            .withIp("203.0.113.10")
            .endIngress()
            .endLoadBalancer()
            .build());
    client.services().inNamespace(ns).resource(svc).updateStatus();
    awaitGateway(ns, "edge", "Programmed", "True", "Programmed");
    assertThat(gateway(ns, "edge").getStatus().getAddresses())
        .extracting(a -> a.getType() + " " + a.getValue())
        .containsExactly("IPAddress 203.0.113.10");

    // The listeners change: so do the ports. (The listeners keep their names and number: the mock
    // API server misapplies a status patch whose listener list shrinks from under a stale copy.)
    apply(
        ns,
        Gateway.class,
        EDGE.replace("port: 5432", "port: 6432").replace("port: 80,", "port: 8080,"));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(ports(service(ns, name)))
                    .containsExactly(
                        "udp-5353 UDP 5353->5353",
                        "tcp-6432 TCP 6432->6432",
                        "tcp-8080 TCP 8080->8080",
                        "tcp-8443 TCP 8443->8443"));
    // Not in the Gateway's infrastructure any more: not on the Service either.
    assertThat(service(ns, name).getMetadata().getLabels()).doesNotContainKey("cost-center");
    assertThat(service(ns, name).getMetadata().getAnnotations())
        .doesNotContainKey("example.com/owner");

    // No listener left to serve (each has a tls its protocol does not take): no Service.
    apply(
        ns,
        Gateway.class,
        EDGE.replace("protocol: HTTP,", "protocol: HTTPS,")
            .replace("protocol: TCP}", "protocol: TCP, tls: {mode: Terminate}}")
            .replace("protocol: UDP}", "protocol: UDP, tls: {mode: Terminate}}")
            .replace("{certificateRefs: [{name: app-tls}]}", "{mode: Passthrough}"));
    awaitListener(ns, "edge", "dns", "Accepted", "False", "UnsupportedValue");
    await().atMost(WAIT).until(() -> service(ns, name) == null);

    // Served again, then deleted: the Service goes with the Gateway.
    apply(ns, Gateway.class, EDGE);
    await().atMost(WAIT).until(() -> service(ns, name) != null);
    client.resources(Gateway.class).inNamespace(ns).withName("edge").delete();
    await().atMost(WAIT).until(() -> service(ns, name) == null);
  }

  private static final String EDGE =
      """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: edge}
      spec:
        gatewayClassName: archway-gwp-svc
        listeners:
        - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
        - {name: http-other, port: 80, protocol: HTTP, hostname: other.example.org}
        - name: https
          port: 8443
          protocol: HTTPS
          hostname: app.example.com
          tls: {certificateRefs: [{name: app-tls}]}
        - {name: db, port: 5432, protocol: TCP}
        - {name: dns, port: 5353, protocol: UDP}
      """;

  @Test
  void infrastructureParametersRefOverridesTheClassFieldByField() throws Exception {
    var infra = namespace();
    var ns = namespace();
    apply(infra, io.archway.crds.archway.GatewayParameters.class, PARAMETERS);
    classWithParameters("archway-gwp-override", infra);
    var gateway =
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: internal}
        spec:
          gatewayClassName: archway-gwp-override
          infrastructure:
            parametersRef: {group: archway.io, kind: GatewayParameters, name: internal}
          listeners:
          - {name: http, port: 8080, protocol: HTTP}
        """;
    apply(ns, Gateway.class, gateway);
    // Its own parameters do not exist yet: InvalidParameters, nothing served.
    awaitGateway(ns, "internal", "Accepted", "False", "InvalidParameters");
    awaitGateway(ns, "internal", "Programmed", "False", "Invalid");
    assertThat(gatewayCondition(ns, "internal", "Accepted").getMessage())
        .contains("GatewayParameters " + ns + "/internal not found");
    assertThat(etcdValue(Kind.LISTENERS, ns + "_internal_http")).isNull();
    assertThat(service(ns, "internal-archway")).isNull();

    apply(
        ns,
        io.archway.crds.archway.GatewayParameters.class,
        """
        apiVersion: archway.io/v1alpha1
        kind: GatewayParameters
        metadata: {name: internal}
        spec:
          service:
            type: ClusterIP
            labels: {tier: internal}
        """);
    awaitGateway(ns, "internal", "Accepted", "True", "Accepted");
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, ns + "_internal_http") != null);
    await().atMost(WAIT).until(() -> service(ns, "internal-archway") != null);
    var svc = service(ns, "internal-archway");
    assertThat(svc.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(svc.getSpec().getExternalTrafficPolicy()).isNull();
    assertThat(svc.getMetadata().getLabels())
        .containsEntry("team", "platform")
        .containsEntry("tier", "internal");
    assertThat(svc.getMetadata().getAnnotations())
        .containsEntry("lb.example.com/scheme", "internet-facing");

    // Another kind in infrastructure.parametersRef: InvalidParameters, its listener removed.
    apply(
        ns,
        Gateway.class,
        gateway.replace(
            "group: archway.io, kind: GatewayParameters", "group: \"\", kind: ConfigMap"));
    awaitGateway(ns, "internal", "Accepted", "False", "InvalidParameters");
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, ns + "_internal_http") == null);
    await().atMost(WAIT).until(() -> service(ns, "internal-archway") == null);
  }

  @Test
  void aGatewayClassNotAcceptedStopsServingItsGatewaysUntilItIs() throws Exception {
    var ns = namespace();
    var accepted =
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: archway-flip}
        spec: {controllerName: archway.io/gateway-controller}
        """;
    gatewayClass(accepted);
    apply(ns, Gateway.class, GATEWAY.replace("archway-it", "archway-flip"));
    awaitListener(ns, "edge", "http", "Programmed", "True", "Programmed");
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, ns + "_edge_http") != null);

    gatewayClass(
        accepted.replace(
            "spec: {controllerName: archway.io/gateway-controller}",
            "spec:\n  controllerName: archway.io/gateway-controller\n  parametersRef: {group:"
                + " archway.io, kind: GatewayParameters, name: nowhere, namespace: "
                + ns
                + "}"));
    awaitGateway(ns, "edge", "Accepted", "False", "Invalid");
    awaitGateway(ns, "edge", "Programmed", "False", "Invalid");
    assertThat(gatewayCondition(ns, "edge", "Accepted").getMessage())
        .contains("GatewayClass archway-flip is not accepted")
        .contains("InvalidParameters");
    awaitListener(ns, "edge", "http", "Programmed", "False", "Invalid");
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, ns + "_edge_http") == null);

    // Accepted again: served again.
    gatewayClass(accepted);
    awaitGateway(ns, "edge", "Accepted", "True", "Accepted");
    awaitListener(ns, "edge", "http", "Programmed", "True", "Programmed");
    await().atMost(WAIT).until(() -> etcdValue(Kind.LISTENERS, ns + "_edge_http") != null);
  }
}
