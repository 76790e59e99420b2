package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * uri-blocker: refuses, in the rewrite phase, a request whose URI as the client sent it (path and
 * query, {@code $request_uri}) matches one of {@code block_rules} (searched anywhere, ignoring case
 * with {@code case_insensitive}), with {@code rejected_code} and {@code {"error_msg":
 * rejected_msg}} (or APISIX's error body for the status when there is no message).
 */
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

  /** The rules as one alternation, as APISIX joins them; an empty list blocks nothing. */
  static Pattern compileRules(List<String> rules, boolean caseInsensitive) {
    for (int i = 0; i < rules.size(); i++) {
      try {
        Pattern.compile(rules.get(i));
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(
            "block_rules["
                + i
                + "]: \""
                + rules.get(i)
                + "\" (expected: a regular expression: "
                + e.getDescription()
                + ")");
      }
    }
    if (rules.isEmpty()) {
      return Pattern.compile("(?!)");
    }
    var joined = new StringBuilder();
    for (var r : rules) {
      if (!joined.isEmpty()) {
        joined.append('|');
      }
      joined.append("(?:").append(r).append(')');
    }
    return Pattern.compile(
        joined.toString(), caseInsensitive ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0);
  }
}
