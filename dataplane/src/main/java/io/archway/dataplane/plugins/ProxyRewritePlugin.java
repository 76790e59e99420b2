package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.re2j.Pattern;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.route.PathNormalizer;
import io.archway.model.UserRegex;
import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * proxy-rewrite: what the upstream receives: {@code uri} (with variables) or the first matching
 * {@code regex_uri} pair, {@code host}, {@code method}, and header changes. The client's query
 * string is kept unless the new URI has its own.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class ProxyRewritePlugin implements Plugin<ProxyRewritePlugin.Config> {

  /** The configuration; schema {@code proxy-rewrite.json}. */
  public record Config(
      String uri,
      String method,
      List<String> regexUri,
      String host,
      ObjectNode headers,
      boolean useRealRequestUriUnsafe) {}

  @Override
  public String name() {
    return "proxy-rewrite";
  }

  @Override
  public int priority() {
    return 1008;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  private record RegexUri(Pattern regex, String replacement) {}

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var uri = conf.uri() != null ? Template.of(conf.uri()) : null;
    var regexes = new ArrayList<RegexUri>();
    var pairs = conf.regexUri() == null ? List.<String>of() : conf.regexUri();
    for (int i = 0; i + 1 < pairs.size(); i += 2) {
      regexes.add(
          new RegexUri(UserRegex.compile("regex_uri[" + i + "]", pairs.get(i)), pairs.get(i + 1)));
    }
    var host = conf.host();
    var method = conf.method() != null ? HttpMethod.valueOf(conf.method()) : null;
    var headers = HeaderOps.parse(conf.headers(), "headers");
    return new Rewrite(uri, List.copyOf(regexes), host, method, headers);
  }

  private record Rewrite(
      Template uri, List<RegexUri> regexes, String host, HttpMethod method, HeaderOps headers)
      implements PluginInstance {

    @Override
    public Outcome rewrite(PluginContext ctx) {
      var req = ctx.request();
      String path = null;
      if (uri != null) {
        path = uri.render(ctx);
      } else {
        var current = ctx.vars().path();
        for (var r : regexes) {
          path = UserRegex.replaceFirst(r.regex, current, r.replacement);
          if (path != null) {
            break;
          }
        }
      }
      if (path != null) {
        // Variables are decoded: what would break the request line is escaped again, and a path
        // made from the decoded path is escaped again whole (or %252e would reach the node as
        // %2e).
        path = PathNormalizer.escapeRewritten(path, !ctx.vars().usesRawPath());
        var raw = req.uri();
        int q = raw.indexOf('?');
        req.setUri(path.indexOf('?') < 0 && q >= 0 ? path + raw.substring(q) : path);
      }
      if (host != null) {
        ctx.upstreamHost(host);
      }
      if (method != null) {
        req.setMethod(method);
      }
      if (!headers.isEmpty()) {
        headers.apply(req.headers(), ctx);
      }
      return Outcome.CONTINUE;
    }
  }
}
