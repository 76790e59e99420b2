package io.archway.e2e;

import static io.archway.e2e.Conformance.INFRA;
import static io.archway.e2e.HTTPRouteConformanceE2E.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Wire.Request;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Gateway API conformance tests of HTTPRoute filters and timeouts (gateway-api v1.2 {@code
 * conformance/tests} ShortNames; extended features) through the real processes of {@link
 * Conformance}: what the backend receives (the echo backend reports it) and what the client gets.
 */
class HTTPRouteFiltersConformanceE2E {

  @RegisterExtension static final Conformance c = new Conformance();

  int same() {
    return c.port("same-namespace");
  }

  private void rules(String name, String host, String rules) {
    c.apply(
        route(
            name,
            INFRA,
            "parentRefs: [{name: same-namespace}]\nhostnames: [HOST]\nrules:\n"
                    .replace("HOST", host)
                + rules.stripIndent()));
    c.awaitAccepted("HTTPRoute", INFRA, name, "same-namespace");
  }

  @Test
  void httpRouteRequestHeaderModifier() throws Exception {
    rules(
        "request-header-modifier",
        "request-headers.example",
        """
        - filters:
          - type: RequestHeaderModifier
            requestHeaderModifier:
              set: [{name: X-Header-Set, value: set-overwrites-values}]
              add: [{name: X-Header-Add, value: add-appends-values}]
              remove: [X-Header-Remove]
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        """);
    var r =
        c.awaitBackend(
            same(),
            Request.get("request-headers.example", "/")
                .with("X-Header-Set", "some-other-value")
                .with("X-Header-Add", "something")
                .with("X-Header-Remove", "val"),
            "infra-backend-v1");
    var headers = r.echo().path("headers");
    assertThat(headers.path("x-header-set").toString()).isEqualTo("[\"set-overwrites-values\"]");
    assertThat(headers.path("x-header-add").toString())
        .contains("something")
        .contains("add-appends-values");
    assertThat(headers.has("x-header-remove")).isFalse();
  }

  /**
   * HTTPRouteBackendRequestHeaderModification: each backendRef of a rule with two carries its own
   * filter; the headers a request gets are those of the backend that takes it (the filters ride on
   * the rule's traffic-split entries), both backends answering.
   */
  @Test
  void httpRouteBackendRequestHeaderModifier() throws Exception {
    rules(
        "backend-request-header-modifier",
        "backend-headers.example",
        """
        - filters:
          - type: RequestHeaderModifier
            requestHeaderModifier:
              set: [{name: X-Rule, value: rule}]
          backendRefs:
          - name: infra-backend-v1
            port: 8080
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier:
                set: [{name: X-Backend, value: v1}]
                remove: [X-Header-Remove]
          - name: infra-backend-v2
            port: 8080
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier:
                add: [{name: X-Backend, value: v2}]
        """);
    var get =
        Request.get("backend-headers.example", "/")
            .with("X-Backend", "client")
            .with("X-Header-Remove", "val");
    for (var backend : List.of("infra-backend-v1", "infra-backend-v2")) {
      var headers = c.awaitBackend(same(), get, backend).echo().path("headers");
      assertThat(headers.path("x-rule").toString()).isEqualTo("[\"rule\"]");
      if (backend.equals("infra-backend-v1")) {
        assertThat(headers.path("x-backend").toString()).isEqualTo("[\"v1\"]");
        assertThat(headers.has("x-header-remove")).isFalse();
      } else {
        assertThat(headers.path("x-backend").toString()).contains("client").contains("v2");
        assertThat(headers.has("x-header-remove")).isTrue();
      }
    }
  }

