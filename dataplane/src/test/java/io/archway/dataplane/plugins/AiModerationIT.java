package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.support.SigV4;
import io.archway.dataplane.testing.Gateways;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AI moderation and RAG plugins through a real dataplane, with an HTTP server in the test
 * playing AWS Comprehend (it checks the SigV4 signature it gets and the DetectToxicContent target,
 * and finds "bad" words toxic), Azure OpenAI embeddings and Azure AI Search (they check their
 * api-key), and the upstream LLM (it records the body it gets).
 */
class AiModerationIT {

  static final String AK = "AKIDEXAMPLE";
  static final String SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

  @TempDir Path dir;
  Gateways gw;
  HttpServer server;
  ExecutorService pool;
  final List<JsonNode> comprehend = new CopyOnWriteArrayList<>();
  final Map<String, String> seen = new ConcurrentHashMap<>();
  final List<Map<String, String>> aliyun = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    pool = Executors.newFixedThreadPool(2);
    server.setExecutor(pool);
    server.createContext("/", this::handle);
    server.start();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    server.stop(0);
    pool.shutdownNow();
  }

  String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    var body = ex.getRequestBody().readAllBytes();
    var path = ex.getRequestURI().getPath();
    var h = ex.getRequestHeaders();
    int status = 200;
    String out;
    if (path.equals("/") && h.getFirst("X-Amz-Target") == null) {
      // Aliyun's text moderation: check the signature over the parameters that arrived.
      var params = new java.util.TreeMap<String, String>();
      for (var p : new String(body, StandardCharsets.UTF_8).split("&")) {
        int eq = p.indexOf('=');
        params.put(
            java.net.URLDecoder.decode(p.substring(0, eq), StandardCharsets.UTF_8),
            java.net.URLDecoder.decode(p.substring(eq + 1), StandardCharsets.UTF_8));
      }
      aliyun.add(params);
      var sp = ModelJson.mapper().readTree(params.get("ServiceParameters"));
      boolean signed =
          params
              .get("Signature")
              .equals(AiAliyunContentModerationPlugin.sign(params, "ali-secret&"));
      if (!signed) {
        status = 400;
        out = "{\"Code\":\"SignatureDoesNotMatch\"}";
      } else {
        var risky = sp.path("content").asText().contains("bad");
        out =
            "{\"Code\":200,\"Data\":{\"RiskLevel\":\""
                + (risky ? "high" : "none")
                + "\",\"Advice\":[{\"Answer\":\"Let us talk about something else.\"}]}}";
      }
    } else if (path.equals("/")) {
      // Comprehend: recompute the signature over what arrived.
      var amzDate = h.getFirst("X-Amz-Date");
      var signed = new LinkedHashMap<String, List<String>>();
      signed.put("content-type", List.of(h.getFirst("Content-Type")));
      signed.put("host", List.of(h.getFirst("Host")));
      signed.put("x-amz-target", List.of(h.getFirst("X-Amz-Target")));
      var at =
          LocalDateTime.parse(amzDate, DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"))
              .toInstant(ZoneOffset.UTC);
      var expected =
          SigV4.sign(
                  new SigV4.Credentials(AK, SK, null),
                  "us-east-1",
                  "comprehend",
                  "POST",
                  "/",
                  "",
                  signed,
                  body,
                  at)
              .authorization();
      var json = ModelJson.mapper().readTree(body);
      comprehend.add(json);
      if (!expected.equals(h.getFirst("Authorization"))
          || !Comprehend.TARGET.equals(h.getFirst("X-Amz-Target"))
          || !"application/x-amz-json-1.1".equals(h.getFirst("Content-Type"))) {
        status = 403;
        out = "{\"__type\":\"InvalidSignatureException\"}";
      } else {
        var results = ModelJson.mapper().createObjectNode();
        var list = results.putArray("ResultList");
        for (var seg : json.path("TextSegments")) {
          var text = seg.path("Text").asText();
          boolean bad = text.contains("bad");
          boolean rude = text.contains("rude");
          var r = list.addObject();
          r.put("Toxicity", bad ? 0.9 : 0.1);
          var labels = r.putArray("Labels");
          labels.addObject().put("Name", "PROFANITY").put("Score", bad ? 0.8 : 0.05);
          labels.addObject().put("Name", "INSULT").put("Score", rude ? 0.4 : 0.01);
        }
        out = results.toString();
      }
    } else if (path.equals("/embeddings")) {
      seen.put("embeddings", new String(body, StandardCharsets.UTF_8));
      if (!"emb-key".equals(h.getFirst("api-key"))) {
        status = 401;
        out = "{\"error\":\"bad key\"}";
      } else {
        out = "{\"data\":[{\"embedding\":[0.25,-0.5]}]}";
      }
    } else if (path.equals("/search")) {
      seen.put("search", new String(body, StandardCharsets.UTF_8));
      status = "search-key".equals(h.getFirst("api-key")) ? 200 : 401;
      out = "{\"value\":[{\"content\":\"Archway is a gateway\"}]}";
    } else {
      seen.put("upstream", new String(body, StandardCharsets.UTF_8));
      out = "{\"answer\":\"ok\"}";
    }
    var bytes = out.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  String route(String id, String uri, String plugins) {
    return """
          - id: %s
            uri: "%s"
            upstream:
              nodes:
                "127.0.0.1:%d": 1
            plugins:
        %s
        """
        .formatted(id, uri, server.getAddress().getPort(), plugins.indent(6).stripTrailing());
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return gw.client()
        .send(
            HttpRequest.newBuilder(URI.create(gw.url(path)))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void awsContentModerationRefusesToxicBodiesWithASignedComprehendCall() throws Exception {
    var yaml =
        "routes:\n"
            + route(
                "aws",
                "/aws",
                """
                ai-aws-content-moderation:
                  comprehend:
                    access_key_id: %s
                    secret_access_key: %s
                    region: us-east-1
                    endpoint: %s
                  moderation_categories: {INSULT: 0.3}
                """
                    .formatted(AK, SK, base()))
            + route(
                "old",
                "/old",
                """
                ai-content-moderation:
                  provider:
                    aws_comprehend:
                      access_key_id: %s
                      secret_access_key: %s
                      region: us-east-1
                      endpoint: %s
                  toxicity_level: 0.95
                  type: openai
                """
                    .formatted(AK, SK, base()));
    gw = Gateways.start(dir, yaml);

    var ok = post("/aws", "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 1+1?\"}]}");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("\"answer\"");
    // The whole body is one segment, as APISIX.
    assertThat(comprehend.get(0).path("TextSegments").get(0).path("Text").asText())
        .isEqualTo("{\"messages\":[{\"role\":\"user\",\"content\":\"What is 1+1?\"}]}");
    assertThat(comprehend.get(0).path("LanguageCode").asText()).isEqualTo("en");

    var toxic = post("/aws", "{\"messages\":[{\"role\":\"user\",\"content\":\"bad words\"}]}");
    assertThat(toxic.statusCode()).isEqualTo(400);
    assertThat(toxic.body()).isEqualTo("request body exceeds toxicity threshold");
    var rude = post("/aws", "{\"messages\":[{\"role\":\"user\",\"content\":\"rude\"}]}");
    assertThat(rude.statusCode()).isEqualTo(400);
    assertThat(rude.body()).isEqualTo("request body exceeds INSULT threshold");

    // ai-content-moderation: each message a segment; toxicity 0.9 is under its 0.95.
    comprehend.clear();
    var two =
        post(
            "/old",
            "{\"messages\":[{\"role\":\"system\",\"content\":\"sys\"},"
                + "{\"role\":\"user\",\"content\":\"bad\"}]}");
    assertThat(two.statusCode()).isEqualTo(200);
    assertThat(comprehend.get(0).path("TextSegments").size()).isEqualTo(2);
    var none = post("/old", "{\"prompt\":\"x\"}");
    assertThat(none.statusCode()).isEqualTo(400);
    assertThat(none.body()).isEqualTo("messages not found in request body");
  }

  @Test
  void awsContentModerationWithAWrongKeyIs500() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "aws",
                    "/aws",
                    """
                    ai-aws-content-moderation:
                      comprehend:
                        access_key_id: %s
                        secret_access_key: wrong
                        region: us-east-1
                        endpoint: %s
                    """
                        .formatted(AK, base())));
    var res = post("/aws", "{\"messages\":[]}");
    assertThat(res.statusCode()).isEqualTo(500);
    assertThat(res.body()).contains("InvalidSignatureException");
  }

  @Test
  void aiRagAppendsTheSearchResultToTheMessages() throws Exception {
    var plugins =
        """
        ai-rag:
          embeddings_provider:
            azure_openai: {endpoint: "%s/embeddings", api_key: emb-key}
          vector_search_provider:
            azure_ai_search: {endpoint: "%s/search", api_key: %s}
        """;
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("rag", "/rag", plugins.formatted(base(), base(), "search-key"))
                + route("bad", "/bad", plugins.formatted(base(), base(), "other")));
    var req =
        "{\"messages\":[{\"role\":\"user\",\"content\":\"What is Archway?\"}],"
            + "\"ai_rag\":{\"embeddings\":{\"input\":\"Archway\"},"
            + "\"vector_search\":{\"fields\":\"contentVector\"}}}";
    var res = post("/rag", req);
    assertThat(res.statusCode()).isEqualTo(200);
    var json = ModelJson.mapper();
    assertThat(json.readTree(seen.get("embeddings")).path("input").asText()).isEqualTo("Archway");
    var search = json.readTree(seen.get("search")).path("vectorQueries").get(0);
    assertThat(search.path("kind").asText()).isEqualTo("vector");
    assertThat(search.path("fields").asText()).isEqualTo("contentVector");
    assertThat(search.path("vector").toString()).isEqualTo("[0.25,-0.5]");
    var sent = json.readTree(seen.get("upstream"));
    assertThat(sent.has("ai_rag")).isFalse();
    assertThat(sent.path("messages").size()).isEqualTo(2);
    assertThat(sent.path("messages").get(1).path("role").asText()).isEqualTo("user");
    assertThat(sent.path("messages").get(1).path("content").asText())
        .isEqualTo("{\"value\":[{\"content\":\"Archway is a gateway\"}]}");

    // The search service's refusal is passed on; no ai_rag is 400.
    assertThat(post("/bad", req).statusCode()).isEqualTo(401);
    assertThat(post("/rag", "{\"messages\":[]}").statusCode()).isEqualTo(400);
    assertThat(post("/rag", "{\"ai_rag\":{\"embeddings\":{}}}").statusCode()).isEqualTo(400);
  }

  @Test
  void aliyunContentModerationDeniesRiskyPromptsAsAChatAnswer() throws Exception {
    var plugins =
        """
        ai-proxy:
          provider: openai-compatible
          auth: {header: {Authorization: "Bearer sk"}}
          override: {endpoint: "%s/v1/chat/completions"}
        ai-aliyun-content-moderation:
          endpoint: "%s"
          region_id: cn-shanghai
          access_key_id: ali-key
          access_key_secret: ali-secret
        """
            .formatted(base(), base());
    var alone =
        """
        ai-aliyun-content-moderation:
          endpoint: "%s"
          region_id: cn-shanghai
          access_key_id: ali-key
          access_key_secret: ali-secret
        """
            .formatted(base());
    gw =
        Gateways.start(
            dir, "routes:\n" + route("ali", "/ali", plugins) + route("alone", "/alone", alone));
    var ok =
        post(
            "/ali",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"be nice\"},"
                + "{\"role\":\"user\",\"content\":\"hello\"}]}");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("\"answer\"");
    var call = aliyun.get(0);
    assertThat(call.get("Action")).isEqualTo("TextModerationPlus");
    assertThat(call.get("Service")).isEqualTo("llm_query_moderation");
    assertThat(call.get("Version")).isEqualTo("2022-03-02");
    assertThat(call.get("AccessKeyId")).isEqualTo("ali-key");
    assertThat(ModelJson.mapper().readTree(call.get("ServiceParameters")).path("content").asText())
        .isEqualTo("be nice hello");

    seen.remove("upstream");
    var denied =
        post("/ali", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"bad\"}]}");
    assertThat(denied.statusCode()).isEqualTo(200);
    var answer = ModelJson.mapper().readTree(denied.body());
    assertThat(answer.path("object").asText()).isEqualTo("chat.completion");
    assertThat(answer.path("choices").get(0).path("message").path("content").asText())
        .isEqualTo("Let us talk about something else.");
    assertThat(seen).doesNotContainKey("upstream");

    var without = post("/alone", "{\"messages\":[]}");
    assertThat(without.statusCode()).isEqualTo(500);
    assertThat(without.body()).startsWith("no ai instance picked");
  }
}
