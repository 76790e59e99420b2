package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RecordingUpstream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins that fill paths and fields from decoded variables cannot be made to split what the
 * gateway writes: CR, LF or NUL from a query argument never reach the node or the client as a line
 * break (a field value with them is left out; a path gets them escaped again).
 */
class RewriteInjectionIT {

  static final Duration DEADLINE = Duration.ofSeconds(5);

  @TempDir Path dir;
  RecordingUpstream up;
  Gateways gw;

  @BeforeEach
  void start() throws Exception {
    up = new RecordingUpstream();
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: header
                uri: /header
                plugins:
                  proxy-rewrite:
                    headers:
                      set:
                        X-User: $arg_u
                upstream:
                  nodes:
                    "%1$s": 1
              - id: path
                uri: /path
                plugins:
                  proxy-rewrite:
                    uri: /to/$arg_p
                upstream:
                  nodes:
                    "%1$s": 1
              - id: response
                uri: /response
                plugins:
                  response-rewrite:
                    headers:
                      set:
                        X-Echo: $arg_r
                upstream:
                  nodes:
                    "%1$s": 1
            """
                .formatted(up.node()));
  }

  @AfterEach
  void stop() {
    gw.close();
    up.close();
  }

  Wire.Result send(String request) throws Exception {
    try (var s = new Socket("127.0.0.1", gw.port())) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return Wire.read(s, 2, DEADLINE);
    }
  }

  @Test
  void aFieldFilledWithALineBreakIsLeftOut() throws Exception {
    var r =
        send(
            "GET /header?u=a%0d%0aContent-Length:%200%0d%0a%0d%0aGET%20/admin HTTP/1.1\r\n"
                + "Host: x\r\nX-User: client\r\nConnection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    // The value is left out (set removes the client's own), and nothing was split.
    assertThat(up.requests())
        .singleElement()
        .satisfies(q -> assertThat(q.header("X-User")).isNull());
  }

  @Test
  void aPathFilledWithALineBreakIsEscapedAgain() throws Exception {
    var r =
        send(
            "GET /path?p=x%20HTTP/1.1%0d%0aHost:%20y%0d%0a%0d%0a HTTP/1.1\r\nHost: x\r\n"
                + "Connection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    assertThat(up.requests())
        .singleElement()
        .satisfies(
            q -> assertThat(q.target()).startsWith("/to/x%20HTTP/1.1%0D%0AHost:%20y%0D%0A%0D%0A?"));
  }

  @Test
  void harmlessValuesStillPass() throws Exception {
    var r = send("GET /header?u=alice HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    assertThat(up.requests())
        .singleElement()
        .satisfies(q -> assertThat(q.header("X-User")).isEqualTo("alice"));
  }

  @Test
  void aResponseFieldFilledWithALineBreakIsLeftOut() throws Exception {
    var r =
        send(
            "GET /response?r=a%0d%0aSet-Cookie:%20x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.responses())
        .singleElement()
        .satisfies(
            res -> {
              var head = res.text().substring(0, res.text().indexOf("\r\n\r\n"));
              assertThat(head).doesNotContainIgnoringCase("set-cookie").doesNotContain("X-Echo");
            });
  }
}