  /**
   * URLRewrite on the backendRefs of a rule with several: each backend's rewrite applies to the
   * requests it takes only (the traffic-split entry's proxy-rewrite, Archway's extension).
   */
  @Test
  void httpRouteBackendURLRewriteSeveralBackends() throws Exception {
    rules(
        "backend-url-rewrite",
        "backend-rewrite.example",
        """
        - matches: [{path: {type: PathPrefix, value: /shop}}]
          backendRefs:
          - name: infra-backend-v1
            port: 8080
            filters:
            - type: URLRewrite
              urlRewrite:
                hostname: v1.internal
                path: {type: ReplacePrefixMatch, replacePrefixMatch: /v1}
          - name: infra-backend-v2
            port: 8080
            filters:
            - type: URLRewrite
              urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /fixed}}
        """);
    var get = Request.get("backend-rewrite.example", "/shop/cart?q=1");
    var v1 = c.awaitBackend(same(), get, "infra-backend-v1").echo();
    assertThat(v1.path("path").asText()).isEqualTo("/v1/cart?q=1");
    assertThat(v1.path("host").asText()).isEqualTo("v1.internal");
    var v2 = c.awaitBackend(same(), get, "infra-backend-v2").echo();
    assertThat(v2.path("path").asText()).isEqualTo("/fixed?q=1");
    assertThat(v2.path("host").asText()).startsWith("backend-rewrite.example");
  }

  @Test
  void httpRouteResponseHeaderModifier() {
    rules(
        "response-header-modifier",
        "response-headers.example",
        """
        - filters:
          - type: ResponseHeaderModifier
            responseHeaderModifier:
              set: [{name: X-Echo-Backend, value: overwritten}]
              add: [{name: X-Header-Add, value: add-appends-values}]
              remove: [X-Header-Remove]
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        """);
    c.awaitHttp(
        same(),
        Request.get("response-headers.example", "/"),
        r -> {
          assertThat(r.status()).isEqualTo(200);
          assertThat(r.headers().get("x-echo-backend")).containsExactly("overwritten");
          assertThat(r.header("x-header-add")).isEqualTo("add-appends-values");
          assertThat(r.header("x-header-remove")).isNull();
        });
  }

  @Test
  void httpRouteRedirectHostAndStatus() {
    rules(
        "redirect-host-and-status",
        "redirect-host.example",
        """
        - matches: [{path: {type: PathPrefix, value: /hostname-redirect}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {hostname: example.org}
        - matches: [{path: {type: PathPrefix, value: /host-and-status}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {hostname: example.org, statusCode: 301}
        """);
    var r = c.awaitStatus(same(), Request.get("redirect-host.example", "/hostname-redirect"), 302);
    var location = URI.create(r.header("location"));
    assertThat(location.getHost()).isEqualTo("example.org");
    assertThat(location.getPath()).isEqualTo("/hostname-redirect");
    r = c.awaitStatus(same(), Request.get("redirect-host.example", "/host-and-status"), 301);
    assertThat(URI.create(r.header("location")).getHost()).isEqualTo("example.org");
  }

  @Test
  void httpRouteRedirectPath() {
    rules(
        "redirect-path",
        "redirect-path.example",
        """
        - matches: [{path: {type: PathPrefix, value: /original-prefix}}]
          filters:
          - type: RequestRedirect
            requestRedirect:
              path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}
        - matches: [{path: {type: PathPrefix, value: /full}}]
          filters:
          - type: RequestRedirect
            requestRedirect:
              path: {type: ReplaceFullPath, replaceFullPath: /full-path-replacement}
        """);
    var r =
        c.awaitStatus(same(), Request.get("redirect-path.example", "/original-prefix/lemon"), 302);
    assertThat(URI.create(r.header("location")).getPath()).isEqualTo("/replacement-prefix/lemon");
    r = c.awaitStatus(same(), Request.get("redirect-path.example", "/full/path/original"), 302);
    assertThat(URI.create(r.header("location")).getPath()).isEqualTo("/full-path-replacement");
  }

