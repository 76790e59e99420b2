package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.model.ModelJson;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One chat completions request sent to an LLM provider by ai-proxy or ai-proxy-multi, as APISIX's
 * OpenAI-compatible drivers send it: the client's JSON body with the instance's {@code options}
 * merged over it (so {@code model} and the like are the gateway's to set), the auth headers and
 * query parameters, {@code POST} to the endpoint's path. The response streams back unchanged (plain
 * JSON, or SSE chunk by chunk) through a tap that reads the token usage from it: the JSON's {@code
 * usage}, or the last SSE event that has one. What it learns is published as APISIX's variables
 * ({@code request_type}, {@code request_llm_model}, {@code llm_model}, {@code llm_prompt_tokens},
 * {@code llm_completion_tokens}, {@code llm_time_to_first_token}) for loggers, conditions and the
 * access log. On the request's event loop only.
 */
final class LlmCall {

  /** The body is read whole to merge {@code options}: at most this much. */
  static final long MAX_BODY = 8L << 20;

  /** How long a client may take to send the body. */
  static final long BODY_TIMEOUT_MILLIS = 60_000;

  /** What the loggers add to their entries ({@code llm_summary}, {@code llm_request}, ...). */
  static final Exchange.Key<ObjectNode> LOG = new Exchange.Key<>("llm-log");

  /** The name of the instance the request went to (ai-rate-limiting counts by it). */
  static final Exchange.Key<String> INSTANCE = new Exchange.Key<>("llm-instance");

  /**
   * ai-proxy-multi's move to its next instance (true when it moved), for ai-rate-limiting to call
   * when the chosen instance's tokens are spent and the fallback strategy includes rate limiting.
   */
  static final Exchange.Key<java.util.function.BooleanSupplier> NEXT_INSTANCE =
      new Exchange.Key<>("llm-next-instance");

  /** The request fields that carry the provider's key: loggers leave them out. */
  static final Exchange.Key<Set<String>> SECRET_HEADERS = new Exchange.Key<>("llm-secret-headers");

  // A JSON answer is read for its usage up to this size; an SSE line up to this length.
  private static final int MAX_TAPPED = 4 << 20;
  private static final int MAX_PAYLOAD_TEXT = 64 << 10;

  /** Where one instance sends: its upstream (by key), endpoint, auth and options. */
  record Target(
      String name,
      String provider,
      String upstreamKey,
      AiProviders.Endpoint endpoint,
      Map<String, String> header,
      Map<String, String> query,
      ObjectNode options) {}

  /** {@code logging}: what the loggers' entries get. */
  record Logging(boolean summaries, boolean payloads) {
    static Logging of(Boolean summaries, Boolean payloads) {
      return new Logging(Boolean.TRUE.equals(summaries), Boolean.TRUE.equals(payloads));
    }
  }

  private final PluginContext ctx;
  private final ObjectNode request; // the client's body, as parsed
  private final Logging logging;
  private Target target;
  private String model;
  private boolean stream;
  private long sentNanos;
  private long firstTokenMillis = -1;
  private long promptTokens;
  private long completionTokens;
  private long totalTokens;
  private boolean usageSeen;
  private final StringBuilder responseText = new StringBuilder();

  private LlmCall(PluginContext ctx, ObjectNode request, Logging logging) {
    this.ctx = ctx;
    this.request = request;
    this.logging = logging;
  }

  /**
   * Reads the client's body as APISIX's drivers do: JSON only ({@code Content-Type} absent or
   * {@code application/json}), an object. Returns the call, or the 400 to answer.
   */
  static Object parse(PluginContext ctx, byte[] body, Logging logging) {
    var ct = ctx.request().headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (ct != null && !ct.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      return plain(400, "unsupported content-type: " + ct + ", only application/json is supported");
    }
    JsonNode json;
    try {
      json = ModelJson.mapper().readTree(body);
    } catch (IOException e) {
      json = null;
    }
    if (!(json instanceof ObjectNode o)) {
      return plain(400, "invalid request body: expected a JSON object");
    }
    var call = new LlmCall(ctx, o, logging);
    var requested = o.get("model");
    ctx.publish(
        "request_llm_model", requested != null && requested.isTextual() ? requested.asText() : "");
    return call;
  }

