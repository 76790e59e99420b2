package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * degraphql: a REST call becomes a GraphQL request. A POST's JSON body gives the {@code variables}
 * (the fields named, a missing one left out) and is replaced by {@code {"query", "operationName",
 * "variables"}} as JSON; a GET's query arguments give them, and its query string becomes {@code
 * query}, {@code operationName} and {@code variables} (JSON), as APISIX. Other methods are 405, a
 * POST body that is not a JSON object 400. The query is checked when the route compiles ({@link
 * GraphqlDocument}): APISIX's rule that several definitions need {@code operation_name}, and, more
 * than APISIX, that the named operation exists and declares every variable listed.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class DegraphqlPlugin implements Plugin<DegraphqlPlugin.Config> {

  /** The configuration; schema {@code degraphql.json}. */
  public record Config(String query, List<String> variables, String operationName) {}

  @Override
  public String name() {
    return "degraphql";
  }

  @Override
  public int priority() {
    return 509;
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
    List<GraphqlDocument.Definition> defs;
    try {
      defs = GraphqlDocument.parse(conf.query());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("query: failed to parse query: " + e.getMessage());
    }
    if (defs.size() > 1 && conf.operationName() == null) {
      throw new IllegalArgumentException(
          "operation_name is required if multiple operations are present in the query");
    }
    var ops = defs.stream().filter(d -> !d.kind().equals("fragment")).toList();
    GraphqlDocument.Definition op;
    if (conf.operationName() != null) {
      op =
          ops.stream()
              .filter(d -> conf.operationName().equals(d.name()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "operation_name: \""
                              + conf.operationName()
                              + "\" (expected: an operation of the query, one of "
                              + ops.stream().map(d -> "\"" + d.name() + "\"").toList()
                              + ")"));
    } else if (ops.isEmpty()) {
      throw new IllegalArgumentException(
          "query: failed to parse query: the query has no operation, only fragments");
    } else {
      op = ops.get(0);
    }
    var variables = conf.variables() == null ? List.<String>of() : conf.variables();
    for (int i = 0; i < variables.size(); i++) {
      if (!op.variables().contains(variables.get(i))) {
        throw new IllegalArgumentException(
            "variables["
                + i
                + "]: \""
                + variables.get(i)
                + "\" (expected: a variable the operation declares, one of "
                + op.variables()
                + ")");
      }
    }
    return new Instance(conf, conf.variables());
  }

  private record Instance(Config conf, List<String> variables) implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      var method = ctx.request().method();
      if (method.equals(HttpMethod.POST)) {
        return ctx.withRequestBody(
            LlmCall.MAX_BODY, LlmCall.BODY_TIMEOUT_MILLIS, b -> post(ctx, b));
      }
      if (method.equals(HttpMethod.GET)) {
        return get(ctx);
      }
      return Outcome.status(405);
    }

    private Outcome post(PluginContext ctx, byte[] body) {
      var out = ModelJson.mapper().createObjectNode();
      if (variables != null) {
        if (body.length == 0) {
          return Outcome.status(400);
        }
        JsonNode in;
        try {
          in = ModelJson.mapper().readTree(body);
        } catch (IOException e) {
          return Outcome.status(400);
        }
        if (!(in instanceof ObjectNode obj)) {
          return Outcome.status(400);
        }
        var vars = out.putObject("variables");
        for (var v : variables) {
          if (obj.has(v)) {
            vars.set(v, obj.get(v));
          }
        }
      }
      if (conf.operationName() != null) {
        out.put("operationName", conf.operationName());
      }
      out.put("query", conf.query());
      ctx.request().headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
      ctx.requestBody(json(out));
      return Outcome.CONTINUE;
    }

    private Outcome get(PluginContext ctx) {
      var args = new ArrayList<String>();
      if (variables != null) {
        var query = ctx.vars().get("args");
        var params =
            query == null || query.isEmpty()
                ? java.util.Map.<String, List<String>>of()
                : new QueryStringDecoder(query, StandardCharsets.UTF_8, false).parameters();
        var vars = ModelJson.mapper().createObjectNode();
        for (var v : variables) {
          var values = params.get(v);
          if (values == null || values.isEmpty()) {
            continue;
          }
          if (values.size() == 1) {
            vars.put(v, values.get(0));
          } else {
            var a = vars.putArray(v);
            values.forEach(a::add);
          }
        }
        args.add("variables=" + encode(new String(json(vars), StandardCharsets.UTF_8)));
      }
      if (conf.operationName() != null) {
        args.add("operationName=" + encode(conf.operationName()));
      }
      args.add("query=" + encode(conf.query()));
      var uri = ctx.request().uri();
      int q = uri.indexOf('?');
      ctx.request().setUri((q < 0 ? uri : uri.substring(0, q)) + "?" + String.join("&", args));
      return Outcome.CONTINUE;
    }

    private static byte[] json(JsonNode n) {
      try {
        return ModelJson.mapper().writeValueAsBytes(n);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** As nginx's {@code ngx.encode_args}: spaces as {@code %20}. */
    private static String encode(String s) {
      return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
  }
}