  @Test
  void httpRouteRedirectPort() {
    rules(
        "redirect-port",
        "redirect-port.example",
        """
        - filters:
          - type: RequestRedirect
            requestRedirect: {port: 8083}
        """);
    var r = c.awaitStatus(same(), Request.get("redirect-port.example", "/port"), 302);
    var location = URI.create(r.header("location"));
    assertThat(location.getScheme()).isEqualTo("http");
    assertThat(location.getHost()).isEqualTo("redirect-port.example");
    assertThat(location.getPort()).isEqualTo(8083);
    assertThat(location.getPath()).isEqualTo("/port");
  }

  @Test
  void httpRouteRedirectScheme() {
    rules(
        "redirect-scheme",
        "redirect-scheme.example",
        """
        - filters:
          - type: RequestRedirect
            requestRedirect: {scheme: https}
        """);
    var r = c.awaitStatus(same(), Request.get("redirect-scheme.example", "/scheme"), 302);
    var location = URI.create(r.header("location"));
    assertThat(location.getScheme()).isEqualTo("https");
    assertThat(location.getHost()).isEqualTo("redirect-scheme.example");
    assertThat(location.getPort()).isEqualTo(-1); // 443, the well-known port, is left out
    assertThat(location.getPath()).isEqualTo("/scheme");
  }

  @Test
  void httpRouteRedirectPortAndScheme() {
    rules(
        "redirect-port-and-scheme",
        "redirect-port-scheme.example",
        """
        - matches: [{path: {type: PathPrefix, value: /https-8443}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {scheme: https, port: 8443}
        - matches: [{path: {type: PathPrefix, value: /http-80}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {scheme: http, port: 80}
        """);
    var r =
        c.awaitStatus(same(), Request.get("redirect-port-scheme.example", "/https-8443/x"), 302);
    var location = URI.create(r.header("location"));
    assertThat(location.getScheme()).isEqualTo("https");
    assertThat(location.getHost()).isEqualTo("redirect-port-scheme.example");
    assertThat(location.getPort()).isEqualTo(8443);
    assertThat(location.getPath()).isEqualTo("/https-8443/x");
    r = c.awaitStatus(same(), Request.get("redirect-port-scheme.example", "/http-80"), 302);
    location = URI.create(r.header("location"));
    assertThat(location.getScheme()).isEqualTo("http");
    assertThat(location.getPort()).isEqualTo(-1); // 80, the well-known port, is left out
    assertThat(location.getPath()).isEqualTo("/http-80");
  }

  @Test
  void httpRouteRewriteHost() throws Exception {
    rules(
        "rewrite-host",
        "rewrite-host.example",
        """
        - matches: [{path: {type: PathPrefix, value: /one}}]
          filters:
          - type: URLRewrite
            urlRewrite: {hostname: one.example.org}
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        - filters:
          - type: URLRewrite
            urlRewrite: {hostname: example.org}
          backendRefs: [{name: infra-backend-v2, port: 8080}]
        """);
    var r = c.awaitBackend(same(), Request.get("rewrite-host.example", "/one"), "infra-backend-v1");
    assertThat(r.echo().path("host").asText()).isEqualTo("one.example.org");
    r = c.awaitBackend(same(), Request.get("rewrite-host.example", "/"), "infra-backend-v2");
    assertThat(r.echo().path("host").asText()).isEqualTo("example.org");
  }

  @Test
  void httpRouteRewritePath() throws Exception {
    rules(
        "rewrite-path",
        "rewrite-path.example",
        """
        - matches: [{path: {type: PathPrefix, value: /prefix/one}}]
          filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /one}}
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        - matches: [{path: {type: PathPrefix, value: /strip-prefix}}]
          filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        - matches: [{path: {type: PathPrefix, value: /full/one}}]
          filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /one}}
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        """);
    var host = "rewrite-path.example";
    var expected =
        new String[][] {
          {"/prefix/one/two", "/one/two"},
          {"/prefix/one", "/one"},
          {"/strip-prefix/three", "/three"},
          {"/strip-prefix", "/"},
          {"/full/one/two", "/one"},
          {"/prefix/one/two?q=1", "/one/two?q=1"},
        };
    for (var e : expected) {
      var r = c.awaitBackend(same(), Request.get(host, e[0]), "infra-backend-v1");
      assertThat(r.echo().path("path").asText()).as("rewrite of %s", e[0]).isEqualTo(e[1]);
    }
  }

