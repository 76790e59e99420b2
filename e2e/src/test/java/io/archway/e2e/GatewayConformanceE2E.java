package io.archway.e2e;

import static io.archway.e2e.Conformance.APP;
import static io.archway.e2e.Conformance.INFRA;
import static io.archway.e2e.Conformance.gateway;
import static io.archway.e2e.HTTPRouteConformanceE2E.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Wire.Request;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Gateway API conformance tests of GatewayClass and Gateway (gateway-api v1.2 {@code
 * conformance/tests} ShortNames) through the real processes of {@link Conformance}: the status the
 * spec requires, and the listeners the dataplane opens (ports of their own, HTTPS with certificates
 * from Secrets).
 */
class GatewayConformanceE2E {

  @RegisterExtension static final Conformance c = new Conformance();

  @Test
  void gatewayClassObservedGenerationBump() {
    var yaml =
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: gatewayclass-observed-generation-bump}
        spec: {controllerName: archway.io/gateway-controller, description: DESC}
        """;
    c.apply(yaml.replace("DESC", "one"));
    long first = awaitClassObserved(0);
    c.apply(yaml.replace("DESC", "two"));
    awaitClassObserved(first);
  }

  /** Waits until the class is accepted with an observedGeneration above {@code after}. */
  private long awaitClassObserved(long after) {
    var out = new long[1];
    await()
        .atMost(Conformance.WAIT)
        .untilAsserted(
            () -> {
              var gc = c.status("GatewayClass", null, "gatewayclass-observed-generation-bump");
              assertThat(Conformance.condition(gc, "Accepted")).isEqualTo("True/Accepted");
              long g = gc.path("metadata").path("generation").asLong();
              assertThat(g).isGreaterThan(after);
              for (var cond : gc.path("status").path("conditions")) {
                assertThat(cond.path("observedGeneration").asLong()).isEqualTo(g);
              }
              out[0] = g;
            });
    return out[0];
  }

  @Test
  void gatewayObservedGenerationBumpAndGatewayModifyListeners() throws Exception {
    int one = Ports.free();
    int two = Ports.free();
    var name = "gateway-observed-generation-bump";
    var first = "- {name: http, port: ONE, protocol: HTTP}\n".replace("ONE", "" + one);
    var second = "- {name: http-2, port: TWO, protocol: HTTP}\n".replace("TWO", "" + two);
    c.apply(gateway(name, first));
    c.apply(
        route(
            "modify-listeners",
            INFRA,
            """
            parentRefs: [{name: gateway-observed-generation-bump}]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.awaitGateway(INFRA, name, "Accepted=True/Accepted", "Programmed=True/Programmed");
    long g1 = c.status("Gateway", INFRA, name).path("metadata").path("generation").asLong();
    c.awaitBackend(one, Request.get("any.example", "/"), "infra-backend-v1");

    // A listener added: the generation is observed, the new port serves the route.
    c.apply(gateway(name, first + second));
    await()
        .atMost(Conformance.WAIT)
        .untilAsserted(
            () -> {
              var gw = c.status("Gateway", INFRA, name);
              long g = gw.path("metadata").path("generation").asLong();
              assertThat(g).isGreaterThan(g1);
              for (var cond : gw.path("status").path("conditions")) {
                assertThat(cond.path("observedGeneration").asLong()).isEqualTo(g);
              }
              assertThat(Conformance.listener(gw, "http-2").path("attachedRoutes").asInt())
                  .isEqualTo(1);
            });
    c.awaitListener(INFRA, name, "http-2", "Programmed=True/Programmed");
    c.awaitBackend(two, Request.get("any.example", "/"), "infra-backend-v1");

