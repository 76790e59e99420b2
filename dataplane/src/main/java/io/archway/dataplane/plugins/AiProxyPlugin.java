package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpResponse;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * ai-proxy: the route sends OpenAI-compatible chat completions requests to one LLM provider (no
 * upstream needed on the route): the body read whole and {@code options} merged over it, the
 * provider's auth added, the answer relayed as it streams, its token usage published ({@link
 * LlmCall}). The provider's endpoint becomes an inline upstream of the route.
 */
@PluginTraits(category = Plugin.Category.AI)
public final class AiProxyPlugin implements Plugin<AiProxyPlugin.Config> {

  /** The configuration; schema {@code ai-proxy.json}. */
  public record Config(
      String provider,
      ObjectNode providerConf,
      Auth auth,
      ObjectNode options,
      EndpointOverride override,
      Logging logging,
      int timeout,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool,
      boolean sslVerify) {}

  /** Headers and query parameters that carry the provider's key. */
  public record Auth(
      Map<String, String> header, Map<String, String> query, JsonNode gcp, JsonNode aws) {}

  /** {@code override.endpoint}: the URL to send to instead of the provider's own. */
  public record EndpointOverride(String endpoint) {}

  /** What the loggers' entries get. */
  public record Logging(Boolean summaries, Boolean payloads) {}

  @Override
  public String name() {
    return "ai-proxy";
  }

  @Override
  public int priority() {
    return 1040;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.HEADER_FILTER, Phase.BODY_FILTER);
  }

  @Override
  public Set<String> results() {
    return Set.of(
        "request_type",
        "request_llm_model",
        "llm_model",
        "llm_prompt_tokens",
        "llm_completion_tokens",
        "llm_time_to_first_token");
  }

  @Override
  public boolean hasInlineUpstreams() {
    return true;
  }

  /** The provider's endpoint, keyed {@code <owner>#ai-proxy}. */
  @Override
  public Map<String, JsonNode> inlineUpstreams(ObjectNode conf, String owner) {
    var up = AiProviders.upstreamOf(conf, conf);
    return up == null ? Map.of() : Map.of(key(owner), up);
  }

  static String key(String owner) {
    return owner + "#ai-proxy";
  }

  private static AiProviders.Endpoint endpoint(Config c, String field) {
    return AiProviders.endpoint(
        c.provider(),
        c.override() == null ? null : c.override().endpoint(),
        c.providerConf(),
        field);
  }

  /** The auth kinds Archway cannot sign with; the schema refuses them too. */
  static void checkAuth(JsonNode gcp, JsonNode aws, String field) {
    if (gcp != null && !gcp.isNull()) {
      throw new IllegalArgumentException(
          field + "auth.gcp: not supported (expected: auth.header with a bearer token)");
    }
    if (aws != null && !aws.isNull()) {
      throw new IllegalArgumentException(
          field + "auth.aws: not supported (expected: auth.header or auth.query)");
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    checkAuth(conf.auth().gcp(), conf.auth().aws(), "");
    var target =
        new LlmCall.Target(
            "ai-proxy-" + conf.provider(), // APISIX's instance name, for ai-rate-limiting
            conf.provider(),
            key(scope.owner()),
            endpoint(conf, ""),
            conf.auth().header(),
            conf.auth().query(),
            conf.options());
    var logging =
        conf.logging() == null
            ? LlmCall.Logging.of(false, false)
            : LlmCall.Logging.of(conf.logging().summaries(), conf.logging().payloads());
    return new Proxy(target, logging);
  }

  private static final class Proxy implements PluginInstance {
    private final LlmCall.Target target;
    private final LlmCall.Logging logging;

    Proxy(LlmCall.Target target, LlmCall.Logging logging) {
      this.target = target;
      this.logging = logging;
    }

    @Override
    public Outcome access(PluginContext ctx) {
      return ctx.withRequestBody(
          LlmCall.MAX_BODY,
          LlmCall.BODY_TIMEOUT_MILLIS,
          body -> {
            var parsed = LlmCall.parse(ctx, body, logging);
            if (parsed instanceof Outcome.Respond r) {
              return r;
            }
            var call = (LlmCall) parsed;
            ctx.state(this, call);
            var refused = call.sendTo(target);
            return refused != null ? refused : Outcome.CONTINUE;
          });
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      LlmCall call = ctx.state(this);
      if (call != null && call.target() != null) {
        ctx.state(this, new Tapping(call, call.tap(response)));
      }
    }

    @Override
    public BodyStream bodyStream(PluginContext ctx) {
      return ctx.state(this) instanceof Tapping t ? t.tap() : null;
    }
  }

  /** The call and the tap of its response, between header_filter and the body. */
  record Tapping(LlmCall call, BodyStream tap) {}
}
