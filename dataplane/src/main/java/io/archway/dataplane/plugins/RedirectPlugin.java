package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.regex.Pattern;

/**
 * redirect: answers with a redirect instead of proxying: to the same URL over HTTPS ({@code
 * http_to_https}, 301), to {@code uri} (with variables), or to {@code regex_uri}'s replacement of
 * the path; {@code ret_code} (302 by default) and {@code append_query_string}.
 */
public final class RedirectPlugin implements Plugin {

  @Override
  public String name() {
    return "redirect";
  }

  @Override
  public int priority() {
    return 900;
  }

  @Override
  public PluginInstance compile(ObjectNode conf, PluginScope scope) {
    boolean toHttps = Conf.bool(conf, "http_to_https", false);
    var uri = conf.has("uri") ? Template.of(conf.get("uri").asText()) : null;
    var regex = Conf.strings(conf, "regex_uri");
    var pattern = regex.size() == 2 ? Pattern.compile(regex.get(0)) : null;
    var replacement = regex.size() == 2 ? regex.get(1) : null;
    int code = Conf.integer(conf, "ret_code", toHttps ? 301 : 302);
    boolean appendQuery = Conf.bool(conf, "append_query_string", false);
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
          target =
              io.archway.dataplane.route.VarsMatcher.replaceFirst(
                  pattern, vars.path(), replacement);
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
