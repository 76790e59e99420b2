package io.archway.operator.reconciler;

import static io.archway.operator.testing.KubeMock.condition;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.archway.model.UpstreamNode;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.registry.Registries;
import io.archway.operator.registry.ZooKeeperRegistry;
import io.archway.operator.testing.KubeMock;
import io.etcd.jetcd.Client;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Control-plane discovery from ZooKeeper, end to end on the operator's side: a real ZooKeeper
 * server (in this JVM, Curator's TestingServer), a real etcd, and fabric8's mock API server in CRUD
 * mode standing in for Kubernetes (no kube-apiserver can run here). The route written into etcd is
 * read back with the model the dataplane compiles from, so what is asserted is what a dataplane
 * serves.
 */
class RegistryIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Duration WAIT = Duration.ofSeconds(30);

  static TestingServer zookeeper;
  static CuratorFramework zk;
  static KubeMock kube;
  static KubernetesClient client;
  static ArchwayOperator operator;
  static Registries registries;
  static EtcdConfigSink sink;

  @BeforeAll
  static void start() throws Exception {
    zookeeper = new TestingServer(true);
    zk = CuratorFrameworkFactory.newClient(zookeeper.getConnectString(), new RetryOneTime(100));
    zk.start();
    kube = new KubeMock();
    client = kube.client();
    sink =
        new EtcdConfigSink(
            Client.builder().endpoints(etcd.endpoint()).build(), "/it", Duration.ofSeconds(3));
    registries =
        new Registries(
            List.of(
                new ZooKeeperRegistry(
                    new ZooKeeperRegistry.Settings(
                        zookeeper.getConnectString(),
                        "/zookeeper",
                        Duration.ofSeconds(4),
                        Duration.ofSeconds(1),
                        100))),
            new Registries.Settings(
                Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(1)));
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName("shop").endMetadata().build())
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
                io.archway.operator.translate.Refs.ControlPlaneDiscovery.OFF),
            io.archway.operator.translate.GatewayServiceTranslator.Dataplane.DEFAULT,
            registries);
    operator.start();
  }

  @AfterAll
  static void stop() throws Exception {
    operator.close();
    registries.close();
    sink.close();
    kube.close();
    zk.close();
    zookeeper.close();
  }

  private static <T extends HasMetadata> void apply(Class<T> type, String yaml) {
    var r = Serialization.unmarshal(yaml, type);
    r.getMetadata().setNamespace("shop");
    client.resource(r).inNamespace("shop").createOr(existing -> existing.update());
  }

  private static String upstream(String name, String service) {
    return "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\nmetadata: {name: "
        + name
        + "}\nspec: {discovery: {type: zookeeper, serviceName: "
        + service
        + "}}\n";
  }

  private static String route(String name, String upstream) {
    return "apiVersion: apisix.apache.org/v2\nkind: ApisixRoute\nmetadata: {name: "
        + name
        + "}\nspec:\n  http:\n  - name: main\n    match: {hosts: ["
        + name
        + ".example.com], paths: [/*]}\n    upstreams: [{name: "
        + upstream
        + "}]\n";
  }

  /** The nodes of the route's upstream as the dataplane reads them from etcd. */
  private static List<UpstreamNode> servedNodes(String id) throws Exception {
    var item = sink.get(Kind.ROUTES, id).orElse(null);
    if (item == null) {
      return null;
    }
    var route = (Route) ModelJson.read(Kind.ROUTES, item.value(), id, "routes/" + id);
    return route.upstream().nodes().nodes();
  }

  private static void awaitAccepted(String name, String status, String messagePart) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var c =
                  condition(
                      client
                          .resources(ApisixUpstream.class)
                          .inNamespace("shop")
                          .withName(name)
                          .get(),
                      "Accepted");
              assertThat(c).isPresent();
              assertThat(c.get().getStatus()).as(c.get().getMessage()).isEqualTo(status);
              assertThat(c.get().getMessage()).contains(messagePart);
            });
  }

  @Test
  void nodesRegisteredInZooKeeperAreWrittenIntoEtcdAndFollowIt() throws Exception {
    zk.create()
        .creatingParentsIfNeeded()
        .forPath(
            "/zookeeper/APISIX-ZK",
            "[{\"host\":\"10.0.0.1\",\"port\":1980,\"weight\":100}]".getBytes(UTF_8));
    apply(ApisixUpstream.class, upstream("partner", "APISIX-ZK"));
    apply(ApisixRoute.class, route("web", "partner"));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(servedNodes("ar_shop_web_main"))
                    .containsExactly(new UpstreamNode("10.0.0.1", 1980, 100, null, null)));
    var value = sink.get(Kind.ROUTES, "ar_shop_web_main").orElseThrow().value();
    // apisix-seed's marks: where the nodes come from.
    assertThat(value.at("/upstream/_discovery_type").asText()).isEqualTo("zookeeper");
    assertThat(value.at("/upstream/_service_name").asText()).isEqualTo("APISIX-ZK");
    assertThat(value.at("/upstream/service_name").isMissingNode()).isTrue();
    awaitAccepted("partner", "True", "");

    // A new instance: written after the add delay.
    zk.setData()
        .forPath(
            "/zookeeper/APISIX-ZK",
            "[{\"host\":\"10.0.0.1\",\"port\":1980},{\"host\":\"10.0.0.2\",\"port\":1980,\"weight\":5}]"
                .getBytes(UTF_8));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(servedNodes("ar_shop_web_main"))
                    .containsExactly(
                        new UpstreamNode("10.0.0.1", 1980, 100, null, null),
                        new UpstreamNode("10.0.0.2", 1980, 5, null, null)));

    // ZooKeeper goes away: the written nodes stay; a service never seen is refused, naming why.
    zookeeper.stop();
    apply(ApisixUpstream.class, upstream("other", "OTHER"));
    awaitAccepted("other", "False", "zookeeper");
    assertThat(servedNodes("ar_shop_web_main")).hasSize(2);

    // Back: the new service answers (no nodes yet: written empty, with a warning).
    zookeeper.restart();
    awaitAccepted("other", "True", "");
    assertThat(operator.metrics().render())
        .contains("archway_operator_registry_updates_total{registry=\"zookeeper\"}")
        .contains("archway_operator_registry_errors_total{registry=\"zookeeper\"}");
  }
}
