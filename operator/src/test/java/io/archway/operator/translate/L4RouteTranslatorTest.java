package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the fixtures do not show: ids that stay put, and one stream route per listener. */
class L4RouteTranslatorTest {

  @TempDir Path dir;

  private static final String GATEWAY =
      """
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: archway}
      spec: {controllerName: archway.io/gateway-controller}
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: gw, namespace: default}
      spec:
        gatewayClassName: archway
        listeners:
        - {name: a, protocol: TLS, port: 8443, hostname: "*.example.com"}
        - {name: b, protocol: TLS, port: 9443}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: s1, namespace: default}
      spec: {clusterIP: 10.0.0.1, ports: [{port: 443}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: s2, namespace: default}
      spec: {clusterIP: 10.0.0.2, ports: [{port: 443}]}
      """;

  private List<String> ids(String backends) throws IOException {
    var f = dir.resolve("in.yaml");
    Files.writeString(
        f,
        """
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TLSRoute
        metadata: {name: r, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          hostnames: [a.example.com]
          rules:
          - backendRefs: %s
        """
                .formatted(backends)
            + GATEWAY);
    var m = new Manifests("default").read(f);
    var t = L4RouteTranslator.translate(m.docs().get(0).resource(), m);
    assertThat(t.errors()).isEmpty();
    return t.items().stream()
        .filter(i -> i.kind() == Kind.STREAM_ROUTES)
        .map(Translation.Item::key)
        .sorted()
        .toList();
  }

  @Test
  void oneStreamRoutePerListenerAndIdsIndependentOfTheBackends() throws IOException {
    var one = ids("[{name: s1, port: 443}]");
    // Listener a (*.example.com) and listener b (no hostname) both take a.example.com.
    assertThat(one).hasSize(2).doesNotHaveDuplicates();
    assertThat(ids("[{name: s1, port: 443, weight: 2}, {name: s2, port: 443}]")).isEqualTo(one);
  }
}
