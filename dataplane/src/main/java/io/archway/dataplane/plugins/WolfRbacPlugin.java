package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * wolf-rbac: the token {@code V1#<appid>#<wolf token>} (from the {@code rbac_token} argument,
 * {@code Authorization}, {@code x-rbac-token} or the {@code x-rbac-token} cookie, in APISIX's
 * order) names the consumer by its {@code appid}; the consumer's Wolf server answers whether the
 * user may (GET {@code /wolf/rbac/access_check} with {@code appID}, {@code resName}, {@code action}
 * and {@code clientIP}, the token in {@code x-rbac-token}), retried up to three times while it
 * answers 5xx. The user's id, name and nickname go upstream and back to the client under {@code
 * header_prefix}. Sent from the plugins' I/O threads with the JDK's client; decided on the event
 * loop.
 *
 * <p>Not here (yet): APISIX's public {@code /apisix/plugin/wolf-rbac/login}, {@code user_info} and
 * {@code change_pwd} endpoints; clients log in at Wolf itself.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class WolfRbacPlugin implements Plugin<WolfRbacPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(WolfRbacPlugin.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int RETRIES = 3;
  private static final String DEFAULT_SERVER = "http://127.0.0.1:12180";

  /** The configuration; schema {@code wolf-rbac.json} (empty: the settings are the consumer's). */
  public record Config() {}

  @Override
  public String name() {
    return "wolf-rbac";
  }

  @Override
  public int priority() {
    return 2555;
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
  public Set<String> results() {
    return Set.of("consumer");
  }

  @Override
  public String credentialField() {
    return "appid";
  }

  static Outcome.Respond fail(int status, String message, String username, String nickname) {
    var body = JSON.createObjectNode().put("message", message);
    if (username != null) {
      body.put("username", username);
    }
    if (nickname != null) {
      body.put("nickname", nickname);
    }
    return Outcome.respond(
        status,
        new DefaultHttpHeaders().set("content-type", "application/json"),
        (body + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** The token as APISIX looks for it. */
  static String token(PluginContext ctx) {
    var vars = ctx.vars();
    var arg = vars.get("arg_rbac_token");
    if (arg != null) {
      return QueryStringDecoder.decodeComponent(arg);
    }
    var h = ctx.request().headers();
    var auth = h.get("authorization");
    if (auth != null) {
      return auth;
    }
    var x = h.get("x-rbac-token");
    if (x != null) {
      return x;
    }
    return vars.get("cookie_x-rbac-token");
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        return check(ctx, services);
      }
    };
  }

  private static Outcome check(PluginContext ctx, PluginServices services) {
    var token = token(ctx);
    if (token == null) {
      return fail(401, "Missing rbac token in request", null, null);
    }
    if (token.startsWith("Bearer ") || token.startsWith("bearer ")) {
      token = token.substring(7);
    }
    var parts = token.split("#", 3);
    if (parts.length != 3 || !parts[0].equals("V1") || parts[1].isEmpty() || parts[2].isEmpty()) {
      return fail(401, "invalid rbac token: parse failed", null, null);
    }
    var appid = parts[1];
    var consumer = ctx.consumers().byCredential("wolf-rbac", appid);
    if (consumer == null) {
      return fail(401, "Invalid appid in rbac token", null, null);
    }
    var cred = consumer.credentials().get("wolf-rbac");
    var server = cred.path("server").asText(DEFAULT_SERVER);
    while (server.endsWith("/")) {
      server = server.substring(0, server.length() - 1);
    }
    var prefix = cred.path("header_prefix").asText("X-");
    var realIp = ctx.request().headers().get("x-real-ip");
    var clientIp = realIp != null ? realIp : ctx.vars().get("remote_addr");
    URI uri;
    try {
      uri =
          URI.create(
              server
                  + "/wolf/rbac/access_check?appID="
                  + enc(appid)
                  + "&resName="
                  + enc(ctx.vars().get("uri"))
                  + "&action="
                  + enc(ctx.request().method().name())
                  + "&clientIP="
                  + enc(clientIp));
    } catch (IllegalArgumentException e) {
      LOG.error("wolf-rbac: consumer {} has a bad server {}", consumer.username(), server);
      return fail(500, "request to wolf-server failed, err:bad server", null, null);
    }
    var req =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(10))
            .header("x-rbac-token", parts[2])
            .header("Content-Type", "application/json; charset=utf-8")
            .GET()
            .build();
    return Outcome.later(ask(services, req, 1), res -> decide(ctx, consumer, prefix, res));
  }

  private static CompletionStage<Object> ask(
      PluginServices services, HttpRequest req, int attempt) {
    return services
        .http()
        .sendAsync(req, BoundedBody.handler(1 << 20))
        .handle((res, err) -> (Object) (err != null ? err : res))
        .thenCompose(
            r ->
                r instanceof HttpResponse<?> res && res.statusCode() >= 500 && attempt < RETRIES
                    ? ask(services, req, attempt + 1)
                    : CompletableFuture.completedFuture(r));
  }

  @SuppressWarnings("unchecked")
  private static Outcome decide(
      PluginContext ctx,
      io.archway.dataplane.plugin.Consumers.Entry consumer,
      String prefix,
      Object answer) {
    if (answer instanceof Throwable thrown) {
      var err = thrown.getCause() != null ? thrown.getCause() : thrown;
      LOG.error("wolf-rbac: access_check failed: {}", err.toString());
      return fail(
          500,
          "request to wolf-server failed, err:"
              + (err.getMessage() != null ? err.getMessage() : err.getClass().getSimpleName()),
          null,
          null);
    }
    var res = (HttpResponse<byte[]>) answer;
    if (res.statusCode() >= 500) {
      return fail(500, "request to wolf-server failed, status:" + res.statusCode(), null, null);
    }
    JsonNode body;
    try {
      body = JSON.readTree(res.body());
    } catch (Exception e) {
      body = null;
    }
    if (body == null || !body.isObject()) {
      return fail(
          res.statusCode() == 200 ? 500 : res.statusCode(),
          "check permission failed! parse response json failed!",
          null,
          null);
    }
    String username = null;
    String nickname = null;
    var user = body.path("data").path("userInfo");
    if (user.isObject()) {
      username = user.path("username").asText(null);
      nickname = user.hasNonNull("nickname") ? user.get("nickname").asText() : username;
      set(ctx.request().headers(), prefix + "UserId", user.path("id").asText(null));
      set(ctx.request().headers(), prefix + "Username", username);
      set(ctx.request().headers(), prefix + "Nickname", nickname == null ? null : enc(nickname));
      set(ctx.responseHeaders(), prefix + "UserId", user.path("id").asText(null));
      set(ctx.responseHeaders(), prefix + "Username", username);
      set(ctx.responseHeaders(), prefix + "Nickname", nickname == null ? null : enc(nickname));
    }
    if (res.statusCode() != 200) {
      return fail(res.statusCode(), body.path("reason").asText(""), username, nickname);
    }
    ctx.consumer(consumer);
    return Outcome.CONTINUE;
  }

  private static void set(HttpHeaders h, String name, String value) {
    if (value != null) {
      h.set(name, value);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s == null ? "" : s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
