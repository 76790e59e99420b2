package io.archway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.model.testing.EtcdExtension;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.archway.operator.testing.KubeMock;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An HTTPRoute served end to end: the operator's jar and the dataplane's jar as processes, a real
 * etcd between them, fabric8's mock API server in CRUD mode standing in for the Kubernetes API
 * server (with the Gateway API CRDs created in it) and a real HTTP upstream. The Gateway's listener
 * is on the dataplane's HTTP port, so the dataplane's own listener serves it. The operator resolves
 * the Service's endpoints (control-plane discovery): the dataplane only reads etcd.
 */
class GatewayApiToDataplaneE2E {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  KubeMock kube;
  HttpServer upstream;
  final List<Process> processes = new ArrayList<>();
  final HttpClient http = HttpClient.newHttpClient();
  int httpPort;

  @BeforeEach
  void start() throws Exception {
    kube = new KubeMock();
    for (var line :
        List.of(
            "GatewayClass gatewayclasses Cluster",
            "Gateway gateways Namespaced",
            "HTTPRoute httproutes Namespaced")) {
      var f = line.split(" ");
      kube.client()
          .resource(
              Serialization.unmarshal(
                  "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                      + "metadata:\n  name: "
                      + f[1]
                      + ".gateway.networking.k8s.io\n  annotations: {"
                      + io.archway.operator.translate.GatewayApi.BUNDLE_VERSION_ANNOTATION
                      + ": "
                      + io.archway.operator.translate.GatewayApi.BUNDLE_VERSION
                      + "}\nspec:\n  group: gateway.networking.k8s.io\n  scope: "
                      + f[2]
                      + "\n  names: {kind: "
                      + f[0]
                      + ", plural: "
                      + f[1]
                      + "}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n"
                      + "    subresources: {status: {}}\n"
                      + "    schema: {openAPIV3Schema: {type: object,"
                      + " x-kubernetes-preserve-unknown-fields: true}}\n",
                  CustomResourceDefinition.class))
          .create();
    }
    upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    upstream.createContext(
        "/",
        ex -> {
          var body =
              ("hello from upstream " + ex.getRequestURI().getPath())
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          try (var out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    upstream.start();
    httpPort = Ports.free();
    create(
        io.fabric8.kubernetes.api.model.Service.class,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
            + "spec: {ports: [{name: http, port: 80}]}\n");
    create(
        io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class,
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
            + "metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name:"
            + " web}}\naddressType: IPv4\nports: [{name: http, port: "
            + upstream.getAddress().getPort()
            + "}]\nendpoints:\n- {addresses: [127.0.0.1], conditions: {ready: true}}\n");

    var kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: mock, cluster: {server: "URL"}}]
        users: [{name: e2e, user: {}}]
        contexts: [{name: mock, context: {cluster: mock, user: e2e, namespace: default}}]
        current-context: mock
        """
            .replace("URL", kube.client().getMasterUrl().toString()));
    launch(
        "operator",
        "../operator/target/archway-operator.jar",
        "run",
        "--kubeconfig",
        kubeconfig.toString(),
        "--etcd",
        etcd.endpoint(),
        "--metrics-port",
        "0",
        "--control-plane-discovery",
        "all");
    int statusPort = Ports.free();
    launch(
        "dataplane",
        "../dataplane/target/archway-dataplane.jar",
        "--etcd",
        etcd.endpoint(),
        "--bind",
        "127.0.0.1",
        "--http-port",
        "" + httpPort,
        "--https-port",
        "0",
        "--status-port",
        "" + statusPort);
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> get(statusPort, "/readyz").statusCode() == 200);
  }

  @AfterEach
  void stop() throws Exception {
    for (var p : processes) {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    upstream.stop(0);
    kube.close();
  }

  private <T extends HasMetadata> void create(Class<T> type, String yaml) {
    kube.client().resource(Serialization.unmarshal(yaml, type)).createOr(e -> e.update());
  }

  private void launch(String name, String jar, String... args) throws IOException {
    processes.add(
        JarProcess.start(Path.of(jar), dir.resolve(name + ".log"), List.of(), List.of(args)));
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void anHttpRouteIsServedAndAnUnresolvedBackendsShareAnswers500() throws Exception {
    create(
        io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass.class,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: archway}
        spec: {controllerName: archway.io/gateway-controller}
        """);
    create(
        io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway.class,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: default}
        spec:
          gatewayClassName: archway
          listeners:
          - {name: http, port: PORT, protocol: HTTP}
        """
            .replace("PORT", "" + httpPort));
    create(
        HTTPRoute.class,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: web, namespace: default}
        spec:
          parentRefs: [{name: edge}]
          rules:
          - matches: [{path: {type: PathPrefix, value: /hello}}]
            backendRefs: [{name: web, port: 80}]
          - matches: [{path: {type: PathPrefix, value: /half}}]
            backendRefs: [{name: web, port: 80, weight: 1}, {name: missing, port: 80, weight: 1}]
        """);
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () ->
                assertThat(get(httpPort, "/hello/there").body())
                    .isEqualTo("hello from upstream /hello/there"));
    var route =
        kube.client().resources(HTTPRoute.class).inNamespace("default").withName("web").get();
    assertThat(route.getStatus().getParents())
        .singleElement()
        .satisfies(
            p ->
                assertThat(p.getConditions())
                    .anySatisfy(
                        c -> {
                          assertThat(c.getType()).isEqualTo("ResolvedRefs");
                          assertThat(c.getStatus()).isEqualTo("False");
                          assertThat(c.getReason()).isEqualTo("BackendNotFound");
                        }));
    assertThat(get(httpPort, "/elsewhere").statusCode()).isEqualTo(404);

    // Half the weight is a Service that does not exist: that share answers 500, the rest is served.
    var codes = new java.util.TreeSet<Integer>();
    for (int i = 0; i < 40; i++) {
      codes.add(get(httpPort, "/half").statusCode());
    }
    assertThat(codes).containsExactly(200, 500);

    kube.client().resources(HTTPRoute.class).inNamespace("default").withName("web").delete();
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(get(httpPort, "/hello").statusCode()).isEqualTo(404));
  }
}
