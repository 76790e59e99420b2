package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.testing.Gateways;
import io.archway.model.testing.Ports;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ai-proxy and ai-proxy-multi through a real dataplane to an OpenAI-compatible server written in
 * the test ({@link FakeLlm}): what the provider is sent, the answer relayed plain and streamed, the
 * token usage published for loggers, the instances' weights and fallbacks.
 */
class AiPluginsIT {

  static final String CHAT =
      "{\"model\":\"client-model\",\"messages\":[{\"role\":\"system\",\"content\":\"You are"
          + " terse\"},{\"role\":\"user\",\"content\":\"Say hello\"}]}";

  @TempDir Path dir;
  FakeLlm llm;
  Gateways gw;

  @BeforeEach
  void start() throws Exception {
    llm = new FakeLlm();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    llm.close();
  }

  static String route(String id, String uri, String plugins) {
    return """
          - id: %s
            uri: "%s"
            plugins:
        %s
        """
        .formatted(id, uri, plugins.indent(6).stripTrailing());
  }

  HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    var b =
        HttpRequest.newBuilder(URI.create(gw.url(path)))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return gw.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(String s) throws Exception {
    return FakeLlm.JSON.readTree(s);
  }

  @Test
  void aiProxySendsTheBodyWithOptionsAndAuthAndLogsTheUsage() throws Exception {
    var log = dir.resolve("ai.log");
    var plugins =
        """
        ai-proxy:
          provider: openai-compatible
          auth:
            header: {Authorization: "Bearer sk-test"}
            query: {tenant: "t 1"}
          options: {model: gpt-gateway, temperature: 0.5}
          override: {endpoint: "%s?api-version=2024"}
          logging: {summaries: true, payloads: true}
        file-logger: {path: "%s"}
        """
            .formatted(llm.endpoint("main"), log);
    gw = Gateways.start(dir, "routes:\n" + route("chat", "/chat", plugins));
    var res = post("/chat", CHAT, "Content-Type", "application/json", "Authorization", "client");
    assertThat(res.statusCode()).isEqualTo(200);
    var answer = json(res.body());
    assertThat(answer.path("served_by").asText()).isEqualTo("main");
    assertThat(answer.path("choices").get(0).path("message").path("content").asText())
        .isEqualTo("Hello from main");
    // What the provider got: its path and query, the gateway's key, the options over the body.
    assertThat(llm.received).hasSize(1);
    var sent = llm.received.get(0);
    assertThat(sent.path()).isEqualTo("/main/v1/chat/completions");
    assertThat(sent.query()).isEqualTo("api-version=2024&tenant=t%201");
    assertThat(sent.authorization()).isEqualTo("Bearer sk-test");
    assertThat(sent.host()).isEqualTo("127.0.0.1:" + llm.port());
    assertThat(sent.body().path("model").asText()).isEqualTo("gpt-gateway");
    assertThat(sent.body().path("temperature").asDouble()).isEqualTo(0.5);
    assertThat(sent.body().path("messages")).isEqualTo(json(CHAT).path("messages"));
    // The loggers' entry: the summary and payloads, and never the provider's key.
    await().until(() -> Files.exists(log) && Files.readAllLines(log).size() == 1);
    var entry = json(Files.readAllLines(log).get(0));
    var summary = entry.path("llm_summary");
    assertThat(summary.path("model").asText()).isEqualTo("gpt-gateway");
    assertThat(summary.path("prompt_tokens").asInt()).isEqualTo(12);
    assertThat(summary.path("completion_tokens").asInt()).isEqualTo(3);
    assertThat(entry.path("llm_request").path("messages").size()).isEqualTo(2);
    assertThat(entry.path("llm_request").path("stream").asBoolean()).isFalse();
    assertThat(entry.path("llm_response_text").path("content").asText())
        .isEqualTo("Hello from main");
    assertThat(entry.path("request").path("headers").has("authorization")).isFalse();
  }

