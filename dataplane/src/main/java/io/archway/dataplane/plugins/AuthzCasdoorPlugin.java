package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.plugins.OAuthCodeFlow.Step;
import io.archway.model.ModelJson;
import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * authz-casdoor (APISIX 3.x, priority 2559, access): signs browsers in with a Casdoor server over
 * the OAuth 2.0 authorization code flow, on the same machinery as openid-connect ({@link
 * OAuthCodeFlow}). A request without a session is redirected (302) to {@code
 * endpoint_addr/login/oauth/authorize} with a random {@code state}, the login kept in the sealed
 * {@code session} cookie; the callback ({@code callback_url}'s path) checks the state, exchanges
 * the code at {@code endpoint_addr/api/login/oauth/access_token} (client_secret_post, off the event
 * loop), keeps the access token in the cookie for its {@code expires_in} and sends the browser back
 * where it started. A request with that session passes. APISIX's statuses: 503 for a callback with
 * no login in progress or a token that could not be had, 400 for a missing code or state and for a
 * state that is not the login's.
 *
 * <p>The cookie's key is derived from the configuration (endpoint, client id and secret), so every
 * replica reads every other's sessions with no secret of its own to configure, which the schema,
 * APISIX's, has no field for.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class AuthzCasdoorPlugin implements Plugin<AuthzCasdoorPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(AuthzCasdoorPlugin.class);

  /** lua-resty-session's cookie name, which APISIX's plugin uses. */
  static final String COOKIE = "session";

  /** lua-resty-http's default, as APISIX calls Casdoor: the cosocket's 60 seconds. */
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** The configuration; schema {@code authz-casdoor.json}. */
  public record Config(
      String endpointAddr, String clientId, String clientSecret, String callbackUrl) {}

  @Override
  public String name() {
    return "authz-casdoor";
  }

  @Override
  public int priority() {
    return 2559;
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
    // APISIX finds the callback's path with a regex on every request and answers 503 when there is
    // none; a callback_url without one can never work, so it is refused here.
    String callbackPath;
    try {
      var cb = new URI(conf.callbackUrl());
      callbackPath = cb.getPath();
      if (cb.getScheme() == null || cb.getHost() == null || callbackPath.isEmpty()) {
        throw new IllegalArgumentException();
      }
      var ep = new URI(conf.endpointAddr());
      if (!("http".equals(ep.getScheme()) || "https".equals(ep.getScheme()))
          || ep.getHost() == null) {
        throw new IllegalArgumentException("endpoint_addr");
      }
    } catch (java.net.URISyntaxException | IllegalArgumentException e) {
      if ("endpoint_addr".equals(e.getMessage())) {
        throw new IllegalArgumentException(
            "endpoint_addr: \""
                + conf.endpointAddr()
                + "\" (expected: Casdoor's http(s) URL, e.g. http://casdoor.example:8000)");
      }
      throw new IllegalArgumentException(
          "callback_url: \""
              + conf.callbackUrl()
              + "\" (expected: an absolute URL whose path is on the route, e.g."
              + " http://gateway.example/anything/callback)");
    }
    var session =
        new OidcSession(
            conf.endpointAddr() + "\n" + conf.clientId() + "\n" + conf.clientSecret(),
            COOKIE,
            "authz-casdoor");
    var flow =
        new OAuthCodeFlow(
            session,
            COOKIE,
            scope.services().http(),
            conf.clientId(),
            conf.clientSecret(),
            TIMEOUT);
    return new Instance(conf, callbackPath, flow);
  }

  static final class Instance implements PluginInstance {
    private final Config conf;
    private final String callbackPath;
    private final OAuthCodeFlow flow;

    Instance(Config conf, String callbackPath, OAuthCodeFlow flow) {
      this.conf = conf;
      this.callbackPath = callbackPath;
      this.flow = flow;
    }

    @Override
    public Outcome access(PluginContext ctx) {
      var data = flow.open(ctx);
      if (callbackPath.equals(ctx.vars().get("uri"))) {
        return callback(ctx, data);
      }
      if (data != null && data.hasNonNull("access_token")) {
        return Outcome.CONTINUE;
      }
      var pending = OAuthCodeFlow.login(ctx.vars().get("request_uri"));
      var params = new LinkedHashMap<String, String>();
      params.put("response_type", "code");
      params.put("client_id", conf.clientId());
      params.put("redirect_uri", conf.callbackUrl());
      params.put("scope", "read");
      params.put("state", pending.get("state").asText());
      return flow.authorize(ctx, conf.endpointAddr() + "/login/oauth/authorize", params, pending);
    }

    private Outcome callback(PluginContext ctx, ObjectNode pending) {
      var code = ctx.vars().get("arg_code");
      switch (OAuthCodeFlow.check(pending, code, ctx.vars().get("arg_state"))) {
        case NO_LOGIN -> {
          return Outcome.message(
              503, "authz-casdoor: no login in progress (no session, or no state in it)");
        }
        case NO_CODE -> {
          return Outcome.message(400, "failed when accessing token. Invalid code or state");
        }
        case BAD_STATE -> {
          return Outcome.message(400, "invalid state");
        }
        case OK -> {}
      }
      var target = pending.path("target").asText("/");
      var stage =
          flow.exchange(
                  "client_secret_post",
                  conf.endpointAddr() + "/api/login/oauth/access_token",
                  code,
                  conf.callbackUrl(),
                  null)
              .handle((tokens, e) -> signedIn(tokens, e, target));
      return Outcome.later(stage, step -> step.apply(ctx));
    }

    /** What the token endpoint's answer decides: the session and the way back, or a 503. */
    private Step signedIn(JsonNode tokens, Throwable e, String target) {
      String why;
      String detail;
      long expiresIn = 0;
      if (e != null) {
        var cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        why =
            cause instanceof OAuthCodeFlow.Refused r
                ? r.status == 200
                    ? "Casdoor's answer is not a JSON object"
                    : "Casdoor answered " + r.status
                : "Casdoor could not be reached";
        detail = cause.toString();
      } else if (!tokens.hasNonNull("access_token")) {
        why = "no access_token contained";
        detail =
            tokens.path("error").asText("") + " " + tokens.path("error_description").asText("");
      } else if ((expiresIn = tokens.path("expires_in").asLong(0)) <= 0) {
        // Casdoor's way of saying the token is not valid: expires_in 0.
        why = "invalid access_token";
        detail = "expires_in " + tokens.path("expires_in");
      } else {
        why = null;
        detail = null;
      }
      if (why != null) {
        // The body names no address of Casdoor's; the log does.
        var message = "authz-casdoor: failed when accessing token: " + why;
        LOG.warn("{} ({})", message, detail.strip());
        return c -> Outcome.message(503, message);
      }
      ObjectNode data = ModelJson.mapper().createObjectNode();
      data.put("access_token", tokens.get("access_token").asText());
      data.put("exp", System.currentTimeMillis() / 1000 + expiresIn);
      long maxAge = expiresIn;
      return c -> flow.signIn(c, target, data, maxAge);
    }
  }
}
