package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.route.PathNormalizer;
import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * proxy-rewrite: what the upstream receives: {@code uri} (with variables) or the first matching
 * {@code regex_uri} pair, {@code host}, {@code method}, and header changes. The client's query
 * string is kept unless the new URI has its own.
 */
public final class ProxyRewritePlugin implements Plugin {

  @Override
  public String name() {
    return "proxy-rewrite";
  }

  @Override
  public int priority() {
    return 1008;
  }

  private record RegexUri(Pattern regex, String replacement) {}

  @Override
  public PluginInstance compile(ObjectNode conf, PluginScope scope) {
    var uri = conf.has("uri") ? Template.of(conf.get("uri").asText()) : null;
    var regexes = new ArrayList<RegexUri>();
    var pairs = Conf.strings(conf, "regex_uri");
    for (int i = 0; i + 1 < pairs.size(); i += 2) {
      regexes.add(new RegexUri(Pattern.compile(pairs.get(i)), pairs.get(i + 1)));
    }
    var host = Conf.text(conf, "host", null);
    var method = conf.has("method") ? HttpMethod.valueOf(conf.get("method").asText()) : null;
    var headers = HeaderOps.parse(conf.get("headers"), "headers");
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
          path = replaceFirst(r.regex, current, r.replacement);
          if (path != null) {
            break;
          }
        }
      }
      if (path != null) {
        // Variables are decoded: what would break the request line is escaped again, and a path
        // made from the decoded path is escaped again whole (or %252e would reach the node as
        // %2e).
        path = escapeUnsafe(ctx.vars().usesRawPath() ? path : PathNormalizer.escapePath(path));
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

  /**
   * {@code input} with the first match of {@code regex} replaced, or {@code null} when there is
   * none or the search overflows the stack (Java's engine recurses per repetition of a group such
   * as {@code (a|b)*}, and the input is the client's; see {@code VarsMatcher.find}).
   */
  static String replaceFirst(java.util.regex.Pattern regex, String input, String replacement) {
    try {
      var m = regex.matcher(input);
      return m.find() ? m.replaceFirst(replacement) : null;
    } catch (StackOverflowError e) {
      return null;
    }
  }

  /** Percent-encodes control characters, spaces, DEL and non-ASCII (as UTF-8) in a path. */
  static String escapeUnsafe(String path) {
    int i = 0;
    while (i < path.length() && path.charAt(i) > ' ' && path.charAt(i) < 0x7f) {
      i++;
    }
    if (i == path.length()) {
      return path;
    }
    var out = new StringBuilder(path.length() + 16).append(path, 0, i);
    for (byte b : path.substring(i).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c > ' ' && c < 0x7f) {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return out.toString();
  }
}
