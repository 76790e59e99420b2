package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.util.Locale;

/**
 * The AI plugins' JSON request bodies (read whole, replaced) and what they add to, or keep out of,
 * the loggers' entries.
 */
final class LlmBodies {

  private LlmBodies() {}

  /**
   * The request's fields for a logger's entry, lower case, without those that carry the provider's
   * key (an AI plugin set them: they are not the client's to log).
   */
  static void logHeaders(PluginContext ctx, ObjectNode out) {
    var secret = ctx.attribute(LlmCall.SECRET_HEADERS);
    for (var h : ctx.request().headers()) {
      var name = h.getKey().toLowerCase(Locale.ROOT);
      if (secret == null || !secret.contains(name)) {
        out.put(name, h.getValue());
      }
    }
  }

  /** What {@code logging} adds to a logger's entry: llm_summary, llm_request, llm_response_text. */
  static void addLog(PluginContext ctx, ObjectNode entry) {
    var llm = ctx.attribute(LlmCall.LOG);
    if (llm != null) {
      entry.setAll(llm);
    }
  }

  /**
   * Runs {@code then} on the request's JSON body (read whole, at most {@code max} bytes), as the
   * prompt plugins read it; a body that is not a JSON object is answered 400 {@code {"message":
   * "could not parse JSON request body: ..."}}.
   */
  static Outcome withJsonBody(
      PluginContext ctx, long max, java.util.function.Function<ObjectNode, Outcome> then) {
    return ctx.withRequestBody(
        max,
        LlmCall.BODY_TIMEOUT_MILLIS,
        body -> {
          JsonNode json;
          try {
            json = ModelJson.mapper().readTree(body);
          } catch (IOException e) {
            return Outcome.message(400, "could not parse JSON request body: " + reason(e));
          }
          if (!(json instanceof ObjectNode o)) {
            return Outcome.message(
                400, "could not parse JSON request body: expected a JSON object");
          }
          return then.apply(o);
        });
  }

  private static String reason(IOException e) {
    return e instanceof com.fasterxml.jackson.core.JsonProcessingException j
        ? j.getOriginalMessage()
        : e.getMessage();
  }

  /** Replaces the request's body with {@code json}. */
  static void jsonBody(PluginContext ctx, JsonNode json) {
    try {
      ctx.requestBody(ModelJson.mapper().writeValueAsBytes(json));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    ctx.request().headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
  }
}
