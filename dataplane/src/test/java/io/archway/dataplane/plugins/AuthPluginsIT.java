package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * forward-auth, csrf, hmac-auth, multi-auth, request-validation and proxy-mirror through the real
 * proxy, a real upstream and (for forward-auth and proxy-mirror) a real HTTP server standing for
 * the authorization service or the mirror: APISIX's statuses, messages and headers.
 */
class AuthPluginsIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  HttpServer side;
  final Map<String, String> seen = new ConcurrentHashMap<>();

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    if (side != null) {
      side.stop(0);
    }
    up.close();
  }

  String route(String id, String uri, String plugins) {
    return """
          - id: %s
            uri: "%s"
            upstream:
              nodes:
                "%s": 1
            plugins:
        %s
        """
        .formatted(id, uri, up.node(), plugins.indent(6).stripTrailing());
  }

  /** An HTTP server on loopback standing for an authorization service or a mirror. */
  String sideServer(com.sun.net.httpserver.HttpHandler handler) throws Exception {
    side = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    side.createContext("/", handler);
    side.setExecutor(Executors.newFixedThreadPool(2));
    side.start();
    return "http://127.0.0.1:" + side.getAddress().getPort();
  }

  HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return gw.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(gw.url(path)));
  }

  @Test
  void forwardAuthAsksTheServiceWithoutBlocking() throws Exception {
    var release = new CountDownLatch(1);
    var auth =
        sideServer(
            ex -> {
              var h = ex.getRequestHeaders();
              seen.put("method", ex.getRequestMethod());
              seen.put("uri", String.valueOf(h.getFirst("X-Forwarded-Uri")));
              seen.put("xmethod", String.valueOf(h.getFirst("X-Forwarded-Method")));
              seen.put("proto", String.valueOf(h.getFirst("X-Forwarded-Proto")));
              seen.put("for", String.valueOf(h.getFirst("X-Forwarded-For")));
              seen.put("token", String.valueOf(h.getFirst("Authorization")));
              seen.put(
                  "body", new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
              var user = h.getFirst("Authorization");
              if ("slow".equals(user)) {
                try {
                  release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              byte[] body;
              if (user != null && (user.startsWith("good") || user.equals("slow"))) {
                ex.getResponseHeaders().add("X-User-ID", "i-am-" + user);
                body = new byte[0];
                ex.sendResponseHeaders(200, -1);
              } else {
                ex.getResponseHeaders().add("Location", "http://login.example/");
                ex.getResponseHeaders().add("X-Other", "no");
                body = "go and log in".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(403, body.length);
                ex.getResponseBody().write(body);
              }
              ex.close();
            });
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "get",
                    "/get/*",
                    """
                    forward-auth:
                      uri: "%s/auth"
                      request_headers: ["Authorization"]
                      upstream_headers: ["X-User-ID"]
                      client_headers: ["Location"]"""
                        .formatted(auth))
                + route(
                    "post",
                    "/post",
                    """
                    forward-auth:
                      uri: "%s/auth"
                      request_method: POST
                      request_headers: ["Authorization"]"""
                        .formatted(auth))
                + route(
                    "down",
                    "/down",
                    """
                    forward-auth:
                      uri: "http://127.0.0.1:1/auth"
                      status_on_error: 503""")
                + route(
                    "degrade",
                    "/degrade",
                    """
                    forward-auth:
                      uri: "http://127.0.0.1:1/auth"
                      allow_degradation: true"""));

    var ok = gw.get("/get/a?x=1", "Authorization", "good-1");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("up");
    assertThat(up.lastHeaders()).containsEntry("x-user-id", "i-am-good-1");
    assertThat(seen)
        .containsEntry("method", "GET")
        .containsEntry("uri", "/get/a?x=1")
        .containsEntry("xmethod", "GET")
        .containsEntry("proto", "http")
        .containsEntry("for", "127.0.0.1")
        .containsEntry("token", "good-1");

    var refused = gw.get("/get/a", "Authorization", "bad");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).isEqualTo("go and log in");
    assertThat(refused.headers().firstValue("Location")).hasValue("http://login.example/");
    assertThat(refused.headers().firstValue("X-Other")).isEmpty();

    // POST sends the client's body on; the upstream still gets it whole.
    var posted =
        send(
            req("/post")
                .header("Authorization", "good-2")
                .POST(HttpRequest.BodyPublishers.ofString("hello body")));
    assertThat(posted.statusCode()).isEqualTo(200);
    assertThat(seen).containsEntry("method", "POST").containsEntry("body", "hello body");

    assertThat(gw.get("/down").statusCode()).isEqualTo(503);
    assertThat(gw.get("/degrade").statusCode()).isEqualTo(200);

    // While one request waits for the service, another on the same gateway is served: the wait
    // holds no event loop.
    var slow =
        gw.client()
            .sendAsync(
                req("/get/slow").header("Authorization", "slow").build(),
                HttpResponse.BodyHandlers.ofString());
    for (int i = 0; i < 5; i++) {
      assertThat(gw.get("/degrade").statusCode()).isEqualTo(200);
    }
    assertThat(slow).isNotDone();
    release.countDown();
    assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }
}
