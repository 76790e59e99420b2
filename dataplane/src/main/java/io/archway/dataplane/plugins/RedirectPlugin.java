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
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * redirect: answers with a redirect instead of proxying: to the same URL over HTTPS ({@code
 * http_to_https}, 301), to {@code uri} (with variables), or to {@code regex_uri}'s replacement of
 * the path; {@code ret_code} (302 by default) and {@code append_query_string}.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class RedirectPlugin implements Plugin<RedirectPlugin.Config> {

  /** The configuration; schema {@code redirect.json}. */
  public record Config(
      Boolean httpToHttps,
      String uri,
      List<String> regexUri,
      Integer retCode,
      boolean encodeUri,
      boolean appendQueryString) {}

  @Override
  public String name() {
    return "redirect";
  }

  @Override
  public int priority() {
    return 900;
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
    boolean toHttps = Boolean.TRUE.equals(conf.httpToHttps());
    var uri = conf.uri() != null ? Template.of(conf.uri()) : null;
    var regex = conf.regexUri() == null ? List.<String>of() : conf.regexUri();
    Pattern pattern = regex.size() == 2 ? UserRegex.compile("regex_uri[0]", regex.get(0)) : null;
    var replacement = regex.size() == 2 ? regex.get(1) : null;
    int code = conf.retCode() != null ? conf.retCode() : toHttps ? 301 : 302;
    boolean appendQuery = conf.appendQueryString();
    if (toHttps && appendQuery) {
      throw new IllegalArgumentException(
          "append_query_string with http_to_https (expected: one of them; https keeps the query)");
    }
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var vars = ctx.vars();
        String target;
        if (toHttps) {
          if ("https".equals(vars.scheme())) {
            return Outcome.CONTINUE;
          }
          int port = scope.services().httpsPort();
          target = "https://" + vars.host() + (port == 443 ? "" : ":" + port) + vars.rawUri();
        } else if (uri != null) {
          target = uri.render(ctx);
        } else {
          target = UserRegex.replaceFirst(pattern, vars.path(), replacement);
          if (target == null) {
            return Outcome.CONTINUE;
          }
        }
        var query = vars.get("query_string");
        if (appendQuery && query != null && !query.isEmpty()) {
          target = target + (target.indexOf('?') < 0 ? "?" : "&") + query;
        }
        return Outcome.respond(
            code, new DefaultHttpHeaders().set(HttpHeaderNames.LOCATION, target), null);
      }
    };
  }
}
