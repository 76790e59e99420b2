package io.archway.e2e;

import static io.archway.e2e.Conformance.INFRA;
import static io.archway.e2e.Conformance.WEB;
import static io.archway.e2e.Conformance.gateway;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.archway.model.testing.Ports;
import io.grpc.StatusRuntimeException;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Gateway API conformance tests of GRPCRoute, TLSRoute, TCPRoute and UDPRoute (gateway-api v1.2
 * {@code conformance/tests} ShortNames where there is one) through the real processes of {@link
 * Conformance}: a real grpc-java backend reached over h2c, a real TLS server behind a TLS
 * passthrough listener, a TCP and a UDP echo behind listeners of their own.
 */
class GRPCAndL4RouteConformanceE2E {

  @RegisterExtension static final Conformance c = new Conformance();

  static final String GATEWAY = "gateway-l4-and-grpc";
  static int grpcPort;
  static int tlsPort;
  static int tcpPort;
  static int udpPort;

  @BeforeAll
  static void createGateway() {
    grpcPort = Ports.free();
    tlsPort = Ports.free();
    tcpPort = Ports.free();
    udpPort = Ports.free();
    // Applied through the stack, not c.apply: it stays for every test of the class.
    c.stack()
        .apply(
            gateway(
                    "GW",
                    """
                - {name: grpc, port: P_GRPC, protocol: HTTP}
                - {name: tls, port: P_TLS, protocol: TLS, tls: {mode: Passthrough}}
                - {name: tcp, port: P_TCP, protocol: TCP}
                - {name: udp, port: P_UDP, protocol: UDP}
                """)
                .replace("GW", GATEWAY)
                .replace("INFRA", INFRA)
                .replace("P_GRPC", "" + grpcPort)
                .replace("P_TLS", "" + tlsPort)
                .replace("P_TCP", "" + tcpPort)
                .replace("P_UDP", "" + udpPort));
    c.awaitGateway(INFRA, GATEWAY, "Accepted=True/Accepted", "Programmed=True/Programmed");
  }

  private static String route(String kind, String version, String name, String ns, String spec) {
    return ("apiVersion: gateway.networking.k8s.io/VERSION\nkind: KIND\n"
                + "metadata: {name: NAME, namespace: NS}\nspec:\n")
            .replace("VERSION", version)
            .replace("KIND", kind)
            .replace("NAME", name)
            .replace("NS", ns)
        + spec.replace("GW", GATEWAY).stripIndent().indent(2);
  }

  private static String grpc(String authority, String method, Map<String, String> md)
      throws Exception {
    return Wire.grpc(grpcPort, authority, method, md);
  }

