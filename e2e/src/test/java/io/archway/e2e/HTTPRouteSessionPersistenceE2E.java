package io.archway.e2e;

import static io.archway.e2e.Conformance.INFRA;
import static io.archway.e2e.HTTPRouteConformanceE2E.route;
import static org.assertj.core.api.Assertions.assertThat;

import io.archway.e2e.Wire.Request;
import java.util.HashMap;
import java.util.HashSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HTTPRouteSessionPersistence: a rule's {@code sessionPersistence} (Gateway API v1.2, experimental)
 * through the real processes of {@link Conformance}, operator to dataplane. The upstream suite has
 * no session persistence test in v1.2; this one is Archway's, named as the upstream would name it.
 * A rule with two backendRefs (one endpoint each) spreads new sessions over both, and a session
 * sticks to the backend that served its first request, by cookie and by header.
 */
class HTTPRouteSessionPersistenceE2E {

  @RegisterExtension static final Conformance c = new Conformance();

  private Request sticky(String name, String host, String session) {
    c.apply(
        route(
            name,
            INFRA,
            """
            parentRefs: [{name: same-namespace}]
            hostnames: [HOST]
            rules:
            - sessionPersistence: SESSION
              backendRefs:
              - {name: infra-backend-v1, port: 8080}
              - {name: infra-backend-v2, port: 8080}
            """
                .replace("HOST", host)
                .replace("SESSION", session)));
    c.awaitAccepted("HTTPRoute", INFRA, name, "same-namespace");
    return Request.get(host, "/");
  }

  /** The first value of the {@code name} cookie the answer sets, or null. */
  private static String cookie(Wire.Response r, String name) {
    var all = r.headers().get("set-cookie");
    if (all == null) {
      return null;
    }
    for (var c : all) {
      if (c.startsWith(name + "=")) {
        return c.substring(name.length() + 1, c.indexOf(';'));
      }
    }
    return null;
  }

  @Test
  void httpRouteSessionPersistenceCookie() throws Exception {
    var get = sticky("session-cookie", "session-cookie.example", "{sessionName: app-session}");
    // Each backend in turn starts a session of its own.
    var sessions = new HashMap<String, String>();
    for (var backend : new String[] {"infra-backend-v1", "infra-backend-v2"}) {
      var r = c.awaitBackend(c.port("same-namespace"), get, backend);
      assertThat(r.header("set-cookie")).matches("app-session=[A-Za-z0-9_-]+; Path=/; HttpOnly");
      sessions.put(backend, cookie(r, "app-session"));
    }
    for (var e : sessions.entrySet()) {
      for (int i = 0; i < 6; i++) {
        var r =
            Wire.http(c.port("same-namespace"), get.with("Cookie", "app-session=" + e.getValue()));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.backend()).isEqualTo(e.getKey());
        assertThat(r.header("set-cookie")).isNull();
      }
    }
  }

  @Test
  void httpRouteSessionPersistenceHeader() throws Exception {
    var get =
        sticky(
            "session-header", "session-header.example", "{type: Header, sessionName: X-Session}");
    var first = c.awaitBackend(c.port("same-namespace"), get, "infra-backend-v2");
    var value = first.header("x-session");
    assertThat(value).isNotNull();
    var seen = new HashSet<String>();
    for (int i = 0; i < 6; i++) {
      var r = Wire.http(c.port("same-namespace"), get.with("X-Session", value));
      assertThat(r.status()).isEqualTo(200);
      seen.add(r.backend());
    }
    assertThat(seen).containsExactly("infra-backend-v2");
  }
}
