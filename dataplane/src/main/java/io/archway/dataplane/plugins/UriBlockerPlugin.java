package io.archway.dataplane.plugins;

import com.google.re2j.Pattern;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.UserRegex;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * uri-blocker: refuses, in the rewrite phase, a request whose URI as the client sent it (path and
 * query, {@code $request_uri}) matches one of {@code block_rules} (searched anywhere, ignoring case
 * with {@code case_insensitive}), with {@code rejected_code} and {@code {"error_msg":
 * rejected_msg}} (or APISIX's error body for the status when there is no message).
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.RUNS)
public final class UriBlockerPlugin implements Plugin<UriBlockerPlugin.Config> {

  /** The configuration; schema {@code uri-blocker.json}. */
  public record Config(
      List<String> blockRules, int rejectedCode, String rejectedMsg, boolean caseInsensitive) {}

  @Override
  public String name() {
    return "uri-blocker";
  }

  @Override
  public int priority() {
    return 2900;
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
    var rules = compileRules(conf.blockRules(), conf.caseInsensitive());
    var json =
        new DefaultHttpHeaders()
            .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    var refuse =
        Outcome.respond(
            conf.rejectedCode(),
            json,
            conf.rejectedMsg() == null
                ? Outcome.errorBody(conf.rejectedCode())
                : Outcome.errorBody(conf.rejectedMsg()));
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var uri = ctx.vars().get("request_uri");
        return uri != null && rules.matcher(uri).find() ? refuse : Outcome.CONTINUE;
      }
    };
  }

  /** A pattern that matches nothing: an empty class (RE2 has no lookahead for {@code (?!)}). */
  private static final Pattern NOTHING = Pattern.compile("[^\\x00-\\x{10FFFF}]");

  /** The rules as one alternation, as APISIX joins them; an empty list blocks nothing. */
  static Pattern compileRules(List<String> rules, boolean caseInsensitive) {
    // Each alone first, so that a refused rule is named.
    UserRegex.compileAll("block_rules", rules, 0);
    if (rules.isEmpty()) {
      return NOTHING;
    }
    var joined = new StringBuilder();
    for (var r : rules) {
      if (!joined.isEmpty()) {
        joined.append('|');
      }
      joined.append("(?:").append(r).append(')');
    }
    return UserRegex.compile(
        "block_rules", joined.toString(), caseInsensitive ? UserRegex.CASE_INSENSITIVE : 0);
  }
}
