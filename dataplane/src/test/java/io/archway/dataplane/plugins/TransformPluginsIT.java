package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.model.ModelJson;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * body-transformer (APISIX's documented examples: JSON to a SOAP request and the SOAP answer back
 * to JSON, query arguments, a form), degraphql and attach-consumer-label through a real dataplane,
 * to an HTTP server in the test that records what it got and answers as a SOAP or GraphQL service.
 */
class TransformPluginsIT {

  /** What the upstream got last: method, target, content type, body, headers (lower case). */
  record Seen(
      String method, String target, String contentType, String body, Map<String, String> h) {}

  @TempDir Path dir;
  Gateways gw;
  HttpServer upstream;
  ExecutorService pool;
  final Map<String, Seen> seen = new ConcurrentHashMap<>();

  static final String SOAP_OK =
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
        <SOAP-ENV:Header/>
        <SOAP-ENV:Body>
          <ns2:getCountryResponse xmlns:ns2="http://spring.io/guides/gs-producing-web-service">
            <ns2:country>
              <ns2:name>Spain</ns2:name>
              <ns2:population>46704314</ns2:population>
              <ns2:capital>Madrid</ns2:capital>
              <ns2:currency>EUR</ns2:currency>
            </ns2:country>
          </ns2:getCountryResponse>
        </SOAP-ENV:Body>
      </SOAP-ENV:Envelope>
      """;

  static final String SOAP_FAULT =
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
        <SOAP-ENV:Header/>
        <SOAP-ENV:Body>
          <SOAP-ENV:Fault>
            <faultcode>SOAP-ENV:Server</faultcode>
            <faultstring xml:lang="en">Your name is required.</faultstring>
          </SOAP-ENV:Fault>
        </SOAP-ENV:Body>
      </SOAP-ENV:Envelope>
      """;

  // APISIX's documented templates (body-transformer.md), written out here.
  static final String REQ_TEMPLATE =
      """
      <?xml version="1.0"?>
      <soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">
       <soap-env:Body>
        <ns0:getCountryRequest xmlns:ns0="http://spring.io/guides/gs-producing-web-service">
         <ns0:name>{{_escape_xml(name)}}</ns0:name>
        </ns0:getCountryRequest>
       </soap-env:Body>
      </soap-env:Envelope>
      """;

  static final String RSP_TEMPLATE =
      """
      {% if Envelope.Body.Fault == nil then %}
      {
         "status":"{{_ctx.var.status}}",
         "currency":"{{Envelope.Body.getCountryResponse.country.currency}}",
         "population":{{Envelope.Body.getCountryResponse.country.population}},
         "capital":"{{Envelope.Body.getCountryResponse.country.capital}}",
         "name":"{{Envelope.Body.getCountryResponse.country.name}}"
      }
      {% else %}
      {
         "message":{*_escape_json(Envelope.Body.Fault.faultstring[1])*},
         "code":"{{Envelope.Body.Fault.faultcode}}"
         {% if Envelope.Body.Fault.faultactor ~= nil then %}
         , "actor":"{{Envelope.Body.Fault.faultactor}}"
         {% end %}
      }
      {% end %}
      """;

