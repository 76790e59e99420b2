package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.support.SigV4;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
 * aws-lambda, azure-functions, openfunction and openwhisk through a real dataplane, with an HTTP
 * server in the test standing for the function endpoint: what reaches the function (method, path
 * with the route's wildcard part, query, fields, body, credentials, a SigV4 signature checked again
 * from what arrived) and what reaches the client (the function's status, fields, body).
 */
class ServerlessPluginsIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  HttpServer fn;
  String fnUrl;
  final Map<String, Object> seen = new ConcurrentHashMap<>();
  final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void start() throws Exception {
    up = new TestUpstream("up");
    fn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    fn.createContext("/", this::function);
    fn.setExecutor(Executors.newFixedThreadPool(4));
    fn.start();
    fnUrl = "http://127.0.0.1:" + fn.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (gw != null) {
      gw.close();
    }
    fn.stop(0);
    up.close();
  }

  /**
   * The function: records the request, answers 201 with a field and its path (or OpenWhisk's
   * result).
   */
  private void function(HttpExchange ex) throws java.io.IOException {
    var path = ex.getRequestURI().getRawPath();
    var headers = new LinkedHashMap<String, List<String>>();
    ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v));
    var body = ex.getRequestBody().readAllBytes();
    var call =
        new Call(ex.getRequestMethod(), path, ex.getRequestURI().getRawQuery(), headers, body);
    seen.put(path.startsWith("/api/v1/") ? "whisk" : "last", call);
    if (path.endsWith("/slow")) {
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    byte[] out;
    if (path.endsWith("/actions/pkg/shaped")) {
      out =
          """
          {"statusCode": 202, "headers": {"X-Whisk": "yes", "Content-Type": "application/json"},
           "body": {"hello": "world"}}"""
              .getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, out.length);
    } else if (path.endsWith("/actions/plain")) {
      out = "{\"greeting\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, out.length);
    } else {
      out = ("fn:" + ex.getRequestMethod() + " " + path).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("X-Fn", "yes");
      ex.getResponseHeaders().add("Set-Cookie", "a=1");
      ex.getResponseHeaders().add("Set-Cookie", "b=2");
      ex.sendResponseHeaders(201, out.length);
    }
    ex.getResponseBody().write(out);
    ex.close();
  }

  record Call(
      String method, String path, String query, Map<String, List<String>> headers, byte[] body) {
    String header(String name) {
      var v = headers.get(name);
      return v == null ? null : v.get(0);
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  Call last() {
    return (Call) seen.remove("last");
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

  HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return gw.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(gw.url(path)));
  }

  @Test
  void awsLambdaForwardsTheRequestWithAnApiKeyOrASigV4Signature() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "key",
                    "/aws/*",
                    """
                    aws-lambda:
                      function_uri: "%s/default/fn"
                      authorization: {apikey: "the-key"}"""
                        .formatted(fnUrl))
                + route(
                    "iam",
                    "/iam/*",
                    """
                    aws-lambda:
                      function_uri: "%s/prod/fn/"
                      authorization:
                        iam: {accesskey: AKID, secretkey: SECRET, aws_region: eu-west-1}"""
                        .formatted(fnUrl))
                + route(
                    "slow",
                    "/slow",
                    """
                    aws-lambda:
                      function_uri: "%s/slow"
                      timeout: 300"""
                        .formatted(fnUrl)));

    var res =
        send(
            req("/aws/a/b?x=1&y=two")
                .header("X-Client", "c1")
                .POST(HttpRequest.BodyPublishers.ofString("payload")));
    assertThat(res.statusCode()).isEqualTo(201);
    assertThat(res.body()).isEqualTo("fn:POST /default/fn/a/b");
    assertThat(res.headers().firstValue("x-fn")).hasValue("yes");
    assertThat(res.headers().allValues("set-cookie")).containsExactlyInAnyOrder("a=1", "b=2");
    var call = last();
    assertThat(call.query()).isEqualTo("x=1&y=two");
    assertThat(call.header("x-api-key")).isEqualTo("the-key");
    assertThat(call.header("x-client")).isEqualTo("c1");
    assertThat(call.text()).isEqualTo("payload");
    assertThat(up.requests()).isZero();

    // The client's own key is left as it is.
    assertThat(gw.get("/aws/", "X-Api-Key", "mine").body()).isEqualTo("fn:GET /default/fn/");
    assertThat(last().header("x-api-key")).isEqualTo("mine");

    // IAM: the signature the function gets checks out against what reached it.
    var signed =
        send(
            req("/iam/hello?b=2&a=1")
                .header("X-Client", "c2")
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"k\":1}")));
    assertThat(signed.statusCode()).isEqualTo(201);
    assertThat(signed.body()).isEqualTo("fn:PUT /prod/fn/hello");
    call = last();
    var auth = call.header("authorization");
    assertThat(auth)
        .startsWith("AWS4-HMAC-SHA256 Credential=AKID/")
        .contains("/eu-west-1/execute-api/aws4_request");
    var names = auth.replaceAll(".*SignedHeaders=([^,]+),.*", "$1").split(";");
    assertThat(names)
        .contains("host", "x-amz-date", "x-client", "content-type")
        .doesNotContain("connection");
    var signedFields = new LinkedHashMap<String, List<String>>();
    for (var n : names) {
      if (!n.equals("x-amz-date")) {
        signedFields.put(n, call.headers().get(n));
      }
    }
    var when =
        LocalDateTime.parse(
                call.header("x-amz-date"), DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"))
            .toInstant(ZoneOffset.UTC);
    var again =
        SigV4.sign(
            new SigV4.Credentials("AKID", "SECRET", null),
            "eu-west-1",
            "execute-api",
            call.method(),
            call.path(),
            call.query(),
            signedFields,
            call.body(),
            when);
    assertThat(auth).isEqualTo(again.authorization());

    // A function that does not answer within the timeout is 503; the loop keeps serving meanwhile.
    var slow = gw.client().sendAsync(req("/slow").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(gw.get("/aws/x").statusCode()).isEqualTo(201);
    assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(503);
  }

  @Test
  void azureFunctionsSendsTheRouteKeysTheClientsOrTheMetadataMasterKey() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "keys",
                    "/azure/*",
                    """
                    azure-functions:
                      function_uri: "%s/api/fn"
                      authorization: {apikey: route-key, clientid: route-client}"""
                        .formatted(fnUrl))
                + route(
                    "master",
                    "/master",
                    """
                    azure-functions:
                      function_uri: "%s/api/master"
                      ssl_verify: false"""
                        .formatted(fnUrl))
                + """
                plugin_metadata:
                  - id: azure-functions
                    master_apikey: master-key
                    master_clientid: master-client
                """);
    var res = gw.get("/azure/x/y");
    assertThat(res.statusCode()).isEqualTo(201);
    assertThat(res.body()).isEqualTo("fn:GET /api/fn/x/y");
    var call = last();
    assertThat(call.header("x-functions-key")).isEqualTo("route-key");
    assertThat(call.header("x-functions-clientid")).isEqualTo("route-client");

    gw.get("/azure/z", "X-Functions-Key", "client-key");
    call = last();
    assertThat(call.header("x-functions-key")).isEqualTo("client-key");
    assertThat(call.header("x-functions-clientid")).isNull();

    assertThat(gw.get("/master").body()).isEqualTo("fn:GET /api/master");
    call = last();
    assertThat(call.header("x-functions-key")).isEqualTo("master-key");
    assertThat(call.header("x-functions-clientid")).isEqualTo("master-client");
  }

  @Test
  void openfunctionSendsTheServiceTokenAndAnUnreachableFunctionIs503() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "of",
                    "/of/*",
                    """
                    openfunction:
                      function_uri: "%s/default/sample"
                      authorization: {service_token: "user:pass"}"""
                        .formatted(fnUrl))
                + route(
                    "down",
                    "/down",
                    """
                    openfunction:
                      function_uri: "http://127.0.0.1:1/f\"""")
                + route(
                    "exact",
                    "/exact",
                    """
                    openfunction:
                      function_uri: "%s/f"
                      timeout: 60000"""
                        .formatted(fnUrl)));
    var res = gw.get("/of/hello", "Authorization", "Bearer client");
    assertThat(res.statusCode()).isEqualTo(201);
    assertThat(res.body()).isEqualTo("fn:GET /default/sample/hello");
    assertThat(last().header("authorization"))
        .isEqualTo("Basic " + Base64.getEncoder().encodeToString("user:pass".getBytes()));
    // A route matched without a wildcard adds nothing to the path.
    assertThat(gw.get("/exact?q=1").body()).isEqualTo("fn:GET /f");
    assertThat(last().query()).isEqualTo("q=1");
    var down = gw.get("/down");
    assertThat(down.statusCode()).isEqualTo(503);
    assertThat(up.requests()).isZero();
  }

  @Test
  void openwhiskInvokesTheActionAndItsResultShapesTheResponse() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "shaped",
                    "/whisk/*",
                    """
                    openwhisk:
                      api_host: "%s"
                      service_token: "uuid:key"
                      namespace: guest
                      package: pkg
                      action: shaped
                      timeout: 5000"""
                        .formatted(fnUrl))
                + route(
                    "plain",
                    "/plain",
                    """
                    openwhisk:
                      api_host: "%s/"
                      service_token: "uuid:key"
                      namespace: guest
                      action: plain
                      result: false"""
                        .formatted(fnUrl)));
    var res =
        send(req("/whisk/ignored?a=1").POST(HttpRequest.BodyPublishers.ofString("{\"n\":1}")));
    assertThat(res.statusCode()).isEqualTo(202);
    assertThat(res.headers().firstValue("x-whisk")).hasValue("yes");
    assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(res.body()).isEqualTo("{\"hello\":\"world\"}");
    var call = (Call) seen.remove("whisk");
    assertThat(call.method()).isEqualTo("POST");
    assertThat(call.path()).isEqualTo("/api/v1/namespaces/guest/actions/pkg/shaped");
    assertThat(call.query()).isEqualTo("blocking=true&result=true&timeout=5000");
    assertThat(call.header("authorization"))
        .isEqualTo("Basic " + Base64.getEncoder().encodeToString("uuid:key".getBytes()));
    assertThat(call.header("content-type")).isEqualTo("application/json");
    assertThat(call.text()).isEqualTo("{\"n\":1}");

    var plain = gw.get("/plain");
    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(plain.body()).isEqualTo("{\"greeting\":\"hi\"}");
    call = (Call) seen.remove("whisk");
    assertThat(call.path()).isEqualTo("/api/v1/namespaces/guest/actions/plain");
    assertThat(call.query()).isEqualTo("blocking=true&result=false&timeout=3000");
    assertThat(up.requests()).isZero();
    assertThat(new ArrayList<>(seen.keySet())).isEmpty();
  }
}
