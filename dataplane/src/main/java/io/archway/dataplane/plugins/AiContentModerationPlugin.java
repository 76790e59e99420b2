package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * ai-content-moderation: APISIX 3.11's first AWS moderation plugin (renamed
 * ai-aws-content-moderation later, whose docs still list both). It reads the chat request's {@code
 * messages} and sends each message's content to AWS Comprehend as a text segment ({@link
 * Comprehend}); {@code type} names the request format (openai only). A body that is not JSON is
 * 400, one without messages 400 "messages not found in request body".
 */
@PluginTraits(category = Plugin.Category.AI)
public final class AiContentModerationPlugin implements Plugin<AiContentModerationPlugin.Config> {

  /** {@code provider.aws_comprehend}. */
  public record AwsComprehend(
      String accessKeyId, String secretAccessKey, String region, String endpoint) {}

  /** {@code provider}. */
  public record Provider(AwsComprehend awsComprehend) {}

  /** The configuration; schema {@code ai-content-moderation.json}. */
  public record Config(
      Provider provider,
      Map<String, Double> moderationCategories,
      double toxicityLevel,
      String type) {}

  @Override
  public String name() {
    return "ai-content-moderation";
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
    return EnumSet.of(Phase.REWRITE);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var p = conf.provider().awsComprehend();
    // APISIX 3.11 sets ssl_verify false for this plugin; verified here, the safer reading.
    var comprehend =
        new Comprehend(
            p.endpoint(),
            p.accessKeyId(),
            p.secretAccessKey(),
            p.region(),
            true,
            conf.moderationCategories(),
            conf.toxicityLevel(),
            scope.services());
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        return ctx.withRequestBody(
            LlmCall.MAX_BODY,
            LlmCall.BODY_TIMEOUT_MILLIS,
            body -> {
              JsonNode json;
              try {
                json = ModelJson.mapper().readTree(body);
              } catch (IOException e) {
                return Comprehend.text(400, "invalid request body: " + e.getMessage());
              }
              var msgs = json == null ? null : json.path("messages");
              if (msgs == null || !msgs.isArray() || msgs.isEmpty()) {
                return Comprehend.text(400, "messages not found in request body");
              }
              var segments = new ArrayList<String>();
              msgs.forEach(m -> segments.add(m.path("content").asText()));
              return Outcome.later(comprehend.check(segments));
            });
      }
    };
  }
}