  @Test
  void grpcExactMethodMatching() {
    c.apply(
        route(
            "GRPCRoute",
            "v1",
            "exact-matching",
            INFRA,
            """
            parentRefs: [{name: GW, sectionName: grpc}]
            hostnames: [grpc-exact.example]
            rules:
            - matches: [{method: {service: gateway_api_conformance.echo_basic.grpcecho.GrpcEcho, method: Echo}}]
              backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]
            - matches: [{method: {service: gateway_api_conformance.echo_basic.grpcecho.GrpcEcho, method: EchoTwo}}]
              backendRefs: [{name: grpc-infra-backend-v2, port: 8080}]
            """));
    c.awaitAccepted("GRPCRoute", INFRA, "exact-matching", GATEWAY);
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(grpc("grpc-exact.example", "Echo", Map.of()))
                  .isEqualTo("grpc-infra-backend-v1/Echo");
              assertThat(grpc("grpc-exact.example", "EchoTwo", Map.of()))
                  .isEqualTo("grpc-infra-backend-v2/EchoTwo");
            });
    assertThatThrownBy(() -> grpc("grpc-exact.example", "EchoThree", Map.of()))
        .isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void grpcRouteHeaderMatching() {
    c.apply(
        route(
            "GRPCRoute",
            "v1",
            "grpc-header-matching",
            INFRA,
            """
            parentRefs: [{name: GW, sectionName: grpc}]
            hostnames: [grpc-headers.example]
            rules:
            - matches: [{headers: [{name: version, value: one}]}]
              backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]
            - matches: [{headers: [{name: version, value: two}]}]
              backendRefs: [{name: grpc-infra-backend-v2, port: 8080}]
            """));
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(grpc("grpc-headers.example", "Echo", Map.of("version", "one")))
                  .isEqualTo("grpc-infra-backend-v1/Echo");
              assertThat(grpc("grpc-headers.example", "Echo", Map.of("version", "two")))
                  .isEqualTo("grpc-infra-backend-v2/Echo");
            });
    assertThatThrownBy(() -> grpc("grpc-headers.example", "Echo", Map.of("version", "three")))
        .isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void grpcRouteListenerHostnameMatching() {
    int port = Ports.free();
    var gw = "grpcroute-listener-hostname-matching";
    c.apply(
        gateway(
                gw,
                """
                - {name: listener-1, port: PORT, protocol: HTTP, hostname: bar.com}
                - {name: listener-2, port: PORT, protocol: HTTP, hostname: foo.bar.com}
                - {name: listener-3, port: PORT, protocol: HTTP, hostname: "*.bar.com"}
                - {name: listener-4, port: PORT, protocol: HTTP, hostname: "*.foo.com"}
                """)
            .replace("PORT", "" + port));
    var spec =
        """
        parentRefs: PARENTS
        rules:
        - backendRefs: [{name: BACKEND, port: 8080}]
        """;
    c.apply(
        route(
            "GRPCRoute",
            "v1",
            "backend-v1",
            INFRA,
            spec.replace("PARENTS", "[{name: " + gw + ", sectionName: listener-1}]")
                .replace("BACKEND", "grpc-infra-backend-v1")));
    c.apply(
        route(
            "GRPCRoute",
            "v1",
            "backend-v2",
            INFRA,
            spec.replace(
                    "PARENTS",
                    "[{name: "
                        + gw
                        + ", sectionName: listener-2}, {name: "
                        + gw
                        + ", sectionName: listener-4}]")
                .replace("BACKEND", "grpc-infra-backend-v2")));
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(Wire.grpc(port, "bar.com", "Echo", Map.of()))
                  .isEqualTo("grpc-infra-backend-v1/Echo");
              assertThat(Wire.grpc(port, "foo.bar.com", "Echo", Map.of()))
                  .isEqualTo("grpc-infra-backend-v2/Echo");
              assertThat(Wire.grpc(port, "boo.foo.com", "Echo", Map.of()))
                  .isEqualTo("grpc-infra-backend-v2/Echo");
            });
    // listener-3 (*.bar.com) has no route: its names are not served by the others.
    assertThatThrownBy(() -> Wire.grpc(port, "baz.bar.com", "Echo", Map.of()))
        .isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void tlsRouteSimpleSameNamespace() {
    c.apply(
        route(
            "TLSRoute",
            "v1alpha2",
            "gateway-conformance-infra-test",
            INFRA,
            """
            parentRefs: [{name: GW, sectionName: tls}]
            hostnames: [abc.example.com]
            rules:
            - backendRefs: [{name: tls-backend, port: 8080}]
            """));
    c.awaitAccepted("TLSRoute", INFRA, "gateway-conformance-infra-test", GATEWAY);
    // Passthrough: the backend's own certificate terminates TLS, and it answers with its name.
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () ->
                assertThat(Wire.tlsLine(tlsPort, "abc.example.com", "hello"))
                    .isEqualTo("tls-backend:hello"));
  }

  @Test
  void tlsRouteInvalidReferenceGrant() {
    c.apply(
        route(
            "TLSRoute",
            "v1alpha2",
            "invalid-reference-grant",
            INFRA,
            """
            parentRefs: [{name: GW, sectionName: tls}]
            hostnames: [invalid-grant.example.com]
            rules:
            - backendRefs: [{name: web-backend, namespace: WEB, port: 8080}]
            """
                .replace("WEB", WEB)));
    c.awaitRoute(
        "TLSRoute",
        INFRA,
        "invalid-reference-grant",
        GATEWAY,
        "Accepted=True/Accepted",
        "ResolvedRefs=False/RefNotPermitted");
    assertThatThrownBy(() -> Wire.tlsLine(tlsPort, "invalid-grant.example.com", "hello"))
        .isInstanceOf(Exception.class);
  }

  @Test
  void tcpRoute() {
    c.apply(
        route(
            "TCPRoute",
            "v1alpha2",
            "tcp",
            INFRA,
            """
            parentRefs: [{name: GW, sectionName: tcp}]
            rules:
            - backendRefs: [{name: tcp-backend, port: 8080}]
            """));
    c.awaitAccepted("TCPRoute", INFRA, "tcp", GATEWAY);
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> assertThat(Wire.tcpLine(tcpPort, "hello")).isEqualTo("tcp-backend:hello"));
  }

  /**
   * Of two backendRefs, one does not resolve: the connections of its share are refused (the spec),
   * the others reach the backend that resolves. The backend is a Service whose cluster IP is the
   * loopback address (several backends are weighted cluster IPs).
   */
  @Test
  void tcpRouteInvalidBackendShareIsRefused() {
    c.apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: tcp-backend-ip, namespace: INFRA}
        spec: {clusterIP: 127.0.0.1, ports: [{name: p, port: REAL}]}
        """
            .replace("REAL", "" + c.backend("tcp-backend").port()));
    c.apply(
        route(
            "TCPRoute",
            "v1alpha2",
            "tcp-partly-invalid",
            INFRA,
            """
            parentRefs: [{name: GW, sectionName: tcp}]
            rules:
            - backendRefs:
              - {name: tcp-backend-ip, port: PORT}
              - {name: no-such-backend, port: 8080}
            """
                .replace("PORT", "" + c.backend("tcp-backend").port())));
    c.awaitRoute(
        "TCPRoute",
        INFRA,
        "tcp-partly-invalid",
        GATEWAY,
        "Accepted=True/Accepted",
        "ResolvedRefs=False/BackendNotFound");
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> assertThat(Wire.tcpLine(tcpPort, "hello")).isEqualTo("tcp-backend:hello"));
    int served = 0;
    int refused = 0;
    for (int i = 0; i < 20; i++) {
      String answer;
      try {
        answer = Wire.tcpLine(tcpPort, "n" + i);
      } catch (java.io.IOException e) {
        answer = null;
      }
      if (("tcp-backend:n" + i).equals(answer)) {
        served++;
      } else {
        assertThat(answer).as("a refused connection gets no answer").isNull();
        refused++;
      }
    }
    assertThat(served).as("connections served").isPositive();
    assertThat(refused).as("connections refused").isPositive();
  }

  @Test
  void udpRoute() {
    c.apply(
        route(
            "UDPRoute",
            "v1alpha2",
            "udp",
            INFRA,
            """
            parentRefs: [{name: GW, sectionName: udp}]
            rules:
            - backendRefs: [{name: udp-backend, port: 8080}]
            """));
    c.awaitAccepted("UDPRoute", INFRA, "udp", GATEWAY);
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(Wire.udp(udpPort, "hello")).isEqualTo("udp-backend:hello"));
  }

  @Test
  void l4RoutesOnTheWrongListenerAreNotAllowed() {
    c.apply(
        route(
            "TCPRoute",
            "v1alpha2",
            "tcp-on-udp",
            INFRA,
            """
            parentRefs: [{name: GW, sectionName: udp}]
            rules:
            - backendRefs: [{name: tcp-backend, port: 8080}]
            """));
    c.awaitRoute("TCPRoute", INFRA, "tcp-on-udp", GATEWAY, "Accepted=False/NotAllowedByListeners");
  }
}
