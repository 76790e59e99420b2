package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Pattern;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.UserRegex;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * ai-prompt-guard: checks the chat request's messages against {@code allow_patterns} (one must
 * match) and {@code deny_patterns} (none may), as APISIX: the last message only unless {@code
 * match_all_conversation_history} (then every message's content, joined by spaces), and only when
 * the last message is the user's unless {@code match_all_roles}. Refusals are 400 with APISIX's
 * messages.
 *
 * <p>The patterns are java.util.regex (PCRE-like, as nginx's), searched, not anchored. The body is
 * bounded ({@link LlmCall#MAX_BODY}) and each search is given a budget of character reads in
 * proportion to the text: a pattern that backtracks past it counts as matching a deny pattern and
 * not matching an allow pattern, so a slow pattern refuses the request rather than stall the event
 * loop.
 */
@PluginTraits(category = Plugin.Category.AI, dryRun = Plugin.DryRun.RUNS)
public final class AiPromptGuardPlugin implements Plugin<AiPromptGuardPlugin.Config> {

  /** The configuration; schema {@code ai-prompt-guard.json}. */
  public record Config(
      boolean matchAllRoles,
      boolean matchAllConversationHistory,
      List<String> allowPatterns,
      List<String> denyPatterns) {}

  @Override
  public String name() {
    return "ai-prompt-guard";
  }

  @Override
  public int priority() {
    return 1072;
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
    var allow = compile(conf.allowPatterns(), "allow_patterns");
    var deny = compile(conf.denyPatterns(), "deny_patterns");
    return new PluginInstance() {
      @Override
      public Outcome access(PluginContext ctx) {
        return LlmBodies.withJsonBody(
            ctx, LlmCall.MAX_BODY, body -> check(conf, allow, deny, body.path("messages")));
      }
    };
  }

  static List<Pattern> compile(List<String> patterns, String field) {
    return UserRegex.compileAll(field, patterns == null ? List.of() : patterns, 0);
  }

  static Outcome check(Config conf, List<Pattern> allow, List<Pattern> deny, JsonNode messages) {
    if (!messages.isArray() || messages.isEmpty()) {
      return Outcome.CONTINUE;
    }
    var last = messages.get(messages.size() - 1);
    if (!conf.matchAllRoles() && !"user".equals(last.path("role").asText())) {
      return Outcome.CONTINUE;
    }
    var text = new StringBuilder();
    if (conf.matchAllConversationHistory()) {
      for (var m : messages) {
        if (m.path("content").isTextual()) {
          if (!text.isEmpty()) {
            text.append(' ');
          }
          text.append(m.path("content").asText());
        }
      }
    } else if (last.path("content").isTextual()) {
      text.append(last.path("content").asText());
    }
    var content = text.toString();
    if (!allow.isEmpty()) {
      boolean any = false;
      for (var p : allow) {
        if (UserRegex.find(p, content)) {
          any = true;
          break;
        }
      }
      if (!any) {
        return Outcome.message(400, "Request doesn't match allow patterns");
      }
    }
    for (var p : deny) {
      if (UserRegex.find(p, content)) {
        return Outcome.message(400, "Request contains prohibited content");
      }
    }
    return Outcome.CONTINUE;
  }
}
