package io.archway.e2e;

import static io.archway.e2e.Conformance.INFRA;
import static io.archway.e2e.HTTPRouteConformanceE2E.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Wire.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Gateway API conformance tests of an HTTPRoute backend's protocol (gateway-api v1.2 {@code
 * conformance/tests}, named after their ShortNames): the Service port's {@code appProtocol} tells
 * the dataplane how to speak to the backend. Real backends ({@link Backends.H2cEcho}, {@link
 * Backends.WsEcho}) behind the processes of {@link Conformance}.
 */
class HTTPRouteBackendProtocolConformanceE2E {

  @RegisterExtension static final Conformance c = new Conformance();

  int same() {
    return c.port("same-namespace");
  }

  /**
   * {@code appProtocol: kubernetes.io/h2c}: the backend speaks HTTP/2 in clear text with prior
   * knowledge only (an HTTP/1.1 request would be refused), and an HTTP/1.1 client reaches it.
   */
  @Test
  void httpRouteBackendProtocolH2C() throws Exception {
    c.apply(
        route(
            "backend-protocol-h2c",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [h2c.example]
            rules:
            - backendRefs: [{name: h2c-backend, port: 8080}]
            """));
    c.awaitAccepted("HTTPRoute", INFRA, "backend-protocol-h2c", "same-namespace");
    var r = c.awaitBackend(same(), Request.get("h2c.example", "/h2c?x=1"), "h2c-backend");
    var echo = r.echo();
    assertThat(echo.path("protocol").asText()).isEqualTo("HTTP/2.0");
    assertThat(echo.path("path").asText()).isEqualTo("/h2c?x=1");
    assertThat(echo.path("method").asText()).isEqualTo("GET");
  }

  /**
   * {@code appProtocol: kubernetes.io/ws}: the upgrade goes through to the backend (the route has
   * {@code enable_websocket}) and messages flow both ways; a plain request on the same route is
   * proxied as usual.
   */
  @Test
  void httpRouteBackendProtocolWebSocket() throws Exception {
    c.apply(
        route(
            "backend-protocol-websocket",
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [ws.example]
            rules:
            - backendRefs: [{name: ws-backend, port: 8080}]
            """));
    c.awaitAccepted("HTTPRoute", INFRA, "backend-protocol-websocket", "same-namespace");
    await()
        .atMost(Conformance.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () ->
                assertThat(Wire.webSocketText(same(), "ws.example", "/ws", "hello"))
                    .isEqualTo("ws-backend:hello"));
    assertThat(Wire.webSocketText(same(), "ws.example", "/ws", "again"))
        .isEqualTo("ws-backend:again");
    c.awaitHttp(
        same(),
        Request.get("ws.example", "/plain"),
        a -> {
          assertThat(a.status()).isEqualTo(200);
          assertThat(a.body()).isEqualTo("ws-backend");
        });
  }
}
