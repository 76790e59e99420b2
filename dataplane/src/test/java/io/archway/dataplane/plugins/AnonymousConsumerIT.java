package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * APISIX 3.x's {@code anonymous_consumer} on key-auth, basic-auth and jwt-auth: a request without
 * credentials (or with ones that match nobody) goes on as the named consumer, whose plugins join
 * the route's; a name that is no consumer refuses it.
 */
class AnonymousConsumerIT {

  @TempDir Path dir;

  private static String config(TestUpstream up) {
    return """
        consumers:
          - username: jack
            plugins:
              key-auth:
                key: jack-key
              basic-auth:
                username: jack
                password: secret
              response-rewrite:
                headers:
                  set:
                    X-Who: jack
          - username: guest
            plugins:
              response-rewrite:
                headers:
                  set:
                    X-Who: guest
        routes:
          - id: key
            uri: /key
            plugins:
              key-auth:
                anonymous_consumer: guest
            upstream: {nodes: {"%1$s": 1}}
          - id: basic
            uri: /basic
            plugins:
              basic-auth:
                anonymous_consumer: guest
            upstream: {nodes: {"%1$s": 1}}
          - id: jwt
            uri: /jwt
            plugins:
              jwt-auth:
                anonymous_consumer: guest
            upstream: {nodes: {"%1$s": 1}}
          - id: nobody
            uri: /nobody
            plugins:
              key-auth:
                anonymous_consumer: no-such-consumer
            upstream: {nodes: {"%1$s": 1}}
          - id: strict
            uri: /strict
            plugins:
              key-auth:
            upstream: {nodes: {"%1$s": 1}}
        """
        .formatted(up.node());
  }

  @Test
  void requestsWithoutCredentialsGoOnAsTheAnonymousConsumer() throws Exception {
    try (var up = new TestUpstream("up");
        var gw = Gateways.start(dir, config(up))) {
      var anonymous = gw.get("/key");
      assertThat(anonymous.statusCode()).isEqualTo(200);
      assertThat(anonymous.headers().firstValue("x-who")).hasValue("guest");

      var wrongKey = gw.get("/key", "apikey", "nobody-has-this");
      assertThat(wrongKey.statusCode()).isEqualTo(200);
      assertThat(wrongKey.headers().firstValue("x-who")).hasValue("guest");

      var jack = gw.get("/key", "apikey", "jack-key");
      assertThat(jack.statusCode()).isEqualTo(200);
      assertThat(jack.headers().firstValue("x-who")).hasValue("jack");

      var basic = gw.get("/basic");
      assertThat(basic.headers().firstValue("x-who")).hasValue("guest");
      var basicJack =
          gw.get(
              "/basic",
              "Authorization",
              "Basic " + Base64.getEncoder().encodeToString("jack:secret".getBytes()));
      assertThat(basicJack.headers().firstValue("x-who")).hasValue("jack");

      var jwt = gw.get("/jwt");
      assertThat(jwt.statusCode()).isEqualTo(200);
      assertThat(jwt.headers().firstValue("x-who")).hasValue("guest");
    }
  }

  @Test
  void withoutItOrWithANameThatIsNoConsumerTheRequestIsRefused() throws Exception {
    try (var up = new TestUpstream("up");
        var gw = Gateways.start(dir, config(up))) {
      var strict = gw.get("/strict");
      assertThat(strict.statusCode()).isEqualTo(401);
      assertThat(strict.body()).contains("Missing API key in request");
      var nobody = gw.get("/nobody");
      assertThat(nobody.statusCode()).isEqualTo(401);
      assertThat(nobody.body()).contains("Invalid user authorization");
    }
  }
}