  @BeforeEach
  void start() throws Exception {
    upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    pool = Executors.newFixedThreadPool(2);
    upstream.setExecutor(pool);
    upstream.createContext(
        "/",
        ex -> {
          var body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          var headers = new ConcurrentHashMap<String, String>();
          ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
          var path = ex.getRequestURI().getPath();
          seen.put(
              path,
              new Seen(
                  ex.getRequestMethod(),
                  ex.getRequestURI().getRawPath()
                      + (ex.getRequestURI().getRawQuery() == null
                          ? ""
                          : "?" + ex.getRequestURI().getRawQuery()),
                  headers.get("content-type"),
                  body,
                  headers));
          byte[] out;
          int status = 200;
          if (path.startsWith("/ws")) {
            boolean fault = !body.contains("<ns0:name>Spain</ns0:name>");
            out = (fault ? SOAP_FAULT : SOAP_OK).getBytes(StandardCharsets.UTF_8);
            status = fault ? 500 : 200;
            ex.getResponseHeaders().set("Content-Type", "text/xml;charset=utf-8");
          } else if (path.startsWith("/graphql")) {
            out = "{\"data\":{\"persons\":[{\"id\":\"7\"}]}}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
          } else {
            out = "ok".getBytes(StandardCharsets.UTF_8);
          }
          ex.sendResponseHeaders(status, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    upstream.start();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    upstream.stop(0);
    pool.shutdownNow();
  }

  String node() {
    return "127.0.0.1:" + upstream.getAddress().getPort();
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
        .formatted(id, uri, node(), plugins.indent(6).stripTrailing());
  }

  static String quoted(String s) {
    try {
      return ModelJson.mapper().writeValueAsString(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<String> send(String method, String path, String body, String... headers)
      throws Exception {
    var b =
        HttpRequest.newBuilder(URI.create(gw.url(path)))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return gw.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(String s) throws Exception {
    return ModelJson.mapper().readTree(s);
  }

  @Test
  void jsonToSoapAndTheSoapAnswerBackToJson() throws Exception {
    var plugins =
        """
        proxy-rewrite:
          headers:
            set: {Content-Type: "text/xml"}
        body-transformer:
          request: {template: %s}
          response: {template: %s}
        """
            .formatted(quoted(REQ_TEMPLATE), quoted(RSP_TEMPLATE));
    gw = Gateways.start(dir, "routes:\n" + route("soap", "/ws", plugins));

    var ok = send("POST", "/ws", "{\"name\": \"Spain\"}", "Content-Type", "application/json");
    var sent = seen.get("/ws");
    assertThat(sent.contentType()).isEqualTo("text/xml");
    assertThat(sent.body()).contains("<ns0:name>Spain</ns0:name>").startsWith("<?xml");
    assertThat(sent.h().get("content-length"))
        .isEqualTo(Integer.toString(sent.body().getBytes(StandardCharsets.UTF_8).length));
    assertThat(ok.statusCode()).isEqualTo(200);
    var answer = json(ok.body());
    assertThat(answer.path("status").asText()).isEqualTo("200");
    assertThat(answer.path("currency").asText()).isEqualTo("EUR");
    assertThat(answer.path("population").asLong()).isEqualTo(46704314L);
    assertThat(answer.path("capital").asText()).isEqualTo("Madrid");
    assertThat(answer.path("name").asText()).isEqualTo("Spain");

    // The fault branch, and a name that needs escaping in XML.
    var fault = send("POST", "/ws", "{\"name\": \"<Nobody>\"}", "Content-Type", "application/json");
    assertThat(seen.get("/ws").body()).contains("&amp;lt;Nobody&amp;gt;");
    assertThat(fault.statusCode()).isEqualTo(500);
    var f = json(fault.body());
    assertThat(f.path("message").asText()).isEqualTo("Your name is required.");
    assertThat(f.path("code").asText()).isEqualTo("SOAP-ENV:Server");
    assertThat(f.has("actor")).isFalse();

    // A body that is not JSON: 400 with APISIX's message shape.
    var bad = send("POST", "/ws", "{not json", "Content-Type", "application/json");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad.body()).path("message").asText()).startsWith("request body decode: ");
  }

  @Test
  void argsAndFormsAreTemplateInputs() throws Exception {
    var args =
        "{\"name\":\"{{name}}\",\"age\":{*age*},\"tags\":[{% for i, t in ipairs(tag) do %}"
            + "{% if i > 1 then %},{% end %}{*_escape_json(t)*}{% end %}]}";
    var form = "user={{user}}&role={{role or 'guest'}}";
    var yaml =
        "routes:\n"
            + route(
                "args",
                "/args",
                """
                body-transformer:
                  request: {template: %s}
                """
                    .formatted(quoted(args)))
            + route(
                "form",
                "/form",
                """
                body-transformer:
                  request: {input_format: encoded, template: %s}
                """
                    .formatted(quoted(form)));
    gw = Gateways.start(dir, yaml);

    var res = send("GET", "/args?name=jo&age=3&tag=a&tag=b%22", null);
    assertThat(res.statusCode()).isEqualTo(200);
    var body = json(seen.get("/args").body());
    assertThat(body.path("name").asText()).isEqualTo("jo");
    assertThat(body.path("age").asInt()).isEqualTo(3);
    assertThat(body.path("tags").get(1).asText()).isEqualTo("b\"");

    res =
        send(
            "POST",
            "/form",
            "user=Ann+Lee&x=1",
            "Content-Type",
            "application/x-www-form-urlencoded");
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(seen.get("/form").body()).isEqualTo("user=Ann Lee&role=guest");
  }

  @Test
  void degraphqlSendsTheQueryWithItsVariables() throws Exception {
    var query =
        "query($name: String!, $githubAccount: String!) {\n"
            + "  persons(filter: { name: $name, githubAccount: $githubAccount }) { id }\n}";
    var yaml =
        "routes:\n"
            + route(
                "gql",
                "/graphql",
                """
                degraphql:
                  query: %s
                  variables: [name, githubAccount]
                """
                    .formatted(quoted(query)))
            + route(
                "gql-op",
                "/graphql-op",
                """
                degraphql:
                  query: "query A { a } query B { b }"
                  operation_name: B
                """);
    gw = Gateways.start(dir, yaml);

    var res =
        send(
            "POST",
            "/graphql",
            "{\"name\": \"Niek\", \"githubAccount\": \"npalm\", \"other\": 1}",
            "Content-Type",
            "text/plain");
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(json(res.body()).path("data").path("persons").get(0).path("id").asText())
        .isEqualTo("7");
    var sent = seen.get("/graphql");
    assertThat(sent.method()).isEqualTo("POST");
    assertThat(sent.contentType()).isEqualTo("application/json");
    var gql = json(sent.body());
    assertThat(gql.path("query").asText()).isEqualTo(query);
    assertThat(gql.path("variables"))
        .isEqualTo(json("{\"name\": \"Niek\", \"githubAccount\": \"npalm\"}"));
    assertThat(gql.has("operationName")).isFalse();

    res = send("GET", "/graphql?name=Niek&githubAccount=npalm", null);
    assertThat(res.statusCode()).isEqualTo(200);
    sent = seen.get("/graphql");
    assertThat(sent.method()).isEqualTo("GET");
    var q = sent.target().substring(sent.target().indexOf('?') + 1);
    var params = new java.util.HashMap<String, String>();
    for (var p : q.split("&")) {
      int eq = p.indexOf('=');
      params.put(
          p.substring(0, eq), URLDecoder.decode(p.substring(eq + 1), StandardCharsets.UTF_8));
    }
    assertThat(params.get("query")).isEqualTo(query);
    assertThat(json(params.get("variables")))
        .isEqualTo(json("{\"name\": \"Niek\", \"githubAccount\": \"npalm\"}"));

    assertThat(send("PUT", "/graphql", "{}").statusCode()).isEqualTo(405);
    assertThat(send("POST", "/graphql", "[1]").statusCode()).isEqualTo(400);

    send("POST", "/graphql-op", "ignored");
    var op = json(seen.get("/graphql-op").body());
    assertThat(op.path("operationName").asText()).isEqualTo("B");
    assertThat(op.has("variables")).isFalse();
  }

  @Test
  void attachConsumerLabelCopiesTheConsumersLabels() throws Exception {
    var yaml =
        "routes:\n"
            + route(
                "labels",
                "/labels",
                """
                key-auth: {}
                attach-consumer-label:
                  headers:
                    X-Consumer-Department: $department
                    X-Consumer-Company: $company
                    X-Consumer-Role: $role
                """)
            + """
            consumers:
              - username: john
                labels:
                  department: devops
                  company: api7
                plugins:
                  key-auth: {key: john-key}
            """;
    gw = Gateways.start(dir, yaml);
    var res = send("GET", "/labels", null, "apikey", "john-key", "X-Consumer-Role", "admin");
    assertThat(res.statusCode()).isEqualTo(200);
    var h = seen.get("/labels").h();
    assertThat(h.get("x-consumer-department")).isEqualTo("devops");
    assertThat(h.get("x-consumer-company")).isEqualTo("api7");
    // A label the consumer lacks: the client's own value does not pass.
    assertThat(h).doesNotContainKey("x-consumer-role");
    assertThat(send("GET", "/labels", null).statusCode()).isEqualTo(401);
  }
}
