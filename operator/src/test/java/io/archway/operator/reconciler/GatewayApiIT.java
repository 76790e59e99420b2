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
}
