package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.support.SigV4;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ai-aliyun-content-moderation (1029, access, after ai-proxy): the chat request's message contents
 * (joined by a space, in pieces of {@code request_check_length_limit} characters) are checked with
 * Aliyun's text moderation ({@code TextModerationPlus}, version 2022-03-02, an RPC call signed with
 * HMAC-SHA1 over the sorted, RFC 3986-encoded parameters, as APISIX). A risk level at or over
 * {@code risk_level_bar} answers {@code deny_code} (200 by default) with a chat completion whose
 * content is {@code deny_message} (else the service's advice, else APISIX's text), so clients read
 * it as an answer; a failed check is logged and the request goes on, as APISIX. Without ai-proxy on
 * the route: 500 "no ai instance picked, ...".
 *
 * <p>Not as APISIX: {@code check_response: true} (moderating the LLM's answer, as it streams or
 * whole) is refused when the route compiles; the response filters here cannot wait for a call.
 */
@PluginTraits(category = Plugin.Category.AI)
public final class AiAliyunContentModerationPlugin
    implements Plugin<AiAliyunContentModerationPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(AiAliyunContentModerationPlugin.class);

  /** The configuration; schema {@code ai-aliyun-content-moderation.json}. */
  public record Config(
      String streamCheckMode,
      int streamCheckCacheSize,
      double streamCheckInterval,
      String endpoint,
      String regionId,
      String accessKeyId,
      String accessKeySecret,
      boolean checkRequest,
      boolean checkResponse,
      String requestCheckService,
      int requestCheckLengthLimit,
      String responseCheckService,
      int responseCheckLengthLimit,
      String riskLevelBar,
      int denyCode,
      String denyMessage,
      int timeout,
      int keepalivePool,
      boolean keepalive,
      int keepaliveTimeout,
      boolean sslVerify) {}

  private static final List<String> LEVELS = List.of("none", "low", "medium", "high", "max");

  @Override
  public String name() {
    return "ai-aliyun-content-moderation";
  }

  @Override
  public int priority() {
    return 1029;
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
    if (conf.checkResponse()) {
      throw new IllegalArgumentException(
          "check_response: true (Archway moderates requests only; expected: false)");
    }
    URI uri;
    try {
      uri = URI.create(conf.endpoint());
      if (uri.getHost() == null || uri.getScheme() == null) {
        throw new IllegalArgumentException();
      }
      uri = URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + "/");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "endpoint: \"" + conf.endpoint() + "\" (expected: an http or https URL)");
    }
    return new Instance(conf, uri, scope.services());
  }

  private record Instance(Config conf, URI uri, PluginServices services) implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      if (ctx.attribute(LlmCall.INSTANCE) == null) {
        return Comprehend.text(
            500,
            "no ai instance picked, ai-aliyun-content-moderation plugin must be used with"
                + " ai-proxy or ai-proxy-multi plugin");
      }
      if (!conf.checkRequest()) {
        return Outcome.CONTINUE;
      }
      return ctx.withRequestBody(LlmCall.MAX_BODY, LlmCall.BODY_TIMEOUT_MILLIS, b -> check(ctx, b));
    }

    private Outcome check(PluginContext ctx, byte[] body) {
      JsonNode json;
      try {
        json = ModelJson.mapper().readTree(body);
      } catch (IOException e) {
        return Comprehend.text(400, "invalid request body: " + e.getMessage());
      }
      var parts = new ArrayList<String>();
      if (json != null) {
        for (var m : json.path("messages")) {
          if (m.path("content").isTextual()) {
            parts.add(m.path("content").asText());
          }
        }
      }
      var content = String.join(" ", parts);
      if (content.isEmpty()) {
        return Outcome.CONTINUE;
      }
      var pieces = new ArrayList<String>();
      var cps = content.codePoints().toArray();
      for (int i = 0; i < cps.length; i += conf.requestCheckLengthLimit()) {
        int end = Math.min(cps.length, i + conf.requestCheckLengthLimit());
        pieces.add(new String(cps, i, end - i));
      }
      var session = UUID.randomUUID().toString();
      CompletionStage<Outcome> stage = CompletableFuture.completedFuture(Outcome.CONTINUE);
      for (var piece : pieces) {
        stage =
            stage.thenCompose(
                o ->
                    o != Outcome.CONTINUE
                        ? CompletableFuture.completedFuture(o)
                        : one(ctx, piece, session));
      }
      return Outcome.later(stage);
    }

    /** One piece checked: the deny answer, or {@code CONTINUE}. */
    private CompletionStage<Outcome> one(PluginContext ctx, String piece, String session) {
      if (piece.isBlank()) {
        return CompletableFuture.completedFuture(Outcome.CONTINUE);
      }
      var params = new TreeMap<String, String>();
      params.put("AccessKeyId", conf.accessKeyId());
      params.put("Action", "TextModerationPlus");
      params.put("Format", "JSON");
      params.put("RegionId", conf.regionId());
      params.put("Service", conf.requestCheckService());
      var sp = ModelJson.mapper().createObjectNode();
      sp.put("sessionId", session);
      sp.put("content", piece);
      params.put("ServiceParameters", sp.toString());
      params.put("SignatureMethod", "HMAC-SHA1");
      params.put("SignatureNonce", UUID.randomUUID().toString());
      params.put("SignatureVersion", "1.0");
      params.put("Timestamp", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
      params.put("Version", "2022-03-02");
      params.put("Signature", sign(params, conf.accessKeySecret() + "&"));
      var form = new StringBuilder();
      params.forEach(
          (k, v) ->
              form.append(form.isEmpty() ? "" : "&")
                  .append(encode(k))
                  .append('=')
                  .append(encode(v)));
      var req =
          HttpRequest.newBuilder(uri)
              .timeout(Duration.ofMillis(conf.timeout()))
              .header("Content-Type", "application/x-www-form-urlencoded")
              .POST(HttpRequest.BodyPublishers.ofString(form.toString()))
              .build();
      var client = conf.sslVerify() ? services.http() : services.httpUnverified();
      return client
          .sendAsync(req, HttpResponse.BodyHandlers.ofByteArray())
          .handle(
              (res, err) -> {
                if (err != null) {
                  LOG.error("failed to check content: failed to request: {}", err.toString());
                  return Outcome.CONTINUE;
                }
                var text = new String(res.body(), StandardCharsets.UTF_8);
                if (res.statusCode() != 200) {
                  LOG.error(
                      "failed to check content: failed to request aliyun text moderation"
                          + " service, status: {}, body: {}",
                      res.statusCode(),
                      text);
                  return Outcome.CONTINUE;
                }
                JsonNode json;
                try {
                  json = ModelJson.mapper().readTree(res.body());
                } catch (IOException e) {
                  json = null;
                }
                var level = json == null ? null : json.path("Data").path("RiskLevel");
                if (level == null || !level.isTextual()) {
                  LOG.error("failed to check content: failed to get risk level: {}", text);
                  return Outcome.CONTINUE;
                }
                if (LEVELS.indexOf(level.asText()) < LEVELS.indexOf(conf.riskLevelBar())) {
                  return Outcome.CONTINUE;
                }
                var advice = json.path("Data").path("Advice").path(0).path("Answer");
                var message =
                    conf.denyMessage() != null
                        ? conf.denyMessage()
                        : advice.isTextual()
                            ? advice.asText()
                            : "Your request violate our content policy.";
                return deny(ctx, message);
              });
    }

    /** A chat completion carrying the refusal, so AI clients read it as an answer. */
    private Outcome deny(PluginContext ctx, String message) {
      var out = ModelJson.mapper().createObjectNode();
      out.put("id", UUID.randomUUID().toString());
      out.put("object", "chat.completion");
      var model = ctx.get("request_llm_model");
      if (model == null) {
        model = ctx.get("llm_model");
      }
      out.put("model", model);
      var choice = out.putArray("choices").addObject();
      choice.put("index", 0);
      choice.putObject("message").put("role", "assistant").put("content", message);
      choice.put("finish_reason", "stop");
      out.putObject("usage")
          .put("prompt_tokens", 0)
          .put("completion_tokens", 0)
          .put("total_tokens", 0);
      return Outcome.respond(
          conf.denyCode(),
          new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_TYPE, "application/json"),
          out.toString().getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Aliyun's RPC signature: HMAC-SHA1 of {@code POST&%2F&} and the encoded sorted query. */
  static String sign(Map<String, String> params, String key) {
    var sorted = new TreeMap<>(params);
    sorted.remove("Signature");
    var canonical = new StringBuilder();
    sorted.forEach(
        (k, v) ->
            canonical
                .append(canonical.isEmpty() ? "" : "&")
                .append(encode(k))
                .append('=')
                .append(encode(v)));
    var toSign = "POST&%2F&" + encode(canonical.toString());
    try {
      var mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      return Base64.getEncoder()
          .encodeToString(mac.doFinal(toSign.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** RFC 3986 percent-encoding (only A-Z a-z 0-9 - _ . ~ kept), as Aliyun signs (and AWS). */
  static String encode(String s) {
    return SigV4.encode(s);
  }
}
