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
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * cors: answers preflight {@code OPTIONS} requests itself (200) and adds the CORS headers to
 * responses whose {@code Origin} is allowed: {@code allow_origins} ({@code *}, or a comma list,
 * echoed back), {@code allow_origins_by_regex}, methods, headers, exposed headers, max age and
 * credentials. An origin that is not allowed gets no CORS headers, so the browser refuses.
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.RUNS)
public final class CorsPlugin implements Plugin<CorsPlugin.Config> {

  private static final String ALL_METHODS = "GET,POST,PUT,DELETE,PATCH,HEAD,OPTIONS,CONNECT,TRACE";

  /** The configuration; schema {@code cors.json}. */
  public record Config(
      String allowOrigins,
      String allowMethods,
      String allowHeaders,
      String exposeHeaders,
      int maxAge,
      boolean allowCredential,
      List<String> allowOriginsByRegex,
      List<String> allowOriginsByMetadata,
      String timingAllowOrigins,
      List<String> timingAllowOriginsByRegex) {}

  @Override
  public String name() {
    return "cors";
  }

  @Override
  public int priority() {
    return 4000;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE, Phase.HEADER_FILTER);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var origins = conf.allowOrigins();
    boolean credentials = conf.allowCredential();
    var methods = conf.allowMethods();
    var headers = conf.allowHeaders();
    if (credentials && (origins.equals("*") || methods.equals("*") || headers.equals("*"))) {
      if (origins.equals("*") && conf.allowOriginsByRegex() == null) {
        throw new IllegalArgumentException(
            "allow_credential: true with allow_origins \"*\" (expected: the origins listed;"
                + " browsers refuse credentials with a wildcard)");
      }
    }
    var expose = conf.exposeHeaders();
    int maxAge = conf.maxAge();
    Set<String> list =
        origins.equals("*")
            ? Set.of()
            : Arrays.stream(origins.split(",")).map(String::strip).collect(Collectors.toSet());
    var regexes =
        UserRegex.compileAll(
            "allow_origins_by_regex",
            conf.allowOriginsByRegex() == null ? List.of() : conf.allowOriginsByRegex(),
            0);
    return new Cors(
        origins.equals("*") && regexes.isEmpty(),
        list,
        List.copyOf(regexes),
        methods.equals("*") ? ALL_METHODS : methods,
        headers,
        expose,
        maxAge,
        credentials);
  }

  private record Cors(
      boolean any,
      Set<String> origins,
      List<Pattern> regexes,
      String methods,
      String headers,
      String expose,
      int maxAge,
      boolean credentials)
      implements PluginInstance {

    /** The value of Access-Control-Allow-Origin for this request, or null: not allowed. */
    private String allowed(PluginContext ctx) {
      var origin = ctx.request().headers().get(HttpHeaderNames.ORIGIN);
      if (any) {
        return credentials && origin != null ? origin : "*";
      }
      if (origin == null) {
        return null;
      }
      if (origins.contains(origin)) {
        return origin;
      }
      for (var r : regexes) {
        if (UserRegex.matches(r, origin)) {
          return origin;
        }
      }
      return null;
    }

    @Override
    public Outcome rewrite(PluginContext ctx) {
      var h = ctx.request().headers();
      if (ctx.vars().method().equals("OPTIONS")
          && h.contains(HttpHeaderNames.ORIGIN)
          && h.contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
        return Outcome.status(200);
      }
      return Outcome.CONTINUE;
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      var origin = allowed(ctx);
      if (origin == null) {
        return;
      }
      HttpHeaders h = response.headers();
      h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      if (!origin.equals("*")) {
        h.add(HttpHeaderNames.VARY, "Origin");
      }
      h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, methods);
      var requested = ctx.request().headers().get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS);
      h.set(
          HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
          headers.equals("*") && requested != null ? requested : headers);
      if (expose != null) {
        h.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, expose);
      }
      h.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, maxAge);
      if (credentials) {
        h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
      }
    }
  }
}