  /** A plain-text answer, as APISIX's {@code core.response.exit(code, "text")}. */
  static Outcome.Respond plain(int status, String text) {
    var h = new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
    return Outcome.respond(status, h, text.getBytes(StandardCharsets.UTF_8));
  }

  /** The instance the request goes to now. */
  Target target() {
    return target;
  }

  /**
   * Sets the request up for {@code t}: its upstream, target, fields and body (the client's with the
   * options merged). Returns {@code null}, or the answer when the upstream is missing.
   */
  Outcome.Respond sendTo(Target t) {
    var up = ctx.upstream(t.upstreamKey());
    if (up == null) {
      return Outcome.respond(
          503,
          new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_TYPE, "application/json"),
          Outcome.errorBody(503));
    }
    var body = request.deepCopy();
    if (t.options() != null) {
      t.options().fields().forEachRemaining(e -> body.set(e.getKey(), e.getValue()));
    }
    var m = body.get("model");
    model = m != null && m.isTextual() ? m.asText() : "";
    stream = body.path("stream").asBoolean(false);
    byte[] bytes;
    try {
      bytes = ModelJson.mapper().writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    var req = ctx.request();
    req.setMethod(HttpMethod.POST);
    req.setUri(t.endpoint().target(t.query()));
    var h = req.headers();
    h.set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    // The tap reads the answer as it streams: it must come unencoded.
    h.remove(HttpHeaderNames.ACCEPT_ENCODING);
    if (target != null && target.header() != null) {
      // A fallback: the previous instance's key must not reach the next provider.
      target.header().keySet().forEach(h::remove);
    }
    if (t.header() != null) {
      t.header().forEach(h::set);
      ctx.attribute(SECRET_HEADERS, lowerCase(t.header().keySet()));
    }
    target = t;
    ctx.requestBody(bytes);
    ctx.upstreamOverride(up);
    ctx.attribute(INSTANCE, t.name());
    ctx.publish("request_type", stream ? "ai_stream" : "ai_chat");
    ctx.publish("llm_model", model);
    ctx.publish("llm_time_to_first_token", "0");
    ctx.publish("llm_prompt_tokens", "0");
    ctx.publish("llm_completion_tokens", "0");
    sentNanos = System.nanoTime();
    return null;
  }

  private static Set<String> lowerCase(Set<String> names) {
    var out = new java.util.HashSet<String>();
    names.forEach(n -> out.add(n.toLowerCase(Locale.ROOT)));
    return Set.copyOf(out);
  }

  /** The tap for the response about to stream to the client. */
  BodyStream tap(HttpResponse response) {
    var ct = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
    boolean sse = ct != null && ct.toLowerCase(Locale.ROOT).contains("text/event-stream");
    return new Tap(sse);
  }

  /**
   * Passes the body on unchanged and reads it on the side: SSE line by line (only the unfinished
   * line is held), JSON whole up to a bound.
   */
  private final class Tap implements BodyStream {
    private final boolean sse;
    private final ByteArrayOutputStream held = new ByteArrayOutputStream();
    private boolean overflow;

    Tap(boolean sse) {
      this.sse = sse;
    }

    @Override
    public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
      if (firstTokenMillis < 0 && in.isReadable()) {
        firstTokenMillis = (System.nanoTime() - sentNanos) / 1_000_000;
        ctx.publish("llm_time_to_first_token", Long.toString(firstTokenMillis));
      }
      if (sse) {
        int from = in.readerIndex();
        int end = in.writerIndex();
        for (int i = from; i < end; i++) {
          byte b = in.getByte(i);
          if (b == '\n') {
            line();
          } else if (!overflow) {
            if (held.size() >= MAX_TAPPED) {
              overflow = true; // a line this long is no usage event: skipped
            } else {
              held.write(b);
            }
          }
        }
      } else if (!overflow) {
        if (held.size() + (long) in.readableBytes() > MAX_TAPPED) {
          overflow = true;
          held.reset();
        } else {
          var copy = new byte[in.readableBytes()];
          in.getBytes(in.readerIndex(), copy);
          held.write(copy, 0, copy.length);
        }
      }
      return in;
    }

