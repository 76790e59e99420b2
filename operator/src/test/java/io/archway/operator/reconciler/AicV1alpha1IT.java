package io.archway.operator.reconciler;

import static io.archway.operator.testing.KubeMock.condition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.crds.apisix.v1alpha1.BackendTrafficPolicy;
import io.archway.crds.apisix.v1alpha1.Consumer;
import io.archway.crds.apisix.v1alpha1.GatewayProxy;
import io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy;
import io.archway.crds.apisix.v1alpha1.L4RoutePolicy;
import io.archway.crds.apisix.v1alpha1.PluginConfig;
import io.archway.model.Kind;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.testing.KubeMock;
import io.etcd.jetcd.Client;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The APISIX Ingress Controller 2.x kinds ({@code apisix.apache.org/v1alpha1}) through the
 * operator, against fabric8's mock API server in CRUD mode (it stands in for the Kubernetes API
 * server, which cannot run here) and a real etcd: what each writes, what its policies change on the
 * resources they target when they change, and the refusals.
 */
class AicV1alpha1IT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger NS = new AtomicInteger();

  static KubeMock kube;
  static KubernetesClient client;
  static ArchwayOperator operator;
  static EtcdConfigSink sink;
  static Client etcdClient;

  @BeforeAll
  static void start() {
    kube = new KubeMock();
    client = kube.client();
    etcdClient = Client.builder().endpoints(etcd.endpoint()).build();
    sink = new EtcdConfigSink(etcdClient, "/aic", Duration.ofSeconds(3));
    client
        .resource(
            Serialization.unmarshal(
                """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: archway}
                spec: {controller: archway.io/ingress-controller}
                """,
                IngressClass.class))
        .create();
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
  }

  @AfterAll
  static void stop() {
    operator.close();
    sink.close();
    kube.close();
  }

  private static String namespace() {
    var ns = "a" + NS.incrementAndGet();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    return ns;
  }

  private static <T extends HasMetadata> T apply(String ns, Class<T> type, String yaml) {
    var r = Serialization.unmarshal(yaml.replace("web.example.com", ns + ".example.com"), type);
    r.getMetadata().setNamespace(ns);
    return client.resource(r).inNamespace(ns).createOr(existing -> existing.update());
  }

  private static <T extends HasMetadata> T get(Class<T> type, String ns, String name) {
    return client.resources(type).inNamespace(ns).withName(name).get();
  }

  private static void awaitCondition(
      Class<? extends HasMetadata> type,
      String ns,
      String name,
      String cond,
      String status,
      String messagePart) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var r = get(type, ns, name);
              var c = condition(r, cond);
              assertThat(c).as(cond + " of " + ns + "/" + name).isPresent();
              assertThat(c.get().getStatus()).as(c.get().getMessage()).isEqualTo(status);
              assertThat(c.get().getMessage()).contains(messagePart);
              assertThat(c.get().getObservedGeneration())
                  .isEqualTo(r.getMetadata().getGeneration());
            });
  }

  private static String etcdValue(Kind kind, String id) throws Exception {
    return sink.get(kind, id).map(i -> i.value().toString()).orElse(null);
  }

  private static void service(String ns, String name) {
    apply(
        ns,
        Service.class,
        "apiVersion: v1\nkind: Service\nmetadata: {name: "
            + name
            + "}\nspec: {clusterIP: 10.96.0.9, ports: [{name: http, port: 80}]}\n");
  }

  private static void ingress(String ns, String service) {
    apply(
        ns,
        Ingress.class,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: site}\nspec:\n"
            + "  ingressClassName: archway\n  rules:\n  - host: web.example.com\n    http:\n"
            + "      paths: [{path: /, pathType: Exact, backend: {service: {name: "
            + service
            + ", port: {number: 80}}}}]\n");
  }

  /** The one route of the Ingress {@code site}: its id is a hash of host, path and type. */
  private static String route(String ns) throws Exception {
    var items = sink.listByOwner(new Owner("Ingress", ns, "site", "any"));
    return items.size() == 1 ? items.get(0).value().toString() : null;
  }

  @Test
  void pluginConfigIsWrittenUpdatedAndDeleted() throws Exception {
    var ns = namespace();
    var yaml =
        "apiVersion: apisix.apache.org/v1alpha1\nkind: PluginConfig\nmetadata: {name: cors}\n"
            + "spec: {plugins: [{name: cors, config: {allow_origins: \"https://a.example\"}}]}\n";
    apply(ns, PluginConfig.class, yaml);
    var id = "pc_" + ns + "_cors";
    awaitCondition(PluginConfig.class, ns, "cors", "Programmed", "True", "1 key(s) in etcd");
    var stored = sink.get(Kind.PLUGIN_CONFIGS, id).orElseThrow();
    assertThat(stored.owner())
        .isEqualTo(new Owner("PluginConfig", ns, "cors", stored.owner().uid()));
    assertThat(stored.value().toString()).contains("https://a.example");

    apply(ns, PluginConfig.class, yaml.replace("https://a.example", "https://b.example"));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(etcdValue(Kind.PLUGIN_CONFIGS, id)).contains("https://b.example"));

    apply(ns, PluginConfig.class, yaml.replace("name: cors,", "name: no-such-plugin,"));
    awaitCondition(
        PluginConfig.class,
        ns,
        "cors",
        "Accepted",
        "False",
        "spec.plugins[0].name: unknown plugin \"no-such-plugin\"");
    // What it wrote before stays served.
    assertThat(etcdValue(Kind.PLUGIN_CONFIGS, id)).contains("https://b.example");

    client.resources(PluginConfig.class).inNamespace(ns).withName("cors").delete();
    await().atMost(WAIT).until(() -> etcdValue(Kind.PLUGIN_CONFIGS, id) == null);
  }

  @Test
  void consumerAndItsCredentialsFollowTheirSecret() throws Exception {
    var ns = namespace();
    apply(
        ns,
        Secret.class,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: jack-basic}\n"
            + "stringData: {username: jack, password: one}\n");
    apply(
        ns,
        Consumer.class,
        """
        apiVersion: apisix.apache.org/v1alpha1
        kind: Consumer
        metadata: {name: jack}
        spec:
          gatewayRef: {name: apisix}
          credentials:
          - {type: key-auth, name: k1, config: {key: jack-key}}
          - {type: basic-auth, name: b1, secretRef: {name: jack-basic}}
        """);
    var user = ns + "_jack";
    awaitCondition(Consumer.class, ns, "jack", "Programmed", "True", "3 key(s) in etcd");
    awaitCondition(Consumer.class, ns, "jack", "Accepted", "True", "spec.gatewayRef");
    assertThat(etcdValue(Kind.CONSUMERS, user)).isNotNull();
    assertThat(etcdValue(Kind.CREDENTIALS, user + "/credentials/k1")).contains("jack-key");
    assertThat(etcdValue(Kind.CREDENTIALS, user + "/credentials/b1")).contains("\"one\"");

    apply(
        ns,
        Secret.class,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: jack-basic}\n"
            + "stringData: {username: jack, password: two}\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.CREDENTIALS, user + "/credentials/b1"))
                    .contains("\"two\""));

    client.resources(Consumer.class).inNamespace(ns).withName("jack").delete();
    await()
        .atMost(WAIT)
        .until(
            () ->
                etcdValue(Kind.CONSUMERS, user) == null
                    && etcdValue(Kind.CREDENTIALS, user + "/credentials/k1") == null);
  }

  @Test
  void gatewayProxyIsActedOnWhileAnIngressClassOfOursNamesIt() throws Exception {
    var ns = namespace();
    apply(
        ns,
        GatewayProxy.class,
        """
        apiVersion: apisix.apache.org/v1alpha1
        kind: GatewayProxy
        metadata: {name: proxy}
        spec:
          provider:
            type: ControlPlane
            controlPlane:
              endpoints: [http://apisix-admin:9180]
              auth: {type: AdminKey, adminKey: {value: k}}
          plugins:
          - {name: prometheus, enabled: true}
          pluginMetadata:
            http-logger: {log_format: {host: "$host"}}
        """);
    var rule = "gp_" + ns + "_proxy";
    // No IngressClass of ours names it yet: nothing written, and said so.
    awaitCondition(GatewayProxy.class, ns, "proxy", "Accepted", "True", "no IngressClass of");
    assertThat(etcdValue(Kind.GLOBAL_RULES, rule)).isNull();

    var classYaml =
        "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: archway-"
            + ns
            + "}\nspec:\n  controller: archway.io/ingress-controller\n"
            + "  parameters: {apiGroup: apisix.apache.org, kind: GatewayProxy, name: proxy,"
            + " namespace: "
            + ns
            + ", scope: Namespace}\n";
    client.resource(Serialization.unmarshal(classYaml, IngressClass.class)).create();
    awaitCondition(GatewayProxy.class, ns, "proxy", "Programmed", "True", "2 key(s) in etcd");
    awaitCondition(GatewayProxy.class, ns, "proxy", "Accepted", "True", "spec.provider: not used");
    assertThat(etcdValue(Kind.GLOBAL_RULES, rule)).contains("prometheus");
    var metadata = sink.get(Kind.PLUGIN_METADATA, "http-logger").orElseThrow();
    assertThat(metadata.owner())
        .isEqualTo(new Owner("GatewayProxy", ns, "proxy", metadata.owner().uid()));
    assertThat(metadata.value().toString()).contains("$host");

    client.resources(IngressClass.class).withName("archway-" + ns).delete();
    await()
        .atMost(WAIT)
        .until(
            () ->
                etcdValue(Kind.GLOBAL_RULES, rule) == null
                    && etcdValue(Kind.PLUGIN_METADATA, "http-logger") == null);
  }

  @Test
  void backendTrafficPolicyReachesTheRoutesOfItsServicesAndLeavesThemWhenRetargeted()
      throws Exception {
    var ns = namespace();
    service(ns, "web");
    service(ns, "other");
    ingress(ns, "web");
    await().atMost(WAIT).untilAsserted(() -> assertThat(route(ns)).isNotNull());
    assertThat(route(ns)).doesNotContain("retries");

    var policy =
        "apiVersion: apisix.apache.org/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {name: p}\n"
            + "spec: {targetRefs: [{name: web, kind: Service, group: \"\"}], retries: 4,"
            + " loadbalancer: {type: least_conn}}\n";
    apply(ns, BackendTrafficPolicy.class, policy);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(route(ns)).contains("\"retries\":4").contains("least_conn"));
    awaitCondition(
        BackendTrafficPolicy.class, ns, "p", "Programmed", "True", "written with the routes");

    // Retargeted: the Service it no longer names loses its settings.
    apply(ns, BackendTrafficPolicy.class, policy.replace("name: web,", "name: other,"));
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(route(ns)).isNotNull().doesNotContain("retries"));

    apply(ns, BackendTrafficPolicy.class, policy.replace("retries: 4", "retries: -1"));
    awaitCondition(
        BackendTrafficPolicy.class,
        ns,
        "p",
        "Accepted",
        "False",
        "spec.retries: -1 (expected: >= 0)");
  }

  @Test
  void httpRoutePolicyGivesItsIngressPriorityAndVarsUntilItGoes() throws Exception {
    var ns = namespace();
    service(ns, "web");
    ingress(ns, "web");
    await().atMost(WAIT).untilAsserted(() -> assertThat(route(ns)).isNotNull());
    apply(
        ns,
        HTTPRoutePolicy.class,
        "apiVersion: apisix.apache.org/v1alpha1\nkind: HTTPRoutePolicy\nmetadata: {name: p}\n"
            + "spec:\n  targetRefs: [{group: networking.k8s.io, kind: Ingress, name: site}]\n"
            + "  priority: 7\n  vars: [[http_x_canary, \"==\", \"1\"]]\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(route(ns)).contains("\"priority\":7").contains("http_x_canary"));
    awaitCondition(HTTPRoutePolicy.class, ns, "p", "Accepted", "True", "valid");

    client.resources(HTTPRoutePolicy.class).inNamespace(ns).withName("p").delete();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(route(ns))
                    .isNotNull()
                    .doesNotContain("priority")
                    .doesNotContain("canary"));
  }

  @Test
  void l4RoutePolicyIsRefusedWithItsReason() {
    var ns = namespace();
    apply(
        ns,
        L4RoutePolicy.class,
        "apiVersion: apisix.apache.org/v1alpha1\nkind: L4RoutePolicy\nmetadata: {name: tcp}\n"
            + "spec: {targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: db}],"
            + " plugins: [{name: proxy-rewrite, config: {uri: /x}}]}\n");
    awaitCondition(L4RoutePolicy.class, ns, "tcp", "Accepted", "False", "is not a stream plugin");
  }
}
