package io.archway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An HTTPRoute served end to end: the operator's jar and the dataplane's jar as processes, a real
 * etcd between them, fabric8's mock API server in CRUD mode standing in for the Kubernetes API
 * server (with the Gateway API CRDs created in it) and a real HTTP upstream. The Gateway's listener
 * is on the dataplane's HTTP port, so the dataplane's own listener serves it. The operator resolves
 * the Service's endpoints (control-plane discovery): the dataplane only reads etcd.
 */
class GatewayApiToDataplaneE2E {

  private static final Duration WAIT = ArchwayStack.WAIT;

  @TempDir Path dir;

  ArchwayStack stack;
  HttpServer upstream;
  int httpPort;

  @BeforeEach
  void start() throws Exception {
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
    stack = ArchwayStack.start(dir, new ArchwayStack.Options("all", true, List.of()));
    httpPort = stack.httpPort();
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
  }

  @AfterEach
  void stop() {
    stack.close();
    upstream.stop(0);
  }

  private <T extends HasMetadata> void create(Class<T> type, String yaml) {
    stack.create(type, yaml);
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return stack.get(port, path);
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
        stack.client().resources(HTTPRoute.class).inNamespace("default").withName("web").get();
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
    // Each rule is its own etcd key: wait until the second one is served too.
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(get(httpPort, "/half").statusCode()).isNotEqualTo(404));
    var codes = new java.util.TreeSet<Integer>();
    for (int i = 0; i < 40; i++) {
      codes.add(get(httpPort, "/half").statusCode());
    }
    assertThat(codes).containsExactly(200, 500);

    stack.client().resources(HTTPRoute.class).inNamespace("default").withName("web").delete();
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(get(httpPort, "/hello").statusCode()).isEqualTo(404));
  }
}