  @Test
  void httpRouteRequestMirror() {
    // The mirror goes to the Service's cluster IP and port: a Service whose cluster IP is the
    // loopback address and whose port is the mirror backend's.
    var mirror = (Backends.HttpEcho) c.backend("infra-backend-v2");
    c.apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: infra-backend-mirror, namespace: INFRA}
        spec: {clusterIP: 127.0.0.1, ports: [{name: p, port: REAL}]}
        """
            .replace("REAL", "" + mirror.port()));
    rules(
        "request-mirror",
        "mirror.example",
        """
        - filters:
          - type: RequestMirror
            requestMirror: {backendRef: {name: infra-backend-mirror, port: REAL}}
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        """
            .replace("REAL", "" + mirror.port()));
    var path = "/mirror-" + System.nanoTime();
    c.awaitBackend(same(), Request.get("mirror.example", path), "infra-backend-v1");
    await().atMost(Conformance.WAIT).until(() -> mirror.seen().contains(path));
  }

  /**
   * Two mirrors on one rule (the upstream's {@code HTTPRouteRequestMultipleMirrors}): each gets a
   * copy of every request, the backend answers. Each mirror Service's cluster IP is the loopback
   * address, its port the mirror backend's.
   */
  @Test
  void httpRouteRequestMultipleMirrors() {
    var v2 = (Backends.HttpEcho) c.backend("infra-backend-v2");
    var v3 = (Backends.HttpEcho) c.backend("infra-backend-v3");
    c.apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: infra-backend-mirror-v2, namespace: INFRA}
        spec: {clusterIP: 127.0.0.1, ports: [{name: p, port: V2}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: infra-backend-mirror-v3, namespace: INFRA}
        spec: {clusterIP: 127.0.0.1, ports: [{name: p, port: V3}]}
        """
            .replace("V2", "" + v2.port())
            .replace("V3", "" + v3.port()));
    rules(
        "request-multiple-mirrors",
        "mirrors.example",
        """
        - filters:
          - type: RequestMirror
            requestMirror: {backendRef: {name: infra-backend-mirror-v2, port: V2}}
          - type: RequestMirror
            requestMirror: {backendRef: {name: infra-backend-mirror-v3, port: V3}}
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        """
            .replace("V2", "" + v2.port())
            .replace("V3", "" + v3.port()));
    var path = "/mirrors-" + System.nanoTime();
    c.awaitBackend(same(), Request.get("mirrors.example", path), "infra-backend-v1");
    await().atMost(Conformance.WAIT).until(() -> v2.seen().contains(path));
    await().atMost(Conformance.WAIT).until(() -> v3.seen().contains(path));
  }

  @Test
  void httpRouteRequestTimeout() {
    rules(
        "request-timeout",
        "request-timeout.example",
        """
        - timeouts: {request: 500ms}
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        """);
    c.awaitBackend(same(), Request.get("request-timeout.example", "/"), "infra-backend-v1");
    // The backend answers after 3 s, past the route's 500 ms.
    c.awaitStatus(same(), Request.get("request-timeout.example", "/slow?delay=3000"), 504);
  }

  @Test
  void httpRouteBackendRequestTimeout() {
    rules(
        "backend-request-timeout",
        "backend-timeout.example",
        """
        - timeouts: {request: 10s, backendRequest: 500ms}
          backendRefs: [{name: infra-backend-v1, port: 8080}]
        """);
    c.awaitBackend(same(), Request.get("backend-timeout.example", "/"), "infra-backend-v1");
    c.awaitStatus(same(), Request.get("backend-timeout.example", "/slow?delay=3000"), 504);
  }
}
