package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * ai-prompt-decorator: puts the configured messages before ({@code prepend}) and after ({@code
 * append}) the {@code messages} of a chat request's JSON body, in the rewrite phase, so ai-proxy
 * (or the upstream) gets the decorated conversation.
 */
@PluginTraits(category = Plugin.Category.AI, dryRun = Plugin.DryRun.RUNS)
public final class AiPromptDecoratorPlugin implements Plugin<AiPromptDecoratorPlugin.Config> {

  /** The configuration; schema {@code ai-prompt-decorator.json}. */
  public record Config(List<Message> prepend, List<Message> append) {}

  /** One chat message. */
  public record Message(String role, String content) {}

  @Override
  public String name() {
    return "ai-prompt-decorator";
  }

  @Override
  public int priority() {
    return 1070;
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
    var prepend = messages(conf.prepend());
    var append = messages(conf.append());
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        return LlmBodies.withJsonBody(
            ctx,
            LlmCall.MAX_BODY,
            body -> {
              var old = body.get("messages");
              var out = ModelJson.mapper().createArrayNode();
              out.addAll(prepend);
              if (old instanceof ArrayNode a) {
                out.addAll(a);
              }
              out.addAll(append);
              body.set("messages", out);
              LlmBodies.jsonBody(ctx, body);
              return Outcome.CONTINUE;
            });
      }
    };
  }

  /** The messages as JSON objects, made once. */
  static ArrayNode messages(List<Message> list) {
    var out = ModelJson.mapper().createArrayNode();
    if (list != null) {
      for (var m : list) {
        ObjectNode o = out.addObject();
        o.put("role", m.role()).put("content", m.content());
      }
    }
    return out;
  }
}
