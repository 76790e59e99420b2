package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * ai-rag: the chat request's {@code ai_rag.embeddings} ({@code input}) goes to Azure OpenAI's
 * embeddings endpoint, the first embedding and {@code ai_rag.vector_search.fields} to Azure AI
 * Search as a vector query, and the search's answer is appended to {@code messages} as a user
 * message; {@code ai_rag} is removed and the body sent on (to ai-proxy, 1040, which runs after).
 * Both calls go with the plugins' JDK client off the event loop, each with its {@code api-key}. As
 * APISIX: a body that is not JSON, without {@code ai_rag} or failing its schema is 400; a service's
 * non-200 answer is passed on with its status and body; a failure is 500.
 */
@PluginTraits(category = Plugin.Category.AI)
public final class AiRagPlugin implements Plugin<AiRagPlugin.Config> {

  /** An Azure service: its endpoint and key. */
  public record Azure(String endpoint, String apiKey) {}

  /** {@code embeddings_provider}. */
  public record Embeddings(Azure azureOpenai) {}

  /** {@code vector_search_provider}. */
  public record VectorSearch(Azure azureAiSearch) {}

  /** The configuration; schema {@code ai-rag.json}. */
  public record Config(Embeddings embeddingsProvider, VectorSearch vectorSearchProvider) {}

  @Override
  public String name() {
    return "ai-rag";
  }

  @Override
  public int priority() {
    return 1060;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var emb = conf.embeddingsProvider().azureOpenai();
    var search = conf.vectorSearchProvider().azureAiSearch();
    var embUri = uri(emb.endpoint(), "embeddings_provider.azure_openai.endpoint");
    var searchUri = uri(search.endpoint(), "vector_search_provider.azure_ai_search.endpoint");
    return new Instance(emb, embUri, search, searchUri, scope.services());
  }

  private static URI uri(String endpoint, String field) {
    try {
      var u = URI.create(endpoint);
      if (u.getScheme() == null
          || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
          || u.getHost() == null) {
        throw new IllegalArgumentException("no http(s) URL");
      }
      return u;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          field + ": \"" + endpoint + "\" (expected: an http or https URL)");
    }
  }

  /** What a step gives: the value, or the answer that ends the request. */
  private record Step(JsonNode value, Outcome refusal) {}

  private record Instance(
      Azure emb, URI embUri, Azure search, URI searchUri, PluginServices services)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      return ctx.withRequestBody(
          LlmCall.MAX_BODY, LlmCall.BODY_TIMEOUT_MILLIS, body -> augment(ctx, body));
    }

    private Outcome augment(PluginContext ctx, byte[] body) {
      JsonNode json;
      try {
        json = ModelJson.mapper().readTree(body);
      } catch (IOException e) {
        return Comprehend.text(400, "invalid request body: " + e.getMessage());
      }
      if (!(json instanceof ObjectNode req)) {
        return Comprehend.text(400, "request body is not a JSON object");
      }
      var rag = req.get("ai_rag");
      if (rag == null || rag.isNull()) {
        return Outcome.status(400);
      }
      var input = rag.path("embeddings").path("input");
      var fields = rag.path("vector_search").path("fields");
      if (!rag.isObject()
          || !rag.path("embeddings").isObject()
          || !rag.path("vector_search").isObject()
          || !input.isTextual()
          || !fields.isTextual()) {
        // APISIX checks the request against the drivers' schemas (input and fields strings).
        return Outcome.status(400);
      }
      CompletionStage<Object> stage =
          post(embUri, emb.apiKey(), rag.path("embeddings"), true)
              .thenCompose(
                  e -> {
                    if (e.refusal() != null) {
                      return CompletableFuture.completedFuture(e);
                    }
                    var q = ModelJson.mapper().createObjectNode();
                    var vq = q.putArray("vectorQueries").addObject();
                    vq.put("kind", "vector");
                    vq.set("vector", e.value());
                    vq.set("fields", fields);
                    return post(searchUri, search.apiKey(), q, false);
                  })
              .thenApply(
                  s -> {
                    if (s.refusal() != null) {
                      return (Object) s.refusal();
                    }
                    req.remove("ai_rag");
                    var messages =
                        req.path("messages").isArray()
                            ? (com.fasterxml.jackson.databind.node.ArrayNode) req.get("messages")
                            : req.putArray("messages");
                    messages.addObject().put("role", "user").put("content", s.value().asText());
                    return (Object) req;
                  });
      return Outcome.later(
          stage,
          o -> {
            if (o instanceof ObjectNode rewritten) {
              ctx.requestBody(bytes(rewritten));
              return Outcome.CONTINUE;
            }
            return (Outcome) o;
          });
    }

    /**
     * POSTs JSON with {@code api-key}; for the embeddings, the value is {@code data[0].embedding},
     * for the search the answer's text.
     */
    private CompletionStage<Step> post(URI uri, String key, JsonNode body, boolean embeddings) {
      var req =
          HttpRequest.newBuilder(uri)
              .timeout(Duration.ofSeconds(60))
              .header("Content-Type", "application/json")
              .header("api-key", key)
              .POST(HttpRequest.BodyPublishers.ofByteArray(bytes(body)))
              .build();
      return services
          .http()
          .sendAsync(req, HttpResponse.BodyHandlers.ofByteArray())
          .handle(
              (res, err) -> {
                if (err != null) {
                  return new Step(null, Comprehend.text(500, String.valueOf(err.getMessage())));
                }
                var text = new String(res.body(), StandardCharsets.UTF_8);
                if (res.statusCode() != 200) {
                  return new Step(null, Comprehend.text(res.statusCode(), text));
                }
                if (!embeddings) {
                  return new Step(ModelJson.mapper().getNodeFactory().textNode(text), null);
                }
                JsonNode json;
                try {
                  json = ModelJson.mapper().readTree(res.body());
                } catch (IOException e) {
                  return new Step(null, Comprehend.text(500, e.getMessage()));
                }
                var data = json == null ? null : json.path("data");
                if (data == null || !data.isArray() || data.isEmpty()) {
                  return new Step(null, Comprehend.text(500, text));
                }
                return new Step(data.get(0).path("embedding"), null);
              });
    }
  }

  private static byte[] bytes(JsonNode n) {
    try {
      return ModelJson.mapper().writeValueAsBytes(n);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