    private void line() {
      if (overflow) {
        overflow = false;
        held.reset();
        return;
      }
      var text = held.toString(StandardCharsets.UTF_8);
      held.reset();
      if (text.endsWith("\r")) {
        text = text.substring(0, text.length() - 1);
      }
      if (!text.startsWith("data:")) {
        return;
      }
      var data = text.substring(5).strip();
      if (data.isEmpty() || data.equals("[DONE]")) {
        return;
      }
      JsonNode event;
      try {
        event = ModelJson.mapper().readTree(data);
      } catch (IOException e) {
        return;
      }
      for (var choice : event.path("choices")) {
        var content = choice.path("delta").path("content");
        if (content.isTextual()) {
          text(content.asText());
        }
      }
      usage(event.get("usage"));
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
      try {
        if (sse) {
          if (held.size() > 0) {
            line();
          }
        } else if (!overflow && held.size() > 0) {
          try {
            var json = ModelJson.mapper().readTree(held.toByteArray());
            usage(json.get("usage"));
            for (var choice : json.path("choices")) {
              var content = choice.path("message").path("content");
              if (content.isTextual()) {
                text(content.asText());
              }
            }
          } catch (IOException e) {
            // Not JSON (an error page): no usage, as APISIX.
          }
        }
        done();
      } catch (RuntimeException e) {
        // The tap never fails the response it only reads.
      }
      return Unpooled.EMPTY_BUFFER;
    }

    @Override
    public void abort() {
      done();
    }
  }

  private void text(String s) {
    if (logging.payloads() && responseText.length() < MAX_PAYLOAD_TEXT) {
      responseText.append(s, 0, Math.min(s.length(), MAX_PAYLOAD_TEXT - responseText.length()));
    }
  }

  /** APISIX reads {@code prompt_tokens}/{@code completion_tokens} or their Anthropic names. */
  private void usage(JsonNode u) {
    if (u == null || !u.isObject()) {
      return;
    }
    usageSeen = true;
    promptTokens =
        u.has("prompt_tokens") ? u.path("prompt_tokens").asLong() : u.path("input_tokens").asLong();
    completionTokens =
        u.has("completion_tokens")
            ? u.path("completion_tokens").asLong()
            : u.path("output_tokens").asLong();
    totalTokens =
        u.has("total_tokens") ? u.path("total_tokens").asLong() : promptTokens + completionTokens;
  }

  /** The response ended: publish what was learned, once. */
  private boolean published;

  private void done() {
    if (published) {
      return;
    }
    published = true;
    if (usageSeen) {
      ctx.publish("llm_prompt_tokens", Long.toString(promptTokens));
      ctx.publish("llm_completion_tokens", Long.toString(completionTokens));
      ctx.publish("llm_total_tokens", Long.toString(totalTokens));
    }
    if (!logging.summaries() && !logging.payloads()) {
      return;
    }
    var entry = ModelJson.mapper().createObjectNode();
    if (logging.summaries()) {
      entry
          .putObject("llm_summary")
          .put("model", model)
          .put("duration", (System.nanoTime() - sentNanos) / 1_000_000)
          .put("prompt_tokens", promptTokens)
          .put("completion_tokens", completionTokens);
    }
    if (logging.payloads()) {
      var req = entry.putObject("llm_request");
      req.set("messages", request.path("messages").deepCopy());
      req.put("stream", stream);
      entry.putObject("llm_response_text").put("content", responseText.toString());
    }
    ctx.attribute(LOG, entry);
  }

  /** Token usage once the response ended ({@code 0} when the provider gave none). */
  long totalTokens() {
    return totalTokens;
  }

  long promptTokens() {
    return promptTokens;
  }

  long completionTokens() {
    return completionTokens;
  }

  String model() {
    return model;
  }
}