    // The first listener removed: its port closes, the other keeps serving.
    c.apply(gateway(name, second));
    await()
        .atMost(Conformance.WAIT)
        .until(
            () -> {
              try {
                Wire.http(one, Request.get("any.example", "/"));
                return false;
              } catch (IOException refused) {
                return true;
              }
            });
    await()
        .atMost(Conformance.WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        Conformance.listener(c.status("Gateway", INFRA, name), "http")
                            .isMissingNode())
                    .isTrue());
    c.awaitBackend(two, Request.get("any.example", "/"), "infra-backend-v1");
  }

  @Test
  void gatewayInvalidTLSConfiguration() {
    int good = Ports.free();
    int bad = Ports.free();
    var b64 = Base64.getEncoder();
    c.apply(
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: malformed-certificate, namespace: INFRA}
        type: kubernetes.io/tls
        data: {tls.crt: CRT, tls.key: KEY}
        """
            .replace(
                "CRT", b64.encodeToString("not a certificate".getBytes(StandardCharsets.UTF_8)))
            .replace("KEY", b64.encodeToString("not a key".getBytes(StandardCharsets.UTF_8))));
    var name = "gateway-invalid-tls-configuration";
    c.apply(
        gateway(
            name,
            """
            - {name: http, port: GOOD, protocol: HTTP}
            - name: https-missing-secret
              port: BAD
              protocol: HTTPS
              hostname: missing.example
              tls: {certificateRefs: [{name: no-such-secret}]}
            - name: https-malformed-secret
              port: BAD
              protocol: HTTPS
              hostname: malformed.example
              tls: {certificateRefs: [{name: malformed-certificate}]}
            """
                .replace("GOOD", "" + good)
                .replace("BAD", "" + bad)));
    c.apply(
        route(
            "served-beside-bad-tls",
            INFRA,
            """
            parentRefs: [{name: gateway-invalid-tls-configuration, sectionName: http}]
            rules:
            - backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    for (var listener : new String[] {"https-missing-secret", "https-malformed-secret"}) {
      c.awaitListener(
          INFRA,
          name,
          listener,
          "ResolvedRefs=False/InvalidCertificateRef",
          "Programmed=False/Invalid");
    }
    c.awaitListener(INFRA, name, "http", "Programmed=True/Programmed");
    c.awaitGateway(INFRA, name, "Accepted=True/ListenersNotValid");
    c.awaitBackend(good, Request.get("any.example", "/"), "infra-backend-v2");
  }

  @Test
  void gatewaySecretMissingReferenceGrantThenGatewaySecretReferenceGrantSpecific()
      throws Exception {
    int port = Ports.free();
    c.apply(
        Conformance.tlsSecret(APP, "certificate", Conformance.selfSigned("secret-grant.example")));
    var name = "gateway-secret-reference-grant";
    c.apply(
        gateway(
            name,
            """
            - name: https
              port: PORT
              protocol: HTTPS
              tls: {certificateRefs: [{name: certificate, namespace: APP}]}
            """
                .replace("PORT", "" + port)
                .replace("APP", APP)));
    c.apply(
        route(
            "secret-grant",
            INFRA,
            """
            parentRefs: [{name: gateway-secret-reference-grant}]
            hostnames: [secret-grant.example]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.awaitListener(
        INFRA, name, "https", "ResolvedRefs=False/RefNotPermitted", "Programmed=False/Invalid");

    c.apply(
        """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: reference-grant-secret, namespace: APP}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: INFRA}]
          to: [{group: "", kind: Secret, name: certificate}]
        """
            .replace("APP", APP));
    c.awaitListener(
        INFRA, name, "https", "ResolvedRefs=True/ResolvedRefs", "Programmed=True/Programmed");
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              var r =
                  Wire.https(
                      port, "secret-grant.example", Request.get("secret-grant.example", "/"));
              assertThat(r.backend()).isEqualTo("infra-backend-v1");
            });
    assertThat(Wire.certificateSubject(port, "secret-grant.example"))
        .isEqualTo("CN=secret-grant.example");
  }

  @Test
  void httpRouteHTTPSListener() throws Exception {
    int port = Ports.free();
    c.apply(
        Conformance.tlsSecret(
            INFRA,
            "tls-checks-certificate",
            Conformance.selfSigned("example.org", "second.example.org")));
    var name = "same-namespace-with-https-listener";
    c.apply(
        gateway(
            name,
            """
            - name: https
              port: PORT
              protocol: HTTPS
              tls: {certificateRefs: [{name: tls-checks-certificate}]}
            """
                .replace("PORT", "" + port)));
    c.apply(
        route(
            "https-listener",
            INFRA,
            """
            parentRefs: [{name: same-namespace-with-https-listener}]
            hostnames: [example.org]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.apply(
        route(
            "https-listener-second",
            INFRA,
            """
            parentRefs: [{name: same-namespace-with-https-listener}]
            hostnames: [second.example.org]
            rules:
            - backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    c.awaitAccepted("HTTPRoute", INFRA, "https-listener", name);
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(Wire.https(port, "example.org", Request.get("example.org", "/")).backend())
                  .isEqualTo("infra-backend-v1");
              assertThat(
                      Wire.https(port, "second.example.org", Request.get("second.example.org", "/"))
                          .backend())
                  .isEqualTo("infra-backend-v2");
            });
    assertThat(Wire.https(port, "example.org", Request.get("unknown.example.org", "/")).status())
        .isEqualTo(404);
    assertThat(Wire.certificateSubject(port, "example.org")).isEqualTo("CN=example.org");
  }

  @Test
  void gatewayWithAttachedRoutes() {
    int http = Ports.free();
    int https = Ports.free();
    var name = "gateway-with-attached-routes";
    c.apply(
        gateway(
            name,
            """
            - {name: http, port: PORT1, protocol: HTTP}
            - {name: http-unattached, port: PORT1, protocol: HTTP, hostname: unattached.example}
            - name: https-unresolved
              port: PORT2
              protocol: HTTPS
              hostname: unresolved.example
              tls: {certificateRefs: [{name: no-such-secret}]}
            """
                .replace("PORT1", "" + http)
                .replace("PORT2", "" + https)));
    var spec =
        """
        parentRefs: [{name: gateway-with-attached-routes, sectionName: SECTION}]
        rules:
        - backendRefs: [{name: infra-backend-v1, port: 8080}]
        """;
    c.apply(route("attached-one", INFRA, spec.replace("SECTION", "http")));
    c.apply(route("attached-two", INFRA, spec.replace("SECTION", "http")));
    c.apply(route("attached-unresolved", INFRA, spec.replace("SECTION", "https-unresolved")));
    awaitAttached(name, "http", 2);
    awaitAttached(name, "http-unattached", 0);
    awaitAttached(name, "https-unresolved", 1);
    c.delete("HTTPRoute", INFRA, "attached-two");
    awaitAttached(name, "http", 1);
  }

  private void awaitAttached(String gateway, String listener, int n) {
    await()
        .atMost(Conformance.WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        Conformance.listener(c.status("Gateway", INFRA, gateway), listener)
                            .path("attachedRoutes")
                            .asInt(-1))
                    .as("attachedRoutes of %s", listener)
                    .isEqualTo(n));
  }

  @Test
  void gatewayInvalidRouteKind() {
    int port = Ports.free();
    var name = "gateway-invalid-route-kind";
    c.apply(
        gateway(
                name,
                """
                - name: only-invalid
                  port: PORT
                  protocol: HTTP
                  allowedRoutes: {kinds: [{group: gateway.networking.k8s.io, kind: FooRoute}]}
                - name: invalid-and-valid
                  port: PORT
                  protocol: HTTP
                  hostname: valid.example
                  allowedRoutes:
                    kinds:
                    - {group: gateway.networking.k8s.io, kind: FooRoute}
                    - {group: gateway.networking.k8s.io, kind: HTTPRoute}
                """)
            .replace("PORT", "" + port));
    c.awaitListener(INFRA, name, "only-invalid", "ResolvedRefs=False/InvalidRouteKinds");
    c.awaitListener(INFRA, name, "invalid-and-valid", "ResolvedRefs=False/InvalidRouteKinds");
    var gw = c.status("Gateway", INFRA, name);
    assertThat(Conformance.listener(gw, "only-invalid").path("supportedKinds").size()).isZero();
    var kinds = Conformance.listener(gw, "invalid-and-valid").path("supportedKinds");
    assertThat(kinds.size()).isEqualTo(1);
    assertThat(kinds.get(0).path("kind").asText()).isEqualTo("HTTPRoute");
    // The listener that still takes HTTPRoutes serves them.
    c.apply(
        route(
            "invalid-route-kind-valid",
            INFRA,
            """
            parentRefs: [{name: gateway-invalid-route-kind, sectionName: invalid-and-valid}]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.awaitBackend(port, Request.get("valid.example", "/"), "infra-backend-v1");
  }

  /**
   * Listeners conflicting on a port (two HTTP listeners without a hostname; HTTP and TCP on one
   * port) are conflicted and not served; a listener of the same Gateway on another port is served.
   */
  @Test
  void conflictingListenersAffectNoOtherListener() {
    int shared = Ports.free();
    int mixed = Ports.free();
    int good = Ports.free();
    var name = "gateway-conflicted-listeners";
    c.apply(
        gateway(
            name,
            """
            - {name: a, port: SHARED, protocol: HTTP}
            - {name: b, port: SHARED, protocol: HTTP}
            - {name: c, port: MIXED, protocol: HTTP}
            - {name: d, port: MIXED, protocol: TCP}
            - {name: good, port: GOOD, protocol: HTTP}
            """
                .replace("SHARED", "" + shared)
                .replace("MIXED", "" + mixed)
                .replace("GOOD", "" + good)));
    c.apply(
        route(
            "beside-conflicts",
            INFRA,
            """
            parentRefs: [{name: gateway-conflicted-listeners}]
            rules:
            - backendRefs: [{name: infra-backend-v3, port: 8080}]
            """));
    for (var l : new String[] {"a", "b"}) {
      c.awaitListener(
          INFRA, name, l, "Conflicted=True/HostnameConflict", "Programmed=False/Invalid");
    }
    for (var l : new String[] {"c", "d"}) {
      c.awaitListener(
          INFRA, name, l, "Conflicted=True/ProtocolConflict", "Programmed=False/Invalid");
    }
    c.awaitListener(
        INFRA, name, "good", "Conflicted=False/NoConflicts", "Programmed=True/Programmed");
    c.awaitBackend(good, Request.get("any.example", "/"), "infra-backend-v3");
    assertThat(refused(shared)).isTrue();
  }

  private static boolean refused(int port) {
    try {
      Wire.http(port, Request.get("any.example", "/"));
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
