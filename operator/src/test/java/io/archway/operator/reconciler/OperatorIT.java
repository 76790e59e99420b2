package io.archway.operator.reconciler;

import static io.archway.operator.testing.KubeMock.condition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.archway.PluginFlow;
import io.archway.crds.archway.StreamRoute;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdExtension;
import io.archway.operator.testing.KubeMock;
import io.etcd.jetcd.Client;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator against fabric8's mock API server (CRUD mode) and a real etcd: each kind created,
 * updated and deleted; references followed; each bad input refused with a precise status while the
 * others keep working; an etcd outage reported and recovered from.
 */
class OperatorIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger NS = new AtomicInteger();

  static KubeMock kube;
  static KubernetesClient client;
  static ArchwayOperator operator;
  static EtcdConfigSink sink;
  static Client etcdClient;
  static org.apache.curator.test.TestingServer zookeeper;
  static org.apache.curator.framework.CuratorFramework zk;
  static io.archway.operator.registry.Registries registries;

  @BeforeAll
  static void start() throws Exception {
    // A real ZooKeeper server in this JVM, for control-plane discovery from a registry.
    zookeeper = new org.apache.curator.test.TestingServer(true);
    zk =
        org.apache.curator.framework.CuratorFrameworkFactory.newClient(
            zookeeper.getConnectString(), new org.apache.curator.retry.RetryOneTime(100));
    zk.start();
    registries =
        new io.archway.operator.registry.Registries(
            java.util.List.of(
                new io.archway.operator.registry.ZooKeeperRegistry(
                    new io.archway.operator.registry.ZooKeeperRegistry.Settings(
                        zookeeper.getConnectString(),
                        "/zookeeper",
                        Duration.ofSeconds(4),
                        Duration.ofSeconds(1),
                        100))),
            new io.archway.operator.registry.Registries.Settings(
                Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(1)));
    kube = new KubeMock();
    client = kube.client();
    etcdClient = Client.builder().endpoints(etcd.endpoint()).build();
    sink = new EtcdConfigSink(etcdClient, "/it", Duration.ofSeconds(3));
    client
        .resource(
            Serialization.unmarshal(
                """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: archway}
                spec: {controller: archway.io/ingress-controller}
                """,
                io.fabric8.kubernetes.api.model.networking.v1.IngressClass.class))
        .create();
    operator =
        new ArchwayOperator(
            client,
            sink,
            new ArchwayOperator.Settings(
                java.util.Set.of(),
                "archway",
                "default/archway-gateway",
                null,
                null,
                "it",
                Duration.ofSeconds(5),
                io.archway.operator.translate.Refs.ControlPlaneDiscovery.MARKED),
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

  private static String namespace() {
    var ns = "t" + NS.incrementAndGet();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    return ns;
  }

  private static <T extends HasMetadata> T apply(String ns, Class<T> type, String yaml) {
    // Hosts are per namespace: the same host and path in two namespaces would conflict.
    var r = Serialization.unmarshal(yaml.replace("web.example.com", ns + ".example.com"), type);
    r.getMetadata().setNamespace(ns);
    return client.resource(r).inNamespace(ns).createOr(existing -> existing.update());
  }

  private static Service service(String ns, String name, String ports) {
    return apply(
        ns,
        Service.class,
        "apiVersion: v1\nkind: Service\nmetadata: {name: "
            + name
            + "}\nspec: {clusterIP: 10.96.0.9, ports: "
            + ports
            + "}\n");
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

  private static final String ROUTE =
      """
      apiVersion: apisix.apache.org/v2
      kind: ApisixRoute
      metadata: {name: web}
      spec:
        http:
        - name: main
          match: {hosts: [web.example.com], paths: [/*]}
          backends: [{serviceName: web, servicePort: 80}]
      """;

  @Test
  void apisixRouteIsWrittenUpdatedAndDeletedWithItsOwnerLabels() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80}]");
    apply(ns, ApisixRoute.class, ROUTE);
    var id = "ar_" + ns + "_web_main";
    awaitCondition(ApisixRoute.class, ns, "web", "Programmed", "True", "1 key(s) in etcd");
    awaitCondition(ApisixRoute.class, ns, "web", "Accepted", "True", "valid");
    var stored = sink.get(Kind.ROUTES, id).orElseThrow();
    assertThat(stored.owner()).isEqualTo(new Owner("ApisixRoute", ns, "web", stored.owner().uid()));
    assertThat(stored.value().get("upstream").get("service_name").asText())
        .isEqualTo(ns + "/web:80");
    assertThat(get(ApisixRoute.class, ns, "web").getMetadata().getFinalizers()).isNotEmpty();

    // Rename the rule and add a path: the old key goes, the new one comes.
    apply(
        ns,
        ApisixRoute.class,
        ROUTE.replace("name: main", "name: front").replace("paths: [/*]", "paths: [/*, /x]"));
    await()
        .atMost(WAIT)
        .until(
            () ->
                etcdValue(Kind.ROUTES, "ar_" + ns + "_web_front") != null
                    && etcdValue(Kind.ROUTES, id) == null);
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_front")).contains("/x");

    client.resources(ApisixRoute.class).inNamespace(ns).withName("web").delete();
    await()
        .atMost(WAIT)
        .until(
            () ->
                etcdValue(Kind.ROUTES, "ar_" + ns + "_web_front") == null
                    && get(ApisixRoute.class, ns, "web") == null);
  }

  @Test
  void aMissingServiceIsReportedAndTheRouteProgrammedOnceItExists() throws Exception {
    var ns = namespace();
    apply(ns, ApisixRoute.class, ROUTE);
    awaitCondition(
        ApisixRoute.class,
        ns,
        "web",
        "Accepted",
        "False",
        "spec.http[0].backends[0].serviceName: Service " + ns + "/web not found");
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main")).isNull();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(client.v1().events().inNamespace(ns).list().getItems())
                    .anyMatch(
                        e ->
                            "Invalid".equals(e.getReason())
                                && e.getMessage().contains("not found")));

    service(ns, "web", "[{port: 80, name: http}]");
    awaitCondition(ApisixRoute.class, ns, "web", "Programmed", "True", "1 key(s)");
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main")).contains(ns + "/web:http");
  }

  @Test
  void apisixUpstreamSettingsReachTheRoutesOfItsService() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80}]");
    apply(ns, ApisixRoute.class, ROUTE);
    awaitCondition(ApisixRoute.class, ns, "web", "Programmed", "True", "key(s)");
    apply(
        ns,
        ApisixUpstream.class,
        "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\nmetadata: {name: web}\nspec: {retries: 4, loadbalancer: {type: least_conn}}\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main"))
                    .contains("\"retries\":4")
                    .contains("least_conn"));
    awaitCondition(ApisixUpstream.class, ns, "web", "Accepted", "True", "valid");

    apply(
        ns,
        ApisixUpstream.class,
        "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\nmetadata: {name: web}\nspec: {loadbalancer: {type: random}}\n");
    awaitCondition(
        ApisixUpstream.class, ns, "web", "Accepted", "False", "spec.loadbalancer.type: \"random\"");
    awaitCondition(
        ApisixRoute.class,
        ns,
        "web",
        "Accepted",
        "False",
        "ApisixUpstream " + ns + "/web: spec.loadbalancer.type");
    // What the route wrote before stays served.
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main")).contains("\"retries\":4");
  }

  @Test
  void eachBadInputIsRefusedPreciselyAndTheOthersAreUnaffected() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80, name: http}]");
    apply(
        ns,
        ApisixRoute.class,
        ROUTE.replace("name: web}", "name: good}").replace("web.example.com", "good.example.com"));
    apply(
        ns,
        ApisixRoute.class,
        ROUTE
            .replace("name: web}", "name: port}")
            .replace("web.example.com", "a.example.com")
            .replace("servicePort: 80", "servicePort: grpc"));
    apply(
        ns,
        ApisixRoute.class,
        ROUTE
            .replace("name: web}", "name: regex}")
            .replace("web.example.com", "b.example.com")
            .replace(
                "paths: [/*]",
                "paths: [/*], exprs: [{subject: {scope: Header, name: X}, op: RegexMatch, value: '([a'}]"));
    apply(
        ns,
        ApisixRoute.class,
        ROUTE
            .replace("name: web}", "name: plugin}")
            .replace("web.example.com", "c.example.com")
            .replace(
                "- name: main", "- name: main\n    plugins: [{name: no-such-plugin, config: {}}]"));
    apply(
        ns,
        ApisixRoute.class,
        ROUTE
            .replace("name: web}", "name: conf}")
            .replace("web.example.com", "d.example.com")
            .replace(
                "- name: main",
                "- name: main\n    plugins: [{name: limit-count, config: {count: -1, time_window: 60}}]"));
    apply(
        ns,
        ApisixRoute.class,
        ROUTE.replace("name: web}", "name: dup}").replace("web.example.com", "e.example.com")
            + "  - name: main\n    match: {paths: [/other]}\n    backends: [{serviceName: web, servicePort: 80}]\n");
    apply(
        ns,
        PluginFlow.class,
        "apiVersion: archway.io/v1alpha1\nkind: PluginFlow\nmetadata: {name: loop}\nspec:\n  root: a\n  nodes: [{id: a, plugin: echo, config: {body: a}}, {id: b, plugin: echo, config: {body: b}}]\n  edges: [{from: a, to: b}, {from: b, to: a}]\n");
    apply(
        ns,
        PluginFlow.class,
        "apiVersion: archway.io/v1alpha1\nkind: PluginFlow\nmetadata: {name: roots}\nspec:\n  root: a\n  nodes: [{id: a, plugin: echo, config: {body: a}}, {id: b, plugin: echo, config: {body: b}}]\n");

    awaitCondition(ApisixRoute.class, ns, "good", "Programmed", "True", "1 key(s)");
    awaitCondition(
        ApisixRoute.class,
        ns,
        "port",
        "Accepted",
        "False",
        "spec.http[0].backends[0].servicePort: unknown port name \"grpc\"");
    awaitCondition(
        ApisixRoute.class,
        ns,
        "regex",
        "Accepted",
        "False",
        "spec.http[0].match.exprs[0].value: \"([a\" (expected: a valid regular expression");
    awaitCondition(
        ApisixRoute.class,
        ns,
        "plugin",
        "Accepted",
        "False",
        "spec.http[0].plugins[0].name: unknown plugin \"no-such-plugin\"");
    awaitCondition(
        ApisixRoute.class,
        ns,
        "conf",
        "Accepted",
        "False",
        "spec.http[0].plugins[0].config.count: -1 (expected: >= 1)");
    awaitCondition(
        ApisixRoute.class,
        ns,
        "dup",
        "Accepted",
        "False",
        "spec.http[1].name: \"main\" is also the name of spec.http[0]");
    awaitCondition(
        PluginFlow.class, ns, "loop", "Accepted", "False", "spec.edges: loop a -> b -> a");
    awaitCondition(
        PluginFlow.class,
        ns,
        "roots",
        "Accepted",
        "False",
        "spec.nodes[1]: \"b\" has no edge into it and is not the root");
    awaitCondition(ApisixRoute.class, ns, "port", "Programmed", "False", "not written");
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_port_main")).isNull();
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_good_main")).isNotNull();
  }

  @Test
  void theOlderOfTwoRoutesClaimingAHostAndPathKeepsIt() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80}]");
    apply(ns, ApisixRoute.class, ROUTE.replace("name: web}", "name: first}"));
    awaitCondition(ApisixRoute.class, ns, "first", "Programmed", "True", "key(s)");
    apply(ns, ApisixRoute.class, ROUTE.replace("name: web}", "name: second}"));
    awaitCondition(
        ApisixRoute.class,
        ns,
        "second",
        "Accepted",
        "False",
        "host " + ns + ".example.com path /* is already served by ApisixRoute " + ns + "/first");
    assertThat(
            io.archway.operator.testing.KubeMock.condition(
                client.resources(ApisixRoute.class).inNamespace(ns).withName("second").get(),
                "Accepted"))
        .hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("Conflict"));
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_second_main")).isNull();

    client.resources(ApisixRoute.class).inNamespace(ns).withName("first").delete();
    awaitCondition(ApisixRoute.class, ns, "second", "Programmed", "True", "key(s)");
    await().atMost(WAIT).until(() -> etcdValue(Kind.ROUTES, "ar_" + ns + "_first_main") == null);
  }

  @Test
  void streamRoutePluginFlowAndIngressAreProgrammed() throws Exception {
    var ns = namespace();
    service(ns, "redis", "[{port: 6379, name: redis}]");
    service(ns, "web", "[{port: 80}]");
    apply(
        ns,
        StreamRoute.class,
        "apiVersion: archway.io/v1alpha1\nkind: StreamRoute\nmetadata: {name: cache}\nspec:\n  port: 6380\n  backend: {serviceName: redis, servicePort: 6379}\n  protocol: {name: redis, faults: [{commands: [get], delay: 0.1}]}\n");
    apply(
        ns,
        PluginFlow.class,
        "apiVersion: archway.io/v1alpha1\nkind: PluginFlow\nmetadata: {name: gate}\nspec:\n  root: a\n  nodes: [{id: a, plugin: key-auth, config: {}}, {id: b, plugin: echo, config: {body: no}}]\n  edges: [{from: a, to: b, condition: 'code == 401'}]\n");
    apply(
        ns, ApisixRoute.class, ROUTE.replace("- name: main", "- name: main\n    pluginFlow: gate"));
    apply(
        ns,
        Ingress.class,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: site}\nspec:\n  ingressClassName: archway\n  rules:\n  - host: site.example.com\n    http:\n      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]\n");
    apply(
        ns,
        Ingress.class,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: foreign}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: other.example.com\n    http:\n      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]\n");

    apply(
        ns,
        ApisixRoute.class,
        ROUTE
            .replace("name: web}", "name: other-class}")
            .replace("web.example.com", "other.example.com")
            .replace("spec:\n", "spec:\n  ingressClassName: nginx\n"));
    awaitCondition(StreamRoute.class, ns, "cache", "Programmed", "True", "1 key(s)");
    assertThat(etcdValue(Kind.STREAM_ROUTES, "sr_" + ns + "_cache"))
        .contains("\"server_port\":6380")
        .contains("faults");
    awaitCondition(PluginFlow.class, ns, "gate", "Programmed", "True", "1 key(s)");
    awaitCondition(ApisixRoute.class, ns, "web", "Programmed", "True", "1 key(s)");
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main"))
        .contains("\"plugin_flow_id\":\"pf_" + ns + "_gate\"");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(sink.listManaged())
                    .anyMatch(
                        i -> i.owner().equals(new Owner("Ingress", ns, "site", i.owner().uid()))));
    assertThat(sink.listManaged()).noneMatch(i -> i.owner().name().equals("foreign"));
    assertThat(get(Ingress.class, ns, "foreign").getMetadata().getFinalizers()).isNullOrEmpty();
    var otherClass = get(ApisixRoute.class, ns, "other-class");
    assertThat(otherClass.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(otherClass.getStatus()).isNull();

    client.resources(StreamRoute.class).inNamespace(ns).withName("cache").delete();
    client.resources(Ingress.class).inNamespace(ns).withName("site").delete();
    await().atMost(WAIT).until(() -> etcdValue(Kind.STREAM_ROUTES, "sr_" + ns + "_cache") == null);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(sink.listManaged())
                    .noneMatch(
                        i ->
                            i.owner().namespace().equals(ns)
                                && i.owner().kind().equals("Ingress")));
  }

  @Test
  void aSecretChangeReachesThePluginsThatUseIt() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80}]");
    apply(
        ns,
        io.fabric8.kubernetes.api.model.Secret.class,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: jwt}\nstringData: {header: X-One}\n");
    apply(
        ns,
        ApisixRoute.class,
        ROUTE.replace(
            "- name: main", "- name: main\n    plugins: [{name: jwt-auth, secretRef: jwt}]"));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main")).contains("X-One"));
    apply(
        ns,
        io.fabric8.kubernetes.api.model.Secret.class,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: jwt}\nstringData: {header: X-Two}\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main")).contains("X-Two"));
  }

  private static String pem(String file) throws java.io.IOException {
    return java.nio.file.Files.readString(java.nio.file.Path.of("src/test/resources/tls", file));
  }

  private static String tlsSecret(String name, String cert, String key) {
    return "apiVersion: v1\nkind: Secret\nmetadata: {name: "
        + name
        + "}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: "
        + io.archway.model.ModelJson.mapper().valueToTree(cert)
        + "\n  tls.key: "
        + io.archway.model.ModelJson.mapper().valueToTree(key)
        + "\n";
  }

  @Test
  void apisixTlsFollowsItsSecretAndReportsBadCertificates() throws Exception {
    var ns = namespace();
    var secret = io.fabric8.kubernetes.api.model.Secret.class;
    apply(ns, secret, tlsSecret("app-tls", pem("app.crt"), pem("app.key")));
    apply(
        ns,
        io.archway.crds.apisix.ApisixTls.class,
        "apiVersion: apisix.apache.org/v2\nkind: ApisixTls\nmetadata: {name: app}\n"
            + "spec: {hosts: [app.example.com], secret: {name: app-tls}}\n");
    var id = "tls_" + ns + "_app";
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.SSLS, id))
                    .contains(pem("app.crt").strip().lines().skip(1).findFirst().orElseThrow()));
    awaitCondition(io.archway.crds.apisix.ApisixTls.class, ns, "app", "Accepted", "True", "");

    // Rotated: the new certificate reaches etcd (an expired one is served, with a warning).
    apply(ns, secret, tlsSecret("app-tls", pem("old.crt"), pem("app.key")));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.SSLS, id))
                    .contains(pem("old.crt").strip().lines().skip(1).findFirst().orElseThrow()));
    awaitCondition(
        io.archway.crds.apisix.ApisixTls.class,
        ns,
        "app",
        "Accepted",
        "True",
        "certificate expired");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(client.v1().events().inNamespace(ns).list().getItems())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getReason()).isEqualTo("CertificateExpired");
                          assertThat(e.getType()).isEqualTo("Warning");
                          assertThat(e.getInvolvedObject().getName()).isEqualTo("app");
                        }));

    // A key that is not the certificate's: refused, naming the Secret; never the key itself.
    apply(ns, secret, tlsSecret("app-tls", pem("app.crt"), pem("other.key")));
    awaitCondition(
        io.archway.crds.apisix.ApisixTls.class,
        ns,
        "app",
        "Accepted",
        "False",
        "spec.secret: Secret " + ns + "/app-tls: certificate and key do not match");
    var status = get(io.archway.crds.apisix.ApisixTls.class, ns, "app").getStatus().toString();
    assertThat(status).doesNotContain("PRIVATE KEY");
  }

  @Test
  void anUpstreamClientCertificateFollowsItsSecretIntoTheRoutes() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80}]");
    var secret = io.fabric8.kubernetes.api.model.Secret.class;
    apply(ns, secret, tlsSecret("web-client", pem("app.crt"), pem("app.key")));
    apply(
        ns,
        ApisixUpstream.class,
        "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\nmetadata: {name: web}\n"
            + "spec: {scheme: https, tlsSecret: {name: web-client}}\n");
    apply(ns, ApisixRoute.class, ROUTE);
    var route = "ar_" + ns + "_web_main";
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.ROUTES, route))
                    .contains(pem("app.crt").strip().lines().skip(1).findFirst().orElseThrow()));
    apply(ns, secret, tlsSecret("web-client", pem("old.crt"), pem("app.key")));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.ROUTES, route))
                    .contains(pem("old.crt").strip().lines().skip(1).findFirst().orElseThrow()));
  }

  @Test
  void apisixPluginConfigIsWrittenAndTheRoutesNamingItFollowIt() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80}]");
    var route = ROUTE.replace("- name: main", "- name: main\n    plugin_config_name: shared");
    apply(ns, ApisixRoute.class, route);
    awaitCondition(
        ApisixRoute.class,
        ns,
        "web",
        "Accepted",
        "False",
        "plugin_config_name: ApisixPluginConfig " + ns + "/shared not found");

    var pc =
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixPluginConfig
        metadata: {name: shared}
        spec:
          plugins:
          - {name: cors, enable: true, config: {allow_origins: "https://a.example.com"}}
        """;
    apply(ns, io.archway.crds.apisix.ApisixPluginConfig.class, pc);
    awaitCondition(
        io.archway.crds.apisix.ApisixPluginConfig.class,
        ns,
        "shared",
        "Programmed",
        "True",
        "1 key(s)");
    assertThat(etcdValue(Kind.PLUGIN_CONFIGS, "apc_" + ns + "_shared"))
        .contains("https://a.example.com")
        .contains("\"managed-by\":\"archway\"");
    // The route, refused for the missing reference, is reconciled again once it exists.
    awaitCondition(ApisixRoute.class, ns, "web", "Programmed", "True", "1 key(s)");
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main"))
        .contains("\"plugin_config_id\":\"apc_" + ns + "_shared\"");

    apply(
        ns,
        io.archway.crds.apisix.ApisixPluginConfig.class,
        pc.replace("https://a.example.com", "https://b.example.com"));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.PLUGIN_CONFIGS, "apc_" + ns + "_shared"))
                    .contains("https://b.example.com"));

    // A config that is not valid is refused with the field named; what it wrote stays.
    apply(
        ns,
        io.archway.crds.apisix.ApisixPluginConfig.class,
        pc.replace("{allow_origins: \"https://a.example.com\"}", "{allow_origin: x}"));
    awaitCondition(
        io.archway.crds.apisix.ApisixPluginConfig.class,
        ns,
        "shared",
        "Accepted",
        "False",
        "spec.plugins[0].config.allow_origin: unknown field");
    assertThat(etcdValue(Kind.PLUGIN_CONFIGS, "apc_" + ns + "_shared"))
        .contains("https://b.example.com");

    client
        .resources(io.archway.crds.apisix.ApisixPluginConfig.class)
        .inNamespace(ns)
        .withName("shared")
        .delete();
    await()
        .atMost(WAIT)
        .until(() -> etcdValue(Kind.PLUGIN_CONFIGS, "apc_" + ns + "_shared") == null);
    awaitCondition(
        ApisixRoute.class,
        ns,
        "web",
        "Accepted",
        "False",
        "ApisixPluginConfig " + ns + "/shared not found");
  }

  @Test
  void anIngressFollowsItsPluginConfigAndTheServicesOfSvcNamespace() throws Exception {
    var ns = namespace();
    var backends = namespace();
    apply(
        ns,
        Ingress.class,
        """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: site
          annotations:
            k8s.apisix.apache.org/svc-namespace: BACKENDS
            k8s.apisix.apache.org/plugin-config-name: site-plugins
            k8s.apisix.apache.org/enable-response-rewrite: "true"
            k8s.apisix.apache.org/response-rewrite-set-header: "X-Served-By:archway"
        spec:
          ingressClassName: archway
          rules:
          - host: web.example.com
            http:
              paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]
        """
            .replace("BACKENDS", backends));
    java.util.concurrent.Callable<io.archway.model.Keys.Key> ruleKey =
        () ->
            sink.listManaged().stream()
                .filter(i -> i.owner().kind().equals("Ingress"))
                .filter(i -> i.owner().namespace().equals(ns))
                .map(io.archway.model.sink.StoredItem::key)
                .filter(k -> k.kind() == Kind.ROUTES)
                .findFirst()
                .orElse(null);
    // Neither the ApisixPluginConfig nor the Service in the other namespace exists yet.
    service(backends, "app", "[{port: 80}]");
    apply(
        ns,
        io.archway.crds.apisix.ApisixPluginConfig.class,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixPluginConfig
        metadata: {name: site-plugins}
        spec:
          plugins:
          - {name: cors}
        """);
    await().atMost(WAIT).until(() -> ruleKey.call() != null);
    var key = ruleKey.call();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.ROUTES, key.id()))
                    .contains("apc_" + ns + "_site-plugins")
                    .contains(backends + "/app:80")
                    .contains("X-Served-By"));
  }

  @Test
  void anIngressPluginConfigNameFindsAnAic2PluginConfig() throws Exception {
    var ns = namespace();
    service(ns, "app", "[{port: 80}]");
    apply(
        ns,
        Ingress.class,
        """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: shop
          annotations:
            k8s.apisix.apache.org/plugin-config-name: shop-plugins
        spec:
          ingressClassName: archway
          rules:
          - host: shop.example.com
            http:
              paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]
        """);
    // The PluginConfig (apisix.apache.org/v1alpha1) comes after the Ingress naming it.
    apply(
        ns,
        io.archway.crds.apisix.v1alpha1.PluginConfig.class,
        """
        apiVersion: apisix.apache.org/v1alpha1
        kind: PluginConfig
        metadata: {name: shop-plugins}
        spec:
          plugins:
          - {name: cors, config: {allow_origins: "https://shop.example.com"}}
        """);
    java.util.concurrent.Callable<String> routeValue =
        () -> {
          for (var item : sink.listManaged()) {
            if (item.owner().kind().equals("Ingress")
                && item.owner().namespace().equals(ns)
                && item.key().kind() == Kind.ROUTES) {
              return etcdValue(Kind.ROUTES, item.key().id());
            }
          }
          return null;
        };
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(routeValue.call())
                    .contains("\"plugin_config_id\":\"pc_" + ns + "_shop-plugins\""));
    assertThat(etcdValue(Kind.PLUGIN_CONFIGS, "pc_" + ns + "_shop-plugins"))
        .contains("https://shop.example.com");
  }

  @Test
  void apisixGlobalRuleAndClusterConfigAreWrittenAsGlobalRules() throws Exception {
    var ns = namespace();
    apply(
        ns,
        io.archway.crds.apisix.ApisixGlobalRule.class,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixGlobalRule
        metadata: {name: ids}
        spec:
          plugins:
          - {name: request-id, config: {header_name: X-Trace}}
        """);
    awaitCondition(
        io.archway.crds.apisix.ApisixGlobalRule.class, ns, "ids", "Programmed", "True", "1 key(s)");
    assertThat(etcdValue(Kind.GLOBAL_RULES, "agr_" + ns + "_ids")).contains("X-Trace");

    // Cluster-scoped: no namespace; its owner's namespace is _cluster.
    var name = "cluster-" + ns;
    var cc =
        Serialization.unmarshal(
            "apiVersion: apisix.apache.org/v2\nkind: ApisixClusterConfig\nmetadata: {name: "
                + name
                + "}\nspec: {monitoring: {prometheus: {enable: true}}}\n",
            io.archway.crds.apisix.ApisixClusterConfig.class);
    client.resource(cc).create();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.GLOBAL_RULES, "acc_" + name))
                    .contains("\"prometheus\"")
                    .contains("_cluster"));

    cc.getSpec().monitoring.skywalking =
        new io.archway.crds.apisix.ApisixClusterConfigSpec.Skywalking();
    cc.getSpec().monitoring.skywalking.enable = true;
    cc.getSpec().monitoring.skywalking.sampleRatio = 0.25;
    client.resource(cc).update();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.GLOBAL_RULES, "acc_" + name))
                    .contains("\"skywalking\":{\"sample_ratio\":0.25}"));

    cc = client.resources(io.archway.crds.apisix.ApisixClusterConfig.class).withName(name).get();
    cc.getSpec().monitoring.skywalking.sampleRatio = 1.5;
    client.resource(cc).update();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var r =
                  client
                      .resources(io.archway.crds.apisix.ApisixClusterConfig.class)
                      .withName(name)
                      .get();
              var c = condition(r, "Accepted");
              assertThat(c).isPresent();
              assertThat(c.get().getStatus()).isEqualTo("False");
              assertThat(c.get().getMessage())
                  .contains("spec.monitoring.skywalking.sampleRatio: 1.5 (expected: 0..1)");
            });

    client.resources(io.archway.crds.apisix.ApisixClusterConfig.class).withName(name).delete();
    client
        .resources(io.archway.crds.apisix.ApisixGlobalRule.class)
        .inNamespace(ns)
        .withName("ids")
        .delete();
    await().atMost(WAIT).until(() -> etcdValue(Kind.GLOBAL_RULES, "acc_" + name) == null);
    await().atMost(WAIT).until(() -> etcdValue(Kind.GLOBAL_RULES, "agr_" + ns + "_ids") == null);
  }

  @Test
  void apisixConsumerIsWrittenWithCredentialsFromItsSecret() throws Exception {
    var ns = namespace();
    apply(
        ns,
        io.fabric8.kubernetes.api.model.Secret.class,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: jack}\nstringData: {key: one}\n");
    apply(
        ns,
        io.archway.crds.apisix.ApisixConsumer.class,
        "apiVersion: apisix.apache.org/v2\nkind: ApisixConsumer\nmetadata: {name: jack}\n"
            + "spec: {authParameter: {keyAuth: {secretRef: {name: jack}}}}\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(etcdValue(Kind.CONSUMERS, ns + "_jack")).contains("\"one\""));
    apply(
        ns,
        io.fabric8.kubernetes.api.model.Secret.class,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: jack}\nstringData: {key: two}\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(etcdValue(Kind.CONSUMERS, ns + "_jack")).contains("\"two\""));
  }

  @Test
  void ingressStatusCarriesTheAddressOfTheDataplaneService() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80}]");
    var gw =
        Serialization.unmarshal(
            "apiVersion: v1\nkind: Service\nmetadata: {name: archway-gateway, namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 203.0.113.7}]}}\n",
            Service.class);
    client.resource(gw).createOr(existing -> existing.update());
    client.resource(gw).updateStatus();
    apply(
        ns,
        Ingress.class,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: site}\nspec:\n  ingressClassName: archway\n  rules:\n  - host: status.example.com\n    http:\n      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var status = get(Ingress.class, ns, "site").getStatus();
              assertThat(status).isNotNull();
              assertThat(status.getLoadBalancer().getIngress())
                  .extracting(i -> i.getIp())
                  .containsExactly("203.0.113.7");
            });
    var metrics = operator.metrics().render();
    assertThat(metrics)
        .contains("archway_operator_reconciles_total{kind=\"Ingress\",result=\"ok\"}")
        .contains("archway_operator_sync_lag_seconds_count{kind=\"ApisixRoute\"}")
        .contains("archway_operator_leader 1");
  }

  @Test
  void controlPlaneDiscoveryWritesTheReadyEndpointsAsNodes() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{name: http, port: 80, targetPort: 8080}]");
    apply(
        ns,
        ApisixUpstream.class,
        "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\nmetadata: {name: web}\nspec: {discovery: {type: controlplane}}\n");
    var slice =
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{name: http, port: 8080}]\nendpoints:\n";
    apply(
        ns,
        io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class,
        slice
            + "- {addresses: [10.0.0.1], conditions: {ready: true}}\n- {addresses: [10.0.0.2], conditions: {ready: false}}\n");
    apply(ns, ApisixRoute.class, ROUTE);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main"))
                    .contains("\"nodes\":[{\"host\":\"10.0.0.1\",\"port\":8080,\"weight\":100}]"));
    apply(
        ns,
        io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class,
        slice
            + "- {addresses: [10.0.0.2], conditions: {ready: true}}\n- {addresses: [10.0.0.3], conditions: {ready: true}}\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main"))
                    .contains("10.0.0.2")
                    .contains("10.0.0.3")
                    .doesNotContain("10.0.0.1"));
    client
        .resources(io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class)
        .inNamespace(ns)
        .withName("web-1")
        .delete();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main"))
                    .contains("\"nodes\":[]"));
  }

  @Test
  void anEtcdOutageIsReportedAndRetriedUntilItConverges() throws Exception {
    var ns = namespace();
    service(ns, "web", "[{port: 80}]");
    apply(ns, ApisixRoute.class, ROUTE);
    awaitCondition(ApisixRoute.class, ns, "web", "Programmed", "True", "key(s)");
    etcd.server().kill();
    try {
      apply(ns, ApisixRoute.class, ROUTE.replace("paths: [/*]", "paths: [/*, /down]"));
      awaitCondition(ApisixRoute.class, ns, "web", "Programmed", "False", "etcd unavailable");
    } finally {
      etcd.server().start();
    }
    awaitCondition(ApisixRoute.class, ns, "web", "Programmed", "True", "key(s)");
    assertThat(etcdValue(Kind.ROUTES, "ar_" + ns + "_web_main")).contains("/down");
    assertThat(ModelJson.mapper()).isNotNull();
  }

  /** The nodes of a route's upstream as the dataplane reads them from etcd. */
  private static java.util.List<io.archway.model.UpstreamNode> servedNodes(String id)
      throws Exception {
    var item = sink.get(Kind.ROUTES, id).orElse(null);
    if (item == null) {
      return null;
    }
    var route =
        (io.archway.model.Route) ModelJson.read(Kind.ROUTES, item.value(), id, "routes/" + id);
    return route.upstream().nodes().nodes();
  }

  private static String zookeeperUpstream(String name, String service) {
    return "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\nmetadata: {name: "
        + name
        + "}\nspec: {discovery: {type: zookeeper, serviceName: "
        + service
        + "}}\n";
  }

  /**
   * Control-plane discovery from ZooKeeper, end to end on the operator's side: a real ZooKeeper
   * server (Curator's TestingServer, in this JVM), real etcd, the mock API server for Kubernetes;
   * the route is read back with the model the dataplane compiles from.
   */
  @Test
  void nodesRegisteredInZooKeeperAreWrittenIntoEtcdAndFollowIt() throws Exception {
    var ns = namespace();
    var service = "APISIX-ZK-" + ns;
    zk.create()
        .creatingParentsIfNeeded()
        .forPath(
            "/zookeeper/" + service,
            "[{\"host\":\"10.0.0.1\",\"port\":1980,\"weight\":100}]"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    apply(ns, ApisixUpstream.class, zookeeperUpstream("partner", service));
    apply(
        ns,
        ApisixRoute.class,
        "apiVersion: apisix.apache.org/v2\nkind: ApisixRoute\nmetadata: {name: web}\nspec:\n  http:\n  - name: main\n    match: {hosts: [web.example.com], paths: [/*]}\n    upstreams: [{name: partner}]\n");
    var id = "ar_" + ns + "_web_main";
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(servedNodes(id))
                    .containsExactly(
                        new io.archway.model.UpstreamNode("10.0.0.1", 1980, 100, null, null)));
    var value = sink.get(Kind.ROUTES, id).orElseThrow().value();
    // apisix-seed's marks: where the nodes come from.
    assertThat(value.at("/upstream/_discovery_type").asText()).isEqualTo("zookeeper");
    assertThat(value.at("/upstream/_service_name").asText()).isEqualTo(service);
    assertThat(value.at("/upstream/service_name").isMissingNode()).isTrue();
    awaitCondition(ApisixUpstream.class, ns, "partner", "Accepted", "True", "");

    // A new instance: written after the add delay.
    zk.setData()
        .forPath(
            "/zookeeper/" + service,
            "[{\"host\":\"10.0.0.1\",\"port\":1980},{\"host\":\"10.0.0.2\",\"port\":1980,\"weight\":5}]"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(servedNodes(id))
                    .containsExactly(
                        new io.archway.model.UpstreamNode("10.0.0.1", 1980, 100, null, null),
                        new io.archway.model.UpstreamNode("10.0.0.2", 1980, 5, null, null)));

    // ZooKeeper goes away: the written nodes stay; a service never seen is refused, naming why.
    zookeeper.stop();
    apply(ns, ApisixUpstream.class, zookeeperUpstream("other", "OTHER-" + ns));
    awaitCondition(ApisixUpstream.class, ns, "other", "Accepted", "False", "zookeeper");
    assertThat(servedNodes(id)).hasSize(2);

    // Back: the new service answers (no nodes yet: written empty, with a warning).
    zookeeper.restart();
    awaitCondition(ApisixUpstream.class, ns, "other", "Accepted", "True", "");
    assertThat(operator.metrics().render())
        .contains("archway_operator_registry_updates_total{registry=\"zookeeper\"}")
        .contains("archway_operator_registry_errors_total{registry=\"zookeeper\"}");
  }
}
