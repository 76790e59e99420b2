package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

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
public final class AiPromptGuardPlugin implements Plugin<AiPromptGuardPlugin.Config> {

  /** The configuration; schema {@code ai-prompt-guard.json}. */
  public record Config(
      boolean matchAllRoles,
      boolean matchAllConversationHistory,
      List<String> allowPatterns,
      List<String> denyPatterns) {}

  /** Character reads allowed per character of the text checked, per pattern. */
  static final int BUDGET_PER_CHAR = 100;

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
    var out = new ArrayList<Pattern>();
    if (patterns != null) {
      for (int i = 0; i < patterns.size(); i++) {
        try {
          out.add(Pattern.compile(patterns.get(i)));
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException(
              field
                  + "["
                  + i
                  + "]: \""
                  + patterns.get(i)
                  + "\" (expected: a valid regular expression: "
                  + e.getDescription()
                  + ")");
        }
      }
    }
    return List.copyOf(out);
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
        if (find(p, content) == Boolean.TRUE) {
          any = true;
          break;
        }
      }
      if (!any) {
        return Outcome.message(400, "Request doesn't match allow patterns");
      }
    }
    for (var p : deny) {
      if (find(p, content) != Boolean.FALSE) {
        return Outcome.message(400, "Request contains prohibited content");
      }
    }
    return Outcome.CONTINUE;
  }

  /** Whether {@code p} is found in {@code text}; {@code null} when it ran out of budget. */
  static Boolean find(Pattern p, String text) {
    try {
      return p.matcher(new Budgeted(text, (long) BUDGET_PER_CHAR * (text.length() + 16))).find();
    } catch (Budgeted.Exhausted e) {
      return null;
    }
  }

  /** The text, counting the reads a matcher makes, so a runaway pattern is stopped. */
  private static final class Budgeted implements CharSequence {
    static final class Exhausted extends RuntimeException {
      Exhausted() {
        super(null, null, false, false);
      }
    }

    private final String text;
    private long left;

    Budgeted(String text, long budget) {
      this.text = text;
      this.left = budget;
    }

    @Override
    public char charAt(int index) {
      if (--left < 0) {
        throw new Exhausted();
      }
      return text.charAt(index);
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return text.subSequence(start, end);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
