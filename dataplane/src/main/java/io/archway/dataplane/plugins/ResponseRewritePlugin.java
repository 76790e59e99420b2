package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.re2j.Pattern;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.route.VarsMatcher;
import io.archway.model.UserRegex;
import io.archway.model.Vars;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * response-rewrite: changes the response the client gets, when {@code vars} (over the request and
 * {@code status}) hold: {@code status_code}, header changes, and the body: replaced ({@code body},
 * {@code body_base64}) or edited by {@code filters} (regex, {@code scope} once or global,
 * replacement). Only when the body changes is it gathered whole.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class ResponseRewritePlugin implements Plugin<ResponseRewritePlugin.Config> {

  /** The configuration; schema {@code response-rewrite.json}. */
  public record Config(
      Integer statusCode,
      String body,
      boolean bodyBase64,
      ObjectNode headers,
      ArrayNode vars,
      List<FilterConf> filters) {}

  /** One regex replacement in the body. */
  public record FilterConf(String regex, String scope, String replace, String options) {}

  @Override
  public String name() {
    return "response-rewrite";
  }

  @Override
  public int priority() {
    return 899;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.HEADER_FILTER, Phase.BODY_FILTER);
  }

  private record Filter(Pattern regex, boolean global, String replace) {}

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    int status = conf.statusCode() == null ? 0 : conf.statusCode();
    var headers = HeaderOps.parse(conf.headers(), "headers");
    byte[] body = null;
    if (conf.body() != null) {
      var text = conf.body();
      if (conf.bodyBase64()) {
        try {
          body = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "body: not base64 (expected: base64 as body_base64 says)");
        }
      } else {
        body = text.getBytes(StandardCharsets.UTF_8);
      }
    }
    var filters = new ArrayList<Filter>();
    var list = conf.filters();
    if (list != null) {
      if (body != null) {
        throw new IllegalArgumentException("body and filters both set (expected: one of them)");
      }
      for (int i = 0; i < list.size(); i++) {
        var f = list.get(i);
        int flags = f.options().indexOf('i') >= 0 ? UserRegex.CASE_INSENSITIVE : 0;
        filters.add(
            new Filter(
                UserRegex.compile("filters[" + i + "].regex", f.regex(), flags),
                f.scope().equals("global"),
                f.replace()));
      }
    }
    VarsMatcher when = null;
    if (conf.vars() instanceof ArrayNode vars && !vars.isEmpty()) {
      when = VarsMatcher.compile(Vars.parse(vars));
    }
    if (status == 0 && headers.isEmpty() && body == null && filters.isEmpty()) {
      throw new IllegalArgumentException(
          "nothing to rewrite (expected: at least one of status_code, headers, body, filters)");
    }
    return new Rewrite(status, headers, body, List.copyOf(filters), when);
  }

  private record Rewrite(
      int status, HeaderOps headers, byte[] body, List<Filter> filters, VarsMatcher when)
      implements PluginInstance {

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      if (when != null && !when.matches(ctx)) {
        return;
      }
      ctx.state(this, Boolean.TRUE);
      if (status != 0) {
        response.setStatus(HttpResponseStatus.valueOf(status));
      }
      headers.apply(response.headers(), ctx);
    }

    @Override
    public boolean wantsBody(PluginContext ctx) {
      return (body != null || !filters.isEmpty()) && ctx.state(this) != null;
    }

    @Override
    public byte[] bodyFilter(PluginContext ctx, byte[] in) {
      if (body != null) {
        return body;
      }
      var text = new String(in, StandardCharsets.UTF_8);
      for (var f : filters) {
        var m = f.regex.matcher(text);
        var replacement = UserRegex.quoteReplacement(f.replace);
        text = f.global ? m.replaceAll(replacement) : m.replaceFirst(replacement);
      }
      return text.getBytes(StandardCharsets.UTF_8);
    }
  }
}
