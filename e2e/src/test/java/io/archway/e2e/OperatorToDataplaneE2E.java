package io.archway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.crds.apisix.ApisixRoute;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.utils.Serialization;
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
 * The whole path as users run it: the operator's jar and the dataplane's jar as processes, a real
 * etcd between them, fabric8's mock API server for Kubernetes and a real HTTP upstream. An
 * ApisixRoute applied is served; changed, served changed; refused, the last good config stays
 * served; deleted, gone.
 */
class OperatorToDataplaneE2E {

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
    stack = ArchwayStack.start(dir, new ArchwayStack.Options("marked", false, List.of()));
    httpPort = stack.httpPort();
    // A Service whose cluster IP is the upstream: resolveGranularity service sends traffic there.
    stack.create(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
            + "spec: {clusterIP: 127.0.0.1, ports: [{name: http, port: "
            + upstream.getAddress().getPort()
            + "}]}\n",
        Service.class);
  }

  @AfterEach
  void stop() {
    stack.close();
    upstream.stop(0);
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return stack.get(port, path);
  }

  private void apply(String paths, String servicePort) {
    var route =
        Serialization.unmarshal(
            """
            apiVersion: apisix.apache.org/v2
            kind: ApisixRoute
            metadata: {name: web, namespace: default}
            spec:
              http:
              - name: main
                match: {paths: PATHS}
                backends: [{serviceName: web, servicePort: PORT, resolveGranularity: service}]
            """
                .replace("PATHS", paths)
                .replace("PORT", servicePort),
            ApisixRoute.class);
    stack.client().resource(route).createOr(existing -> existing.update());
  }

  private String accepted() {
    var r =
        stack.client().resources(ApisixRoute.class).inNamespace("default").withName("web").get();
    return r == null || r.getStatus() == null
        ? ""
        : r.getStatus().conditions.stream()
            .filter(c -> c.getType().equals("Accepted"))
            .map(c -> c.getStatus() + ": " + c.getMessage())
            .findFirst()
            .orElse("");
  }

  @Test
  void anApisixRouteIsServedChangedKeptWhenRefusedAndRemoved() throws Exception {
    assertThat(get(httpPort, "/hello").statusCode()).isEqualTo(404);

    apply("[/hello*]", "http");
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () ->
                assertThat(get(httpPort, "/hello/there").body())
                    .isEqualTo("hello from upstream /hello/there"));

    apply("[/bye*]", "http");
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(get(httpPort, "/bye").statusCode()).isEqualTo(200));
    assertThat(get(httpPort, "/hello").statusCode()).isEqualTo(404);

    // A bad change is refused with a status naming the field; what was served stays served.
    apply("[/other*]", "nope");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(accepted())
                    .startsWith(
                        "False: spec.http[0].backends[0].servicePort: unknown port name \"nope\""));
    assertThat(get(httpPort, "/bye").body()).isEqualTo("hello from upstream /bye");
    assertThat(get(httpPort, "/other").statusCode()).isEqualTo(404);

    stack.client().resources(ApisixRoute.class).inNamespace("default").withName("web").delete();
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(get(httpPort, "/bye").statusCode()).isEqualTo(404));
  }

  @Test
  void controlPlaneDiscoveryServesEndpointsWithNoKubernetesAccessInTheDataplane() throws Exception {
    // The operator resolves the Service's endpoints; the dataplane only reads etcd.
    var slice =
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
            + "metadata: {name: pods-1, namespace: default, labels: {kubernetes.io/service-name: pods}}\n"
            + "addressType: IPv4\nports: [{name: http, port: "
            + upstream.getAddress().getPort()
            + "}]\nendpoints:\n- {addresses: [ADDRESS], conditions: {ready: true}}\n";
    stack.create(
        "apiVersion: v1\nkind: Service\nmetadata: {name: pods, namespace: default}\n"
            + "spec: {ports: [{name: http, port: 80}]}\n",
        Service.class);
    stack.create(
        "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\n"
            + "metadata: {name: pods, namespace: default}\nspec: {discovery: {type: controlplane}}\n",
        io.archway.crds.apisix.ApisixUpstream.class);
    stack.create(
        slice.replace("ADDRESS", "127.0.0.2"),
        io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class);
    stack.create(
        """
                apiVersion: apisix.apache.org/v2
                kind: ApisixRoute
                metadata: {name: pods, namespace: default}
                spec:
                  http:
                  - name: main
                    match: {paths: [/pods*]}
                    backends: [{serviceName: pods, servicePort: 80}]
                """,
        ApisixRoute.class);
    // 127.0.0.2 has no upstream listening: the route is written, and the node answers 502.
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(get(httpPort, "/pods").statusCode()).isEqualTo(502));
    stack
        .client()
        .resource(
            Serialization.unmarshal(
                slice.replace("ADDRESS", "127.0.0.1"),
                io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class))
        .update();
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> assertThat(get(httpPort, "/pods").body()).isEqualTo("hello from upstream /pods"));
  }
}
