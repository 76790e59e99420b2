package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ai-aws-content-moderation: the whole request body sent to AWS Comprehend's DetectToxicContent as
 * one text segment (as APISIX), the request refused when a category or the toxicity is over its
 * threshold ({@link Comprehend}). No body: 400.
 */
@PluginTraits(category = Plugin.Category.AI)
public final class AiAwsContentModerationPlugin
    implements Plugin<AiAwsContentModerationPlugin.Config> {

  /** {@code comprehend}: the account and where Comprehend is. */
  public record ComprehendConf(
      String accessKeyId,
      String secretAccessKey,
      String region,
      String endpoint,
      boolean sslVerify) {}

  /** The configuration; schema {@code ai-aws-content-moderation.json}. */
  public record Config(
      ComprehendConf comprehend,
      Map<String, Double> moderationCategories,
      double moderationThreshold) {}

  @Override
  public String name() {
    return "ai-aws-content-moderation";
  }

  @Override
  public int priority() {
    return 1050;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var c = conf.comprehend();
    var comprehend =
        new Comprehend(
            c.endpoint(),
            c.accessKeyId(),
            c.secretAccessKey(),
            c.region(),
            c.sslVerify(),
            conf.moderationCategories(),
            conf.moderationThreshold(),
            scope.services());
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        return ctx.withRequestBody(
            LlmCall.MAX_BODY,
            LlmCall.BODY_TIMEOUT_MILLIS,
            body ->
                body.length == 0
                    ? Comprehend.text(400, "request body is empty")
                    : Outcome.later(
                        comprehend.check(List.of(new String(body, StandardCharsets.UTF_8)))));
      }
    };
  }
}