  @Test
  void aiProxyRelaysAStreamEventByEventAndReadsTheUsageOfItsLastEvent() throws Exception {
    var log = dir.resolve("stream.log");
    var plugins =
        """
        ai-proxy:
          provider: openai-compatible
          auth: {header: {Authorization: "Bearer sk-test"}}
          options: {model: gpt-stream, stream: true}
          override: {endpoint: "%s"}
        file-logger:
          path: "%s"
          log_format:
            type: $request_type
            model: $llm_model
            requested: $request_llm_model
            prompt: $llm_prompt_tokens
            completion: $llm_completion_tokens
            first: $llm_time_to_first_token
        """
            .formatted(llm.endpoint("streamer"), log);
    gw = Gateways.start(dir, "routes:\n" + route("chat", "/chat", plugins));
    var req =
        HttpRequest.newBuilder(URI.create(gw.url("/chat")))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(CHAT))
            .build();
    var res = gw.client().send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type")).hasValue("text/event-stream");
    var events = new ArrayList<String>();
    try (var in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("data: ")) {
          events.add(line.substring(6));
          // The first event came through while the provider holds back the rest.
          llm.firstEventSeen.countDown();
        }
      }
    }
    assertThat(events).hasSize(5).endsWith("[DONE]");
    var text = new StringBuilder();
    for (var e : events.subList(0, 3)) {
      text.append(json(e).path("choices").get(0).path("delta").path("content").asText());
    }
    assertThat(text.toString()).isEqualTo("Hello streamer");
    assertThat(llm.received.get(0).body().path("stream").asBoolean()).isTrue();
    await().until(() -> Files.exists(log) && Files.readAllLines(log).size() == 1);
    var entry = json(Files.readAllLines(log).get(0));
    assertThat(entry.path("type").asText()).isEqualTo("ai_stream");
    assertThat(entry.path("model").asText()).isEqualTo("gpt-stream");
    assertThat(entry.path("requested").asText()).isEqualTo("client-model");
    assertThat(entry.path("prompt").asText()).isEqualTo("7");
    assertThat(entry.path("completion").asText()).isEqualTo("2");
    assertThat(Long.parseLong(entry.path("first").asText())).isGreaterThanOrEqualTo(0);
  }

  @Test
  void theAccessLogHasTheLlmFields() throws Exception {
    var access = dir.resolve("access.log");
    gw =
        Gateways.start(
            dir,
            "routes:\n" + route("chat", "/chat", proxyTo("main")),
            io.archway.dataplane.http.HttpSettings.DEFAULTS.withAccessLog(access.toString()));
    assertThat(post("/chat", CHAT).statusCode()).isEqualTo(200);
    await().until(() -> Files.exists(access) && Files.readAllLines(access).size() == 1);
    var line = json(Files.readAllLines(access).get(0));
    assertThat(line.path("llm_model").asText()).isEqualTo("client-model");
    assertThat(line.path("llm_prompt_tokens").asText()).isEqualTo("12");
    assertThat(line.path("llm_completion_tokens").asText()).isEqualTo("3");
    assertThat(Long.parseLong(line.path("llm_time_to_first_token").asText()))
        .isGreaterThanOrEqualTo(0);
  }

  @Test
  void aiProxyRefusesWhatIsNotAJsonChatRequest() throws Exception {
    var plugins =
        """
        ai-proxy:
          provider: openai-compatible
          auth: {header: {Authorization: "Bearer sk-test"}}
          override: {endpoint: "%s"}
        """
            .formatted(llm.endpoint("main"));
    gw = Gateways.start(dir, "routes:\n" + route("chat", "/chat", plugins));
    var text = post("/chat", "hello", "Content-Type", "text/plain");
    assertThat(text.statusCode()).isEqualTo(400);
    assertThat(text.body()).startsWith("unsupported content-type: text/plain");
    var broken = post("/chat", "{\"messages\":", "Content-Type", "application/json");
    assertThat(broken.statusCode()).isEqualTo(400);
    assertThat(llm.received).isEmpty();
    // Still served after those.
    assertThat(post("/chat", CHAT).statusCode()).isEqualTo(200);
  }

  @Test
  void aiProxyMultiSpreadsByWeightWithinTheHighestPriority() throws Exception {
    var plugins =
        """
        ai-proxy-multi:
          instances:
            - name: a
              provider: openai-compatible
              weight: 3
              auth: {header: {Authorization: "Bearer key-a"}}
              options: {model: model-a}
              override: {endpoint: "%s"}
            - name: b
              provider: openai-compatible
              weight: 1
              auth: {header: {Authorization: "Bearer key-b"}}
              options: {model: model-b}
              override: {endpoint: "%s"}
            - name: spare
              provider: openai-compatible
              priority: -1
              weight: 100
              auth: {header: {Authorization: "Bearer key-c"}}
              override: {endpoint: "%s"}
        """
            .formatted(llm.endpoint("a"), llm.endpoint("b"), llm.endpoint("spare"));
    gw = Gateways.start(dir, "routes:\n" + route("multi", "/multi", plugins));
    Map<String, Integer> served = new HashMap<>();
    for (int i = 0; i < 8; i++) {
      var res = post("/multi", CHAT);
      assertThat(res.statusCode()).isEqualTo(200);
      served.merge(json(res.body()).path("served_by").asText(), 1, Integer::sum);
    }
    assertThat(served).containsExactlyInAnyOrderEntriesOf(Map.of("a", 6, "b", 2));
    for (var r : llm.received) {
      var name = r.path().split("/")[1];
      assertThat(r.authorization()).isEqualTo("Bearer key-" + name);
      assertThat(r.body().path("model").asText()).isEqualTo("model-" + name);
    }
  }

  @Test
  void aiProxyMultiFallsBackOn429And5xxOnlyWhenToldTo() throws Exception {
    int closed = Ports.free(); // nothing listens there
    var plugins =
        """
        ai-proxy-multi:
          fallback_strategy: [http_429, http_5xx]
          instances:
            - {name: busy, provider: openai-compatible, priority: 3, weight: 1,
               auth: {header: {Authorization: "Bearer k", X-Busy-Key: "busy-secret"}},
               override: {endpoint: "%s"}}
            - {name: broken, provider: openai-compatible, priority: 2, weight: 1,
               auth: {header: {Authorization: "Bearer k"}}, override: {endpoint: "%s"}}
            - {name: gone, provider: openai-compatible, priority: 1, weight: 1,
               auth: {header: {Authorization: "Bearer k"}},
               override: {endpoint: "http://127.0.0.1:%d/v1/chat/completions"}}
            - {name: last, provider: openai-compatible, priority: 0, weight: 1,
               auth: {header: {Authorization: "Bearer k"}}, options: {model: last-model},
               override: {endpoint: "%s"}}
        """
            .formatted(llm.endpoint("busy"), llm.endpoint("broken"), closed, llm.endpoint("last"));
    var noFallback =
        """
        ai-proxy-multi:
          instances:
            - {name: busy, provider: openai-compatible, priority: 1, weight: 1,
               auth: {header: {Authorization: "Bearer k"}}, override: {endpoint: "%s"}}
            - {name: last, provider: openai-compatible, weight: 1,
               auth: {header: {Authorization: "Bearer k"}}, override: {endpoint: "%s"}}
        """
            .formatted(llm.endpoint("busy"), llm.endpoint("last"));
    var only429 = noFallback.replace("  instances:", "  fallback_strategy: http_429\n  instances:");
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("fallback", "/fallback", plugins)
                + route("plain", "/plain", noFallback)
                + route("only429", "/only429", only429));
    var res = post("/fallback", CHAT);
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(json(res.body()).path("served_by").asText()).isEqualTo("last");
    assertThat(json(res.body()).path("model").asText()).isEqualTo("last-model");
    // busy, broken, then (gone refused the connection) last: each once, each with the body.
    assertThat(llm.received)
        .extracting(r -> r.path().split("/")[1])
        .containsExactly("busy", "broken", "last");
    assertThat(llm.received)
        .allSatisfy(r -> assertThat(r.body().path("messages").size()).isEqualTo(2));
    // The first instance's key went to it only.
    assertThat(llm.received.get(0).headers().getFirst("X-Busy-Key")).isEqualTo("busy-secret");
    assertThat(llm.received.get(2).headers().containsKey("X-Busy-Key")).isFalse();
    // Without a fallback strategy, the highest priority's answer is the answer.
    var plain = post("/plain", CHAT);
    assertThat(plain.statusCode()).isEqualTo(429);
    assertThat(plain.body()).contains("rate limited");
    assertThat(post("/only429", CHAT).statusCode()).isEqualTo(200);
  }

  String proxyTo(String name) {
    return """
        ai-proxy:
          provider: openai-compatible
          auth: {header: {Authorization: "Bearer sk-test"}}
          override: {endpoint: "%s"}
        """
        .formatted(llm.endpoint(name));
  }

  @Test
  void promptDecoratorAndTemplateShapeWhatTheProviderIsSent() throws Exception {
    var decorator =
        proxyTo("main")
            + """
            ai-prompt-decorator:
              prepend: [{role: system, content: "Answer in French"}]
              append: [{role: user, content: "Be brief"}]
            """;
    var template =
        proxyTo("main")
            + """
            ai-prompt-template:
              templates:
                - name: explain
                  template:
                    model: gpt-templated
                    messages:
                      - {role: user, content: "Explain {{topic}} to a {{audience.age}} year old"}
            """;
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("decorated", "/decorated", decorator)
                + route("templated", "/templated", template));
    assertThat(post("/decorated", CHAT).statusCode()).isEqualTo(200);
    var messages = llm.received.get(0).body().path("messages");
    assertThat(messages).hasSize(4);
    assertThat(messages.get(0).path("content").asText()).isEqualTo("Answer in French");
    assertThat(messages.get(1).path("content").asText()).isEqualTo("You are terse");
    assertThat(messages.get(3).path("content").asText()).isEqualTo("Be brief");
    var filled =
        post(
            "/templated",
            "{\"template_name\":\"explain\",\"topic\":\"\\\"quarks\\\"\",\"audience\":{\"age\":5}}");
    assertThat(filled.statusCode()).isEqualTo(200);
    var sent = llm.received.get(1).body();
    assertThat(sent.path("model").asText()).isEqualTo("gpt-templated");
    assertThat(sent.path("messages").get(0).path("content").asText())
        .isEqualTo("Explain \"quarks\" to a 5 year old");
    var unknown = post("/templated", "{\"template_name\":\"nope\"}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(json(unknown.body()).path("message").asText())
        .isEqualTo("template: nope not configured.");
    var missing = post("/templated", "{}");
    assertThat(json(missing.body()).path("message").asText())
        .isEqualTo("template name is missing in request.");
    assertThat(llm.received).hasSize(2);
  }

  @Test
  void promptGuardRefusesByItsPatternsBeforeTheProviderIsAsked() throws Exception {
    var guard =
        proxyTo("main")
            + """
            ai-prompt-guard:
              allow_patterns: ["(?i)hello|weather"]
              deny_patterns: ["password", "(.*a){12}$"]
            """;
    var history =
        proxyTo("main")
            + """
            ai-prompt-guard:
              match_all_conversation_history: true
              deny_patterns: ["terse"]
            """;
    gw =
        Gateways.start(
            dir, "routes:\n" + route("guard", "/guard", guard) + route("all", "/all", history));
    assertThat(post("/guard", CHAT).statusCode()).isEqualTo(200);
    var off = post("/guard", chat("user", "Tell me a joke"));
    assertThat(off.statusCode()).isEqualTo(400);
    assertThat(json(off.body()).path("message").asText())
        .isEqualTo("Request doesn't match allow patterns");
    var denied = post("/guard", chat("user", "hello, what is the admin password"));
    assertThat(json(denied.body()).path("message").asText())
        .isEqualTo("Request contains prohibited content");
    // A pattern that would backtrack without end on java.util.regex: RE2 answers at once, truly
    // (no match), so the request goes on.
    var slow = post("/guard", chat("user", "hello " + "a".repeat(40) + "!"));
    assertThat(slow.statusCode()).isEqualTo(200);
    // Not the user's last word: not checked (match_all_roles is off).
    assertThat(post("/guard", chat("assistant", "password")).statusCode()).isEqualTo(200);
    // The whole history: the system message is checked too.
    assertThat(post("/all", CHAT).statusCode()).isEqualTo(400);
    assertThat(llm.received).hasSize(3);
  }

  static String chat(String role, String content) {
    return "{\"messages\":[{\"role\":\"%s\",\"content\":\"%s\"}]}".formatted(role, content);
  }

  @Test
  void aiRateLimitingCountsTheTokensOfEachAnswerAndRefusesOnceTheyAreSpent() throws Exception {
    var plugins =
        proxyTo("main")
            + """
            ai-rate-limiting:
              limit: 20
              time_window: 60
              rejected_code: 429
              rejected_msg: "token quota exceeded"
            """;
    var perInstance =
        """
        ai-proxy-multi:
          instances:
            - {name: small, provider: openai-compatible, weight: 1,
               auth: {header: {Authorization: "Bearer k"}}, override: {endpoint: "%s"}}
        ai-rate-limiting:
          limit_strategy: completion_tokens
          instances: [{name: small, limit: 5, time_window: 60}]
        """
            .formatted(llm.endpoint("small"));
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("limited", "/limited", plugins)
                + route("per", "/per", perInstance));
    // 15 tokens an answer: the first passes with 20 left, the second with 5 left (it crosses the
    // limit, counted once answered), then requests are refused.
    var first = post("/limited", CHAT);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("X-AI-RateLimit-Remaining-ai-proxy-openai-compatible"))
        .hasValue("20");
    await().until(() -> post("/limited", CHAT).statusCode() == 429);
    var refused = post("/limited", CHAT);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(json(refused.body()).path("error_msg").asText()).isEqualTo("token quota exceeded");
    assertThat(llm.received).hasSize(2);
    // Per instance, by completion tokens (3 an answer): two pass, the third is refused.
    assertThat(post("/per", CHAT).statusCode()).isEqualTo(200);
    await().until(() -> post("/per", CHAT).statusCode() == 503);
    assertThat(llm.received.stream().filter(r -> r.path().startsWith("/small/"))).hasSize(2);
  }

  @Test
  void requestRewriteForwardsTheLlmsAnswerAsTheNewBody() throws Exception {
    try (var up = new io.archway.dataplane.testing.RecordingUpstream()) {
      var rewrite =
          """
          - id: rewrite
            uri: /rewrite
            upstream: {nodes: {"%s": 1}}
            plugins:
              ai-request-rewrite:
                prompt: "Mask every card number"
                provider: openai-compatible
                auth: {header: {Authorization: "Bearer sk-rw"}}
                options: {model: gpt-rewriter}
                override: {endpoint: "%s"}
          - id: failing
            uri: /failing
            upstream: {nodes: {"%s": 1}}
            plugins:
              ai-request-rewrite:
                prompt: "Mask every card number"
                provider: openai-compatible
                auth: {header: {Authorization: "Bearer sk-rw"}}
                override: {endpoint: "%s"}
          """
              .formatted(up.node(), llm.endpoint("rewriter"), up.node(), llm.endpoint("busy"));
      gw = Gateways.start(dir, "routes:\n" + rewrite);
      var res = post("/rewrite", "card 4111-1111-1111-1111", "Content-Type", "text/plain");
      assertThat(res.statusCode()).isEqualTo(200);
      await().until(() -> up.requests().size() == 1);
      assertThat(up.requests().get(0).bodyText()).isEqualTo("Hello from rewriter");
      var asked = llm.received.get(0).body();
      assertThat(asked.path("model").asText()).isEqualTo("gpt-rewriter");
      assertThat(asked.path("stream").asBoolean()).isFalse();
      assertThat(asked.path("messages").get(0).path("content").asText())
          .isEqualTo("Mask every card number");
      assertThat(asked.path("messages").get(1).path("content").asText())
          .isEqualTo("card 4111-1111-1111-1111");
      // An LLM that answers an error: 500, and the upstream never hears of the request.
      assertThat(post("/failing", "x").statusCode()).isEqualTo(500);
      assertThat(up.requests()).hasSize(1);
    }
  }

  @Test
  void aRateLimitingFallbackMovesOnWhenTheFirstInstancesTokensAreSpent() throws Exception {
    var plugins =
        """
        ai-proxy-multi:
          fallback_strategy: [rate_limiting]
          instances:
            - {name: first, provider: openai-compatible, priority: 1, weight: 1,
               auth: {header: {Authorization: "Bearer k"}}, override: {endpoint: "%s"}}
            - {name: second, provider: openai-compatible, weight: 1,
               auth: {header: {Authorization: "Bearer k"}}, override: {endpoint: "%s"}}
        ai-rate-limiting:
          instances: [{name: first, limit: 10, time_window: 60}]
        """
            .formatted(llm.endpoint("first"), llm.endpoint("second"));
    gw = Gateways.start(dir, "routes:\n" + route("rl", "/rl", plugins));
    var one = post("/rl", CHAT);
    assertThat(json(one.body()).path("served_by").asText()).isEqualTo("first");
    // 15 tokens spent the first instance's 10: the next requests go to the second.
    await().until(() -> json(post("/rl", CHAT).body()).path("served_by").asText().equals("second"));
    var later = post("/rl", CHAT);
    assertThat(later.statusCode()).isEqualTo(200);
    assertThat(json(later.body()).path("served_by").asText()).isEqualTo("second");
    assertThat(later.headers().firstValue("X-AI-RateLimit-Remaining-first")).hasValue("0");
    assertThat(llm.received.stream().filter(r -> r.path().startsWith("/first/"))).hasSize(1);
  }
}
