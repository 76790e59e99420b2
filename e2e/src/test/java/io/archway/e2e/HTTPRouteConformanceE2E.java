package io.archway.e2e;

import static io.archway.e2e.Conformance.APP;
import static io.archway.e2e.Conformance.INFRA;
import static io.archway.e2e.Conformance.WEB;
import static io.archway.e2e.Conformance.gateway;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Wire.Request;
import java.util.HashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Gateway API conformance tests of HTTPRoute (gateway-api v1.2 {@code conformance/tests}, one
 * method per test, named after its ShortName) through the real processes of {@link Conformance}:
 * each asserts the traffic the dataplane serves and the status the spec requires. Routes carry
 * hostnames of their own so that tests never see each other's routes on the shared Gateways.
 */
class HTTPRouteConformanceE2E {

  @RegisterExtension static final Conformance c = new Conformance();

  static final String ROUTE =
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: NAME,"
          + " namespace: NS}\nspec:\n";

  /** An HTTPRoute's YAML: name, namespace, then the spec's lines (indented by two). */
  static String route(String name, String ns, String spec) {
    return ROUTE.replace("NAME", name).replace("NS", ns) + spec.stripIndent().indent(2);
  }

  int same() {
    return c.port("same-namespace");
  }

  @Test
  void httpRouteSimpleSameNamespace() {
    c.apply(
        route(
            "gateway-conformance-infra-test",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [simple.example]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.awaitAccepted("HTTPRoute", INFRA, "gateway-conformance-infra-test", "same-namespace");
    var r = c.awaitBackend(same(), Request.get("simple.example", "/"), "infra-backend-v1");
    assertThat(r.header("x-echo-backend")).isEqualTo("infra-backend-v1");
  }

  @Test
  void httpRouteCrossNamespace() {
    c.apply(
        route(
            "cross-namespace",
            WEB,
            """
            parentRefs: [{name: backend-namespaces, namespace: INFRA}]
            hostnames: [cross.example]
            rules:
            - backendRefs: [{name: web-backend, port: 8080}]
            """));
    c.awaitAccepted("HTTPRoute", WEB, "cross-namespace", "backend-namespaces");
    c.awaitBackend(c.port("backend-namespaces"), Request.get("cross.example", "/"), "web-backend");
  }

  @Test
  void httpRouteInvalidCrossNamespaceParentRef() {
    c.apply(
        route(
            "invalid-cross-namespace-parent-ref",
            WEB,
            """
            parentRefs: [{name: same-namespace, namespace: INFRA}]
            hostnames: [invalid-parent.example]
            rules:
            - backendRefs: [{name: web-backend, port: 8080}]
            """));
    c.awaitRoute(
        "HTTPRoute",
        WEB,
        "invalid-cross-namespace-parent-ref",
        "same-namespace",
        "Accepted=False/NotAllowedByListeners");
    c.awaitStatus(same(), Request.get("invalid-parent.example", "/"), 404);
  }

  @Test
  void httpRouteReferenceGrant() {
    c.apply(
        """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: reference-grant, namespace: APP}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: INFRA}]
          to: [{group: "", kind: Service, name: app-backend-v1}]
        """
            .replace("APP", APP));
    c.apply(
        route(
            "reference-grant",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [grant.example]
            rules:
            - backendRefs: [{name: app-backend-v1, namespace: APP, port: 8080}]
            """
                .replace("APP", APP)));
    c.awaitAccepted("HTTPRoute", INFRA, "reference-grant", "same-namespace");
    c.awaitBackend(same(), Request.get("grant.example", "/"), "app-backend-v1");
  }

  @Test
  void httpRouteInvalidCrossNamespaceBackendRef() {
    unresolvedBackend(
        "invalid-cross-namespace-backend-ref",
        "invalid-backend-ns.example",
        "{name: web-backend, namespace: WEB, port: 8080}".replace("WEB", WEB),
        "RefNotPermitted");
  }

  @Test
  void httpRouteInvalidNonExistentBackendRef() {
    unresolvedBackend(
        "invalid-nonexistent-backend-ref",
        "nonexistent.example",
        "{name: nonexistent, port: 8080}",
        "BackendNotFound");
  }

  @Test
  void httpRouteInvalidBackendRefUnknownKind() {
    unresolvedBackend(
        "invalid-backend-ref-unknown-kind",
        "unknown-kind.example",
        "{group: unknown.example.com, kind: UnknownKind, name: infra-backend-v1, port: 8080}",
        "InvalidKind");
  }

  @Test
  void httpRouteInvalidReferenceGrant() {
    // The grant names another Service: the backend stays not permitted.
    c.apply(
        """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: reference-grant-wrong-name, namespace: APP}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: INFRA}]
          to: [{group: "", kind: Service, name: not-app-backend-v2}]
        """
            .replace("APP", APP));
    unresolvedBackend(
        "invalid-reference-grant",
        "invalid-grant.example",
        "{name: app-backend-v2, namespace: APP, port: 8080}".replace("APP", APP),
        "RefNotPermitted");
  }

  /**
   * A route whose one backend does not resolve: accepted, {@code ResolvedRefs: False} with that
   * reason, and every request answered 500.
   */
  private void unresolvedBackend(String name, String host, String backendRef, String reason) {
    c.apply(
        route(
            name,
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [HOST]
            rules:
            - backendRefs: [BACKEND]
            """
                .replace("HOST", host)
                .replace("BACKEND", backendRef)));
    c.awaitRoute(
        "HTTPRoute",
        INFRA,
        name,
        "same-namespace",
        "Accepted=True/Accepted",
        "ResolvedRefs=False/" + reason);
    c.awaitStatus(same(), Request.get(host, "/"), 500);
  }

  @Test
  void httpRoutePartiallyInvalidViaInvalidReferenceGrant() {
    c.apply(
        """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: reference-grant-other-ns, namespace: APP}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: WEB}]
          to: [{group: "", kind: Service}]
        """
            .replace("APP", APP)
            .replace("WEB", WEB));
    c.apply(
        route(
            "partially-invalid",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [partial.example]
            rules:
            - matches: [{path: {type: PathPrefix, value: /invalid}}]
              backendRefs: [{name: app-backend-v1, namespace: APP, port: 8080}]
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """
                .replace("APP", APP)));
    c.awaitRoute(
        "HTTPRoute",
        INFRA,
        "partially-invalid",
        "same-namespace",
        "Accepted=True/Accepted",
        "ResolvedRefs=False/RefNotPermitted");
    c.awaitBackend(same(), Request.get("partial.example", "/"), "infra-backend-v1");
    c.awaitStatus(same(), Request.get("partial.example", "/invalid"), 500);
  }

  @Test
  void httpRouteInvalidParentRefNotMatchingSectionName() {
    c.apply(
        route(
            "httproute-not-matching-section-name",
            INFRA,
            """
            parentRefs: [{name: same-namespace, sectionName: nonexistent}]
            hostnames: [section.example]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.awaitRoute(
        "HTTPRoute",
        INFRA,
        "httproute-not-matching-section-name",
        "same-namespace",
        "Accepted=False/NoMatchingParent");
    c.awaitStatus(same(), Request.get("section.example", "/"), 404);
  }

  @Test
  void httpRouteObservedGenerationBump() {
    var yaml =
        route(
            "observed-generation-bump",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [generation.example]
            rules:
            - backendRefs: [{name: BACKEND, port: 8080}]
            """);
    c.apply(yaml.replace("BACKEND", "infra-backend-v1"));
    c.awaitRoute(
        "HTTPRoute", INFRA, "observed-generation-bump", "same-namespace", "Accepted=True/Accepted");
    long before = observedGeneration();
    assertThat(before).isPositive();
    c.apply(yaml.replace("BACKEND", "infra-backend-v2"));
    await()
        .atMost(Conformance.WAIT)
        .untilAsserted(() -> assertThat(observedGeneration()).isGreaterThan(before));
    c.awaitRoute(
        "HTTPRoute", INFRA, "observed-generation-bump", "same-namespace", "Accepted=True/Accepted");
    c.awaitBackend(same(), Request.get("generation.example", "/"), "infra-backend-v2");
  }

  private long observedGeneration() {
    var r = c.status("HTTPRoute", INFRA, "observed-generation-bump");
    long g = r.path("metadata").path("generation").asLong();
    for (var cond : Conformance.parent(r, "same-namespace").path("conditions")) {
      assertThat(cond.path("observedGeneration").asLong()).isEqualTo(g);
    }
    return g;
  }

  @Test
  void httpRouteHeaderMatching() {
    c.apply(
        route(
            "header-matching",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [headers.example]
            rules:
            - matches: [{headers: [{name: version, value: one}]}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{headers: [{name: version, value: two}]}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    var get = Request.get("headers.example", "/");
    c.awaitBackend(same(), get.with("Version", "one"), "infra-backend-v1");
    c.awaitBackend(same(), get.with("Version", "two"), "infra-backend-v2");
    c.awaitBackend(same(), get.with("Version", "two").with("Color", "orange"), "infra-backend-v1");
    c.awaitBackend(same(), get.with("Color", "blue"), "infra-backend-v1");
    c.awaitBackend(same(), get.with("Color", "green"), "infra-backend-v1");
    c.awaitBackend(same(), get.with("Color", "red"), "infra-backend-v2");
    c.awaitBackend(same(), get.with("Color", "yellow"), "infra-backend-v2");
    c.awaitStatus(same(), get.with("Version", "four"), 404);
    c.awaitStatus(same(), get, 404);
  }

  @Test
  void httpRouteQueryParamMatching() {
    c.apply(
        route(
            "query-param-matching",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [query.example]
            rules:
            - matches: [{queryParams: [{name: animal, value: whale}]}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{queryParams: [{name: animal, value: dolphin}]}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            - matches: [{queryParams: [{name: animal, value: dolphin}, {name: color, value: blue}]}]
              backendRefs: [{name: infra-backend-v3, port: 8080}]
            """));
    c.awaitBackend(same(), Request.get("query.example", "/?animal=whale"), "infra-backend-v1");
    c.awaitBackend(same(), Request.get("query.example", "/?animal=dolphin"), "infra-backend-v2");
    c.awaitBackend(
        same(), Request.get("query.example", "/?animal=dolphin&color=blue"), "infra-backend-v3");
    c.awaitStatus(same(), Request.get("query.example", "/?animal=shark"), 404);
    c.awaitStatus(same(), Request.get("query.example", "/"), 404);
  }

  @Test
  void httpRouteMethodMatching() {
    c.apply(
        route(
            "method-matching",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [method.example]
            rules:
            - matches: [{method: POST}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{method: GET}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    var get = Request.get("method.example", "/");
    c.awaitBackend(same(), get.method("POST").with("Content-Length", "0"), "infra-backend-v1");
    c.awaitBackend(same(), get, "infra-backend-v2");
    c.awaitStatus(same(), get.method("HEAD"), 404);
  }

  @Test
  void httpRouteExactPathMatching() {
    c.apply(
        route(
            "exact-matching",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [exact.example]
            rules:
            - matches: [{path: {type: Exact, value: /one}}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{path: {type: Exact, value: /two}}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    c.awaitBackend(same(), Request.get("exact.example", "/one"), "infra-backend-v1");
    c.awaitBackend(same(), Request.get("exact.example", "/two"), "infra-backend-v2");
    c.awaitStatus(same(), Request.get("exact.example", "/"), 404);
    c.awaitStatus(same(), Request.get("exact.example", "/one/example"), 404);
    c.awaitStatus(same(), Request.get("exact.example", "/two/"), 404);
  }

  @Test
  void httpRouteMatching() {
    c.apply(
        route(
            "matching",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [matching.example]
            rules:
            - matches: [{path: {type: PathPrefix, value: /}}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{path: {type: PathPrefix, value: /v2}}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    var host = "matching.example";
    c.awaitBackend(same(), Request.get(host, "/"), "infra-backend-v1");
    c.awaitBackend(same(), Request.get(host, "/example"), "infra-backend-v1");
    c.awaitBackend(same(), Request.get(host, "/v2"), "infra-backend-v2");
    c.awaitBackend(same(), Request.get(host, "/v2/example"), "infra-backend-v2");
    c.awaitBackend(same(), Request.get(host, "/v2example"), "infra-backend-v1");
  }

  @Test
  void httpRouteMatchingAcrossRoutes() {
    c.apply(
        route(
            "matching-part1",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [across.example, across-two.example]
            rules:
            - matches: [{path: {type: PathPrefix, value: /}}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{path: {type: PathPrefix, value: /v2}}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    c.apply(
        route(
            "matching-part2",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [across.example]
            rules:
            - matches: [{path: {type: PathPrefix, value: /v2}, headers: [{name: version, value: two}]}]
              backendRefs: [{name: infra-backend-v3, port: 8080}]
            """));
    c.awaitBackend(same(), Request.get("across.example", "/"), "infra-backend-v1");
    c.awaitBackend(same(), Request.get("across-two.example", "/v2"), "infra-backend-v2");
    c.awaitBackend(
        same(), Request.get("across.example", "/v2").with("Version", "two"), "infra-backend-v3");
    c.awaitBackend(
        same(),
        Request.get("across-two.example", "/v2").with("Version", "two"),
        "infra-backend-v2");
    c.awaitBackend(same(), Request.get("across.example", "/v2"), "infra-backend-v2");
  }

  @Test
  void httpRoutePathMatchOrder() {
    c.apply(
        route(
            "path-matching-order",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [order.example]
            rules:
            - matches: [{path: {type: PathPrefix, value: /match}}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            - matches: [{path: {type: PathPrefix, value: /match/prefix}}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            - matches: [{path: {type: Exact, value: /match/exact}}]
              backendRefs: [{name: infra-backend-v3, port: 8080}]
            - matches: [{path: {type: PathPrefix, value: /match/prefix/one}, method: POST}]
              backendRefs: [{name: infra-backend-v3, port: 8080}]
            """));
    var host = "order.example";
    c.awaitBackend(same(), Request.get(host, "/match/exact"), "infra-backend-v3");
    c.awaitBackend(same(), Request.get(host, "/match/exact/two"), "infra-backend-v1");
    c.awaitBackend(same(), Request.get(host, "/match/prefix/x"), "infra-backend-v2");
    c.awaitBackend(same(), Request.get(host, "/match/prefix/one"), "infra-backend-v2");
    c.awaitBackend(
        same(),
        Request.get(host, "/match/prefix/one").method("POST").with("Content-Length", "0"),
        "infra-backend-v3");
    c.awaitBackend(same(), Request.get(host, "/match/other"), "infra-backend-v1");
  }

  @Test
  void httpRouteWeight() throws Exception {
    c.apply(
        route(
            "weighted-backends",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [weight.example]
            rules:
            - backendRefs:
              - {name: infra-backend-v1, port: 8080, weight: 70}
              - {name: infra-backend-v2, port: 8080, weight: 30}
              - {name: infra-backend-v3, port: 8080, weight: 0}
            """));
    var get = Request.get("weight.example", "/");
    c.awaitStatus(same(), get, 200);
    var counts = new HashMap<String, Integer>();
    for (int i = 0; i < 200; i++) {
      var r = Wire.http(same(), get);
      assertThat(r.status()).isEqualTo(200);
      counts.merge(r.backend(), 1, Integer::sum);
    }
    // Statistical: 70/30 of 200 requests, with loose bounds; weight 0 takes nothing.
    assertThat(counts.getOrDefault("infra-backend-v3", 0)).isZero();
    assertThat(counts.getOrDefault("infra-backend-v1", 0)).isBetween(100, 180);
    assertThat(counts.getOrDefault("infra-backend-v2", 0)).isBetween(20, 100);
  }

  @Test
  void httpRouteHostnameIntersection() {
    int port = io.archway.model.testing.Ports.free();
    c.apply(
        gateway(
                "httproute-hostname-intersection",
                """
            - {name: listener-1, port: PORT, protocol: HTTP, hostname: very.specific.com}
            - {name: listener-2, port: PORT, protocol: HTTP, hostname: "*.wildcard.io"}
            - {name: listener-3, port: PORT, protocol: HTTP, hostname: "*.anotherwildcard.io"}
            """)
            .replace("PORT", "" + port));
    var gw = "httproute-hostname-intersection";
    c.apply(
        route(
            "specific-host-matches-listener-specific-host",
            INFRA,
            """
            parentRefs: [{name: httproute-hostname-intersection}]
            hostnames: [non.matching.com, "*.nonmatchingwildcard.io", very.specific.com]
            rules:
            - matches: [{path: {type: PathPrefix, value: /s1}}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.apply(
        route(
            "specific-host-matches-listener-wildcard-host",
            INFRA,
            """
            parentRefs: [{name: httproute-hostname-intersection}]
            hostnames: [non.matching.com, wildcard.io, foo.wildcard.io, bar.wildcard.io, foo.bar.wildcard.io]
            rules:
            - matches: [{path: {type: PathPrefix, value: /s2}}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    c.apply(
        route(
            "wildcard-host-matches-listener-wildcard-host",
            INFRA,
            """
            parentRefs: [{name: httproute-hostname-intersection}]
            hostnames: ["*.anotherwildcard.io"]
            rules:
            - matches: [{path: {type: PathPrefix, value: /s4}}]
              backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.apply(
        route(
            "no-intersecting-hosts",
            INFRA,
            """
            parentRefs: [{name: httproute-hostname-intersection}]
            hostnames: [specific.but.wrong.com, wildcard.io]
            rules:
            - matches: [{path: {type: PathPrefix, value: /s5}}]
              backendRefs: [{name: infra-backend-v3, port: 8080}]
            """));
    c.awaitRoute(
        "HTTPRoute",
        INFRA,
        "no-intersecting-hosts",
        gw,
        "Accepted=False/NoMatchingListenerHostname");
    c.awaitBackend(port, Request.get("very.specific.com", "/s1"), "infra-backend-v1");
    c.awaitStatus(port, Request.get("non.matching.com", "/s1"), 404);
    c.awaitBackend(port, Request.get("foo.wildcard.io", "/s2"), "infra-backend-v2");
    c.awaitBackend(port, Request.get("foo.bar.wildcard.io", "/s2"), "infra-backend-v2");
    c.awaitStatus(port, Request.get("wildcard.io", "/s2"), 404);
    c.awaitBackend(port, Request.get("very.anotherwildcard.io", "/s4"), "infra-backend-v1");
    c.awaitBackend(port, Request.get("a.b.anotherwildcard.io", "/s4"), "infra-backend-v1");
    c.awaitStatus(port, Request.get("specific.but.wrong.com", "/s5"), 404);
    c.awaitStatus(port, Request.get("wildcard.io", "/s5"), 404);
  }

  @Test
  void httpRouteListenerHostnameMatching() {
    int port = io.archway.model.testing.Ports.free();
    var gw = "httproute-listener-hostname-matching";
    c.apply(
        gateway(
                "GW",
                """
            - {name: listener-1, port: PORT, protocol: HTTP, hostname: bar.com}
            - {name: listener-2, port: PORT, protocol: HTTP, hostname: foo.bar.com}
            - {name: listener-3, port: PORT, protocol: HTTP, hostname: "*.bar.com"}
            - {name: listener-4, port: PORT, protocol: HTTP, hostname: "*.foo.com"}
            """)
            .replace("GW", gw)
            .replace("PORT", "" + port));
    var spec =
        """
        parentRefs: PARENTS
        rules:
        - backendRefs: [{name: BACKEND, port: 8080}]
        """;
    c.apply(
        route(
            "backend-v1",
            INFRA,
            spec.replace("PARENTS", "[{name: GW, sectionName: listener-1}]")
                .replace("GW", gw)
                .replace("BACKEND", "infra-backend-v1")));
    c.apply(
        route(
            "backend-v2",
            INFRA,
            spec.replace("PARENTS", "[{name: GW, sectionName: listener-2}]")
                .replace("GW", gw)
                .replace("BACKEND", "infra-backend-v2")));
    c.apply(
        route(
            "backend-v3",
            INFRA,
            spec.replace(
                    "PARENTS",
                    "[{name: GW, sectionName: listener-3}, {name: GW, sectionName: listener-4}]")
                .replace("GW", gw)
                .replace("BACKEND", "infra-backend-v3")));
    c.awaitBackend(port, Request.get("bar.com", "/"), "infra-backend-v1");
    c.awaitBackend(port, Request.get("foo.bar.com", "/"), "infra-backend-v2");
    c.awaitBackend(port, Request.get("baz.bar.com", "/"), "infra-backend-v3");
    c.awaitBackend(port, Request.get("boo.bar.com", "/"), "infra-backend-v3");
    c.awaitBackend(port, Request.get("multiple.prefixes.bar.com", "/"), "infra-backend-v3");
    c.awaitBackend(port, Request.get("multiple.prefixes.foo.com", "/"), "infra-backend-v3");
    c.awaitStatus(port, Request.get("foo.com", "/"), 404);
    c.awaitStatus(port, Request.get("no.matching.host", "/"), 404);
  }

  @Test
  void gatewayHTTPListenerIsolation() {
    int port = io.archway.model.testing.Ports.free();
    var gw = "http-listener-isolation";
    c.apply(
        gateway(
                "GW",
                """
            - {name: empty-hostname, port: PORT, protocol: HTTP}
            - {name: wildcard-example-com, port: PORT, protocol: HTTP, hostname: "*.example.com"}
            - {name: wildcard-foo-example-com, port: PORT, protocol: HTTP, hostname: "*.foo.example.com"}
            - {name: abc-foo-example-com, port: PORT, protocol: HTTP, hostname: abc.foo.example.com}
            """)
            .replace("GW", gw)
            .replace("PORT", "" + port));
    var spec =
        """
        parentRefs: [{name: GW, sectionName: SECTION}]
        rules:
        - matches: [{path: {type: PathPrefix, value: /SECTION}}]
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        """;
    for (var section :
        java.util.List.of(
            "empty-hostname",
            "wildcard-example-com",
            "wildcard-foo-example-com",
            "abc-foo-example-com")) {
      c.apply(
          route(
              "attached-to-" + section, INFRA, spec.replace("GW", gw).replace("SECTION", section)));
    }
    c.awaitBackend(port, Request.get("bar.com", "/empty-hostname"), "infra-backend-v1");
    c.awaitBackend(
        port, Request.get("bar.example.com", "/wildcard-example-com"), "infra-backend-v1");
    c.awaitBackend(
        port, Request.get("bar.foo.example.com", "/wildcard-foo-example-com"), "infra-backend-v1");
    c.awaitBackend(
        port, Request.get("abc.foo.example.com", "/abc-foo-example-com"), "infra-backend-v1");
    // A request goes only to the routes of the most specific listener its host matches.
    c.awaitStatus(port, Request.get("bar.com", "/wildcard-example-com"), 404);
    c.awaitStatus(port, Request.get("bar.example.com", "/empty-hostname"), 404);
    c.awaitStatus(port, Request.get("bar.foo.example.com", "/wildcard-example-com"), 404);
    c.awaitStatus(port, Request.get("abc.foo.example.com", "/wildcard-foo-example-com"), 404);
    c.awaitStatus(port, Request.get("abc.foo.example.com", "/empty-hostname"), 404);
  }

  @Test
  void httpRouteDisallowedKind() {
    int port = io.archway.model.testing.Ports.free();
    c.apply(
        gateway(
                "tlsroutes-only",
                """
            - name: http
              port: PORT
              protocol: HTTP
              allowedRoutes: {kinds: [{kind: TLSRoute}]}
            """)
            .replace("PORT", "" + port));
    c.apply(
        route(
            "disallowed-kind",
            INFRA,
            """
            parentRefs: [{name: tlsroutes-only}]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.awaitListener(INFRA, "tlsroutes-only", "http", "ResolvedRefs=False/InvalidRouteKinds");
    c.awaitRoute(
        "HTTPRoute",
        INFRA,
        "disallowed-kind",
        "tlsroutes-only",
        "Accepted=False/NotAllowedByListeners");
    assertThat(
            Conformance.listener(c.status("Gateway", INFRA, "tlsroutes-only"), "http")
                .path("attachedRoutes")
                .asInt())
        .isZero();
  }

  @Test
  void httpRouteParentRefPort() {
    int one = io.archway.model.testing.Ports.free();
    int two = io.archway.model.testing.Ports.free();
    c.apply(
        gateway(
                "httproute-parentref-port",
                """
            - {name: one, port: ONE, protocol: HTTP}
            - {name: two, port: TWO, protocol: HTTP}
            """)
            .replace("ONE", "" + one)
            .replace("TWO", "" + two));
    c.apply(
        route(
            "httproute-parentref-port",
            INFRA,
            """
            parentRefs: [{name: httproute-parentref-port, port: TWO}]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """
                .replace("TWO", "" + two)));
    c.apply(
        route(
            "httproute-parentref-no-such-port",
            INFRA,
            """
            parentRefs: [{name: httproute-parentref-port, port: 1}]
            hostnames: [no-such-port.example]
            rules:
            - backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    c.awaitRoute(
        "HTTPRoute",
        INFRA,
        "httproute-parentref-port",
        "httproute-parentref-port",
        "Accepted=True/Accepted");
    c.awaitRoute(
        "HTTPRoute",
        INFRA,
        "httproute-parentref-no-such-port",
        "httproute-parentref-port",
        "Accepted=False/NoMatchingParent");
    c.awaitBackend(two, Request.get("any.example", "/"), "infra-backend-v1");
    c.awaitStatus(one, Request.get("any.example", "/"), 404);
  }

  /**
   * The bad inputs, each next to a good route on the same Gateway that stays served: a
   * route whose parent Gateway does not exist, a hostname no listener allows, a regex that does not
   * compile, a cross-namespace backend without a grant.
   */
  @Test
  void badRoutesAffectNoOtherRoute() {
    c.apply(
        route(
            "good",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [good.example]
            rules:
            - backendRefs: [{name: infra-backend-v1, port: 8080}]
            """));
    c.apply(
        route(
            "missing-parent",
            INFRA,
            """
            parentRefs: [{name: no-such-gateway}]
            hostnames: [good.example]
            rules:
            - matches: [{path: {type: PathPrefix, value: /missing-parent}}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    c.apply(
        route(
            "bad-regex",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [good.example]
            rules:
            - matches: [{path: {type: RegularExpression, value: "/bad/(unclosed"}}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            - matches: [{path: {type: PathPrefix, value: /bad-regex}}]
              backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    c.apply(
        route(
            "no-grant",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [good.example]
            rules:
            - matches: [{path: {type: PathPrefix, value: /no-grant}}]
              backendRefs: [{name: web-backend, namespace: WEB, port: 8080}]
            """
                .replace("WEB", WEB)));
    var lonely = io.archway.model.testing.Ports.free();
    c.apply(
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: only-foo, namespace: INFRA}
        spec:
          gatewayClassName: archway
          listeners: [{name: http, port: PORT, protocol: HTTP, hostname: foo.example}]
        """
            .replace("PORT", "" + lonely));
    c.apply(
        route(
            "hostname-not-allowed",
            INFRA,
            """
            parentRefs: [{name: only-foo}]
            hostnames: [bar.example]
            rules:
            - backendRefs: [{name: infra-backend-v2, port: 8080}]
            """));
    c.awaitRoute(
        "HTTPRoute", INFRA, "missing-parent", "no-such-gateway", "Accepted=False/NoMatchingParent");
    c.awaitRoute(
        "HTTPRoute", INFRA, "bad-regex", "same-namespace", "Accepted=False/UnsupportedValue");
    c.awaitRoute(
        "HTTPRoute", INFRA, "no-grant", "same-namespace", "ResolvedRefs=False/RefNotPermitted");
    c.awaitRoute(
        "HTTPRoute",
        INFRA,
        "hostname-not-allowed",
        "only-foo",
        "Accepted=False/NoMatchingListenerHostname");
    c.awaitAccepted("HTTPRoute", INFRA, "good", "same-namespace");
    var host = "good.example";
    c.awaitStatus(same(), Request.get(host, "/no-grant"), 500);
    for (var path : java.util.List.of("/", "/missing-parent", "/bad-regex")) {
      c.awaitBackend(same(), Request.get(host, path), "infra-backend-v1");
    }
    c.awaitStatus(lonely, Request.get("bar.example", "/"), 404);
  }
}
