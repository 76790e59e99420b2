package io.archway.operator.reconciler;

import static io.archway.operator.testing.KubeMock.condition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.crds.apisix.ApisixRoute;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.testing.KubeMock;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Operator start-up and replicas: keys of resources deleted while no operator ran are removed (keys
 * without Archway's label are never touched), and of two replicas under leader election only the
 * leader writes; when it stops, the other takes over with no write lost or repeated.
 */
class OperatorLifecycleIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Duration WAIT = Duration.ofSeconds(30);

  KubeMock kube;
  KubernetesClient client;
  Client etcdClient;
  EtcdConfigSink sink;

  @BeforeEach
  void start() {
    kube = new KubeMock();
    client = kube.client();
    etcdClient = Client.builder().endpoints(etcd.endpoint()).build();
    client
        .resource(
            Serialization.unmarshal(
                "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n",
                Service.class))
        .create();
  }

  @AfterEach
  void stop() {
    kube.close();
    etcdClient.close();
  }

  private static ApisixRoute route(String name, String path) {
    return Serialization.unmarshal(
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixRoute
        metadata: {name: NAME, namespace: default}
        spec:
          http:
          - name: r
            match: {paths: [PATH]}
            backends: [{serviceName: web, servicePort: 80}]
        """
            .replace("NAME", name)
            .replace("PATH", path),
        ApisixRoute.class);
  }

  private ArchwayOperator operator(
      KubernetesClient c, EtcdConfigSink s, String identity, boolean lease) {
    return new ArchwayOperator(
        c,
        s,
        new ArchwayOperator.Settings(
            java.util.Set.of("default", "extra"),
            "archway",
            null,
            lease ? "archway-operator" : null,
            "default",
            identity,
            Duration.ofSeconds(3),
            io.archway.operator.translate.Refs.ControlPlaneDiscovery.OFF));
  }

  private void awaitProgrammed(String name) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        condition(
                                client
                                    .resources(ApisixRoute.class)
                                    .inNamespace("default")
                                    .withName(name)
                                    .get(),
                                "Programmed")
                            .map(c -> c.getStatus()))
                    .contains("True"));
  }

  @Test
  void keysOfResourcesDeletedWhileNoOperatorRanAreRemovedOthersAreNot() throws Exception {
    var prefix = "/orphans";
    sink = new EtcdConfigSink(etcdClient, prefix, Duration.ofSeconds(5));
    // What an earlier operator left: a route of a resource that is gone, and one of a live
    // resource.
    var ghost =
        (Route)
            ModelJson.read(
                Kind.ROUTES,
                ModelJson.mapper()
                    .readTree(
                        "{\"id\":\"ar_default_ghost_r\",\"uri\":\"/ghost\",\"upstream\":{\"nodes\":{\"10.0.0.1:80\":1}}}"),
                "ar_default_ghost_r",
                "ghost");
    sink.putIfChanged(Kind.ROUTES, ghost, new Owner("ApisixRoute", "default", "ghost", "u1"));
    client.resource(route("live", "/live")).create();
    var live =
        (Route)
            ModelJson.read(
                Kind.ROUTES,
                ModelJson.mapper()
                    .readTree(
                        "{\"id\":\"ar_default_live_r\",\"uri\":\"/live\",\"upstream\":{\"nodes\":{\"10.0.0.1:80\":1}}}"),
                "ar_default_live_r",
                "live");
    sink.putIfChanged(Kind.ROUTES, live, new Owner("ApisixRoute", "default", "live", "u2"));
    // Written for a namespace this operator does not watch: another operator's to judge.
    var elsewhere =
        (Route)
            ModelJson.read(
                Kind.ROUTES,
                ModelJson.mapper()
                    .readTree(
                        "{\"id\":\"ar_elsewhere_x_r\",\"uri\":\"/x\",\"upstream\":{\"nodes\":{\"10.0.0.1:80\":1}}}"),
                "ar_elsewhere_x_r",
                "x");
    sink.putIfChanged(Kind.ROUTES, elsewhere, new Owner("ApisixRoute", "elsewhere", "x", "u3"));
    // Written by someone else (APISIX's Admin API, say): no labels, never ours to remove.
    var foreignKey = Keys.of(prefix).key(Kind.ROUTES, "admin-api-route");
    etcdClient
        .getKVClient()
        .put(
            bytes(foreignKey),
            bytes(
                "{\"id\":\"admin-api-route\",\"uri\":\"/admin\",\"upstream\":{\"nodes\":{\"10.0.0.2:80\":1}}}"))
        .get();

    try (var op = operator(kube.newClient(), sink, "solo", false)) {
      op.start();
      awaitProgrammed("live");
      await().atMost(WAIT).until(() -> sink.get(Kind.ROUTES, "ar_default_ghost_r").isEmpty());
      assertThat(
              sink.get(Kind.ROUTES, "ar_default_live_r")
                  .orElseThrow()
                  .value()
                  .get("upstream")
                  .get("service_name")
                  .asText())
          .isEqualTo("default/web:80");
      assertThat(etcdClient.getKVClient().get(bytes(foreignKey)).get().getKvs()).hasSize(1);
      assertThat(sink.get(Kind.ROUTES, "ar_elsewhere_x_r")).isPresent();
    }
  }

  @Test
  void onlyTheLeaderWritesAndTheOtherReplicaTakesOverWhenItStops() throws Exception {
    var sinkA =
        new EtcdConfigSink(
            Client.builder().endpoints(etcd.endpoint()).build(), "/leader", Duration.ofSeconds(5));
    var sinkB =
        new EtcdConfigSink(
            Client.builder().endpoints(etcd.endpoint()).build(), "/leader", Duration.ofSeconds(5));
    sink = new EtcdConfigSink(etcdClient, "/leader", Duration.ofSeconds(5));
    var a = operator(kube.newClient(), sinkA, "replica-a", true);
    var b = operator(kube.newClient(), sinkB, "replica-b", true);
    try {
      a.start();
      await().atMost(WAIT).until(a::leader);
      b.start();
      client.resource(route("one", "/one")).create();
      awaitProgrammed("one");
      var first = sink.get(Kind.ROUTES, "ar_default_one_r").orElseThrow();
      assertThat(b.leader()).isFalse();
      assertThat(b.metrics().render())
          .doesNotContain("archway_operator_reconciles_total{kind=\"ApisixRoute\"");

      a.close();
      client.resource(route("two", "/two")).create();
      await().atMost(WAIT).until(b::leader);
      awaitProgrammed("two");
      // The new leader re-reconciles what it finds; an unchanged value is not written again.
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(b.metrics().render())
                      .contains(
                          "archway_operator_reconciles_total{kind=\"ApisixRoute\",result=\"ok\"} "));
      assertThat(sink.get(Kind.ROUTES, "ar_default_one_r").orElseThrow().modRevision())
          .isEqualTo(first.modRevision());
      assertThat(sink.listManaged())
          .extracting(i -> i.key().toString())
          .containsExactlyInAnyOrder("routes/ar_default_one_r", "routes/ar_default_two_r");
    } finally {
      a.close();
      b.close();
      sinkA.close();
      sinkB.close();
    }
  }

  @Test
  void aLeaderThatLosesItsLeaseStopsWritingAtOnce() throws Exception {
    var sinkA =
        new EtcdConfigSink(
            Client.builder().endpoints(etcd.endpoint()).build(), "/lost", Duration.ofSeconds(5));
    sink = new EtcdConfigSink(etcdClient, "/lost", Duration.ofSeconds(5));
    var a = operator(kube.newClient(), sinkA, "replica-a", true);
    var lost = new java.util.concurrent.atomic.AtomicBoolean();
    a.onLostLeadership(() -> lost.set(true));
    try {
      a.start();
      await().atMost(WAIT).until(a::leader);
      client.resource(route("one", "/one")).create();
      awaitProgrammed("one");

      // Another holder takes the Lease (as after a partition, or a pause longer than the lease):
      // the framework alone would go on reconciling; this replica must not write any more.
      // (Retried: the leader's own renewals make an edit conflict now and then.)
      await()
          .atMost(WAIT)
          .ignoreExceptions()
          .until(
              () ->
                  client
                          .resources(io.fabric8.kubernetes.api.model.coordination.v1.Lease.class)
                          .inNamespace("default")
                          .withName("archway-operator")
                          .edit(
                              l -> {
                                l.getSpec().setHolderIdentity("replica-z");
                                l.getSpec().setLeaseDurationSeconds(3600);
                                l.getSpec().setRenewTime(java.time.ZonedDateTime.now());
                                return l;
                              })
                      != null);
      await().atMost(WAIT).until(lost::get);
      assertThat(a.leader()).isFalse();
      client.resource(route("two", "/two")).create();
      client.resource(route("one", "/one-changed")).createOr(e -> e.update());
      // Give a (wrong) write every chance to land before looking.
      await()
          .during(Duration.ofSeconds(3))
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(sink.listManaged())
                      .extracting(i -> i.key().toString())
                      .containsExactly("routes/ar_default_one_r"));
      assertThat(sink.get(Kind.ROUTES, "ar_default_one_r").orElseThrow().value().toString())
          .doesNotContain("/one-changed");
    } finally {
      a.close();
      sinkA.close();
    }
  }

  @Test
  void anApisixUpstreamBeingDeletedNoLongerShapesItsRoutes() throws Exception {
    sink = new EtcdConfigSink(etcdClient, "/deleting", Duration.ofSeconds(5));
    var upstreams =
        client.resources(io.archway.crds.apisix.ApisixUpstream.class).inNamespace("default");
    // Another controller's finalizer holds it in the deleting state.
    upstreams
        .resource(
            Serialization.unmarshal(
                "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\n"
                    + "metadata: {name: web, namespace: default, finalizers: [example.com/hold]}\n"
                    + "spec: {retries: 3}\n",
                io.archway.crds.apisix.ApisixUpstream.class))
        .create();
    var a = operator(kube.newClient(), sink, "replica-a", false);
    try {
      a.start();
      client.resource(route("one", "/one")).create();
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(sink.get(Kind.ROUTES, "ar_default_one_r"))
                      .hasValueSatisfying(
                          i ->
                              assertThat(i.value().path("upstream").path("retries").asInt())
                                  .isEqualTo(3)));

      upstreams.withName("web").delete();
      assertThat(upstreams.withName("web").get().getMetadata().getDeletionTimestamp()).isNotNull();
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(
                          sink.get(Kind.ROUTES, "ar_default_one_r")
                              .orElseThrow()
                              .value()
                              .path("upstream")
                              .has("retries"))
                      .isFalse());
    } finally {
      a.close();
    }
  }

  /**
   * The delete race: a route goes without its finalizer (taken off by an update, as a {@code
   * kubectl replace} of a manifest without it does, then deleted at once) while its reconcile is
   * writing to etcd. The framework runs no cleanup for a resource that is gone, and the reconcile
   * in flight writes after the delete: the key stayed until the operator's next start. The
   * informer's delete now removes the keys of that incarnation once the reconcile is done.
   */
  @Test
  void aRouteThatGoesWithoutItsFinalizerWhileItsReconcileWritesLeavesNoKey() throws Exception {
    sink = new EtcdConfigSink(etcdClient, "/race", Duration.ofSeconds(5));
    // The operator's own client waits longer than etcd stays paused here.
    var operatorSink =
        new EtcdConfigSink(
            Client.builder().endpoints(etcd.endpoint()).build(), "/race", Duration.ofSeconds(60));
    var routes = client.resources(ApisixRoute.class).inNamespace("default");
    try (var op = operator(kube.newClient(), operatorSink, "solo", false)) {
      op.start();
      client.resource(route("keep", "/keep")).create();
      client.resource(route("race", "/one")).create();
      awaitProgrammed("keep");
      awaitProgrammed("race");
      assertThat(routes.withName("race").get().getMetadata().getFinalizers()).isNotEmpty();

      etcd.server().pause();
      try {
        routes.resource(route("race", "/two")).update();
        // Its reconcile is under way, waiting for etcd. (Not "one reconcile in progress": the
        // other route may be reconciled again at the same time, and wait for etcd as well.)
        await()
            .atMost(WAIT)
            .until(
                () ->
                    op.metrics()
                        .reconciling(
                            "ApisixRoute",
                            new io.javaoperatorsdk.operator.processing.event.ResourceID(
                                "race", "default")));
        routes
            .withName("race")
            .edit(
                r -> {
                  r.getMetadata().setFinalizers(java.util.List.of());
                  return r;
                });
        routes.withName("race").delete();
        await().atMost(WAIT).until(() -> routes.withName("race").get() == null);
      } finally {
        etcd.server().resume();
      }

      await().atMost(WAIT).until(() -> sink.get(Kind.ROUTES, "ar_default_race_r").isEmpty());
      // Its status patch found nothing: not an etcd failure, nothing to retry.
      assertThat(op.metrics().render()).doesNotContain("archway_operator_etcd_errors_total");
      // Only that route's key: the other's stays, and nothing comes back.
      await()
          .during(Duration.ofSeconds(2))
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(sink.listManaged())
                      .extracting(i -> i.key().toString())
                      .containsExactly("routes/ar_default_keep_r"));

      // The same name created again is written again.
      client.resource(route("race", "/three")).create();
      awaitProgrammed("race");
      assertThat(sink.get(Kind.ROUTES, "ar_default_race_r").orElseThrow().value().toString())
          .contains("/three");
    } finally {
      operatorSink.close();
    }
  }

  /**
   * An update that drops the operator's finalizer ({@code kubectl replace} of a manifest written
   * before the operator added it) gets it back at once, so the route's deletion runs the cleanup.
   */
  @Test
  void aReplaceThatDropsTheFinalizerGetsItBack() throws Exception {
    sink = new EtcdConfigSink(etcdClient, "/replace", Duration.ofSeconds(5));
    var routes = client.resources(ApisixRoute.class).inNamespace("default");
    try (var op = operator(kube.newClient(), sink, "solo", false)) {
      op.start();
      client.resource(route("web", "/web")).create();
      awaitProgrammed("web");
      var finalizers = routes.withName("web").get().getMetadata().getFinalizers();
      assertThat(finalizers).isNotEmpty();

      // The manifest as first applied: same spec, no finalizer.
      var replaced = route("web", "/web");
      replaced.getMetadata().setResourceVersion(null);
      routes.resource(replaced).update();

      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(routes.withName("web").get().getMetadata().getFinalizers())
                      .containsExactlyElementsOf(finalizers));
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
