package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.plugins.OAuthCodeFlow.Step;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.http.HttpClient;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * openid-connect (APISIX 3.x, priority 2599): an OpenID Connect relying party.
 *
 * <p>Bearer tokens ({@code bearer_only}, or a bearer token on a route with {@code public_key},
 * {@code use_jwks} or {@code introspection_endpoint}): a JWT checked against {@code public_key} or
 * the provider's JWKS (signature, {@code exp}/{@code nbf} with {@code iat_slack}, issuer, audience
 * {@code client_id} when the token names one), else RFC 7662 introspection. 401 with APISIX's
 * {@code WWW-Authenticate}, 403 for a missing {@code required_scopes} entry.
 *
 * <p>Browsers (otherwise): the authorization code flow ({@link OidcBrowser}, on the shared {@link
 * OAuthCodeFlow}) with state, nonce and optionally PKCE; the tokens and the user's claims are kept
 * in an encrypted, authenticated cookie ({@link OidcSession}), renewed with the refresh token when
 * the access token expires; {@code logout_path} ends it through the provider's {@code
 * end_session_endpoint}.
 *
 * <p>Every call to the provider (discovery, JWKS, token, userinfo, introspection) goes out with the
 * JDK client's {@code sendAsync}; the request waits in {@link Outcome.Later} and resumes on its
 * event loop.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class OpenidConnectPlugin implements Plugin<OpenidConnectPlugin.Config> {

  static final String COOKIE = "session";

  /** The configuration; schema {@code openid-connect.json}. */
  public record Config(
      String clientId,
      String clientSecret,
      String discovery,
      String scope,
      List<String> requiredScopes,
      String realm,
      boolean bearerOnly,
      String logoutPath,
      String postLogoutRedirectUri,
      String redirectUri,
      int timeout,
      boolean sslVerify,
      String introspectionEndpoint,
      String introspectionEndpointAuthMethod,
      String tokenEndpointAuthMethod,
      String publicKey,
      boolean useJwks,
      boolean usePkce,
      String tokenSigningAlgValuesExpected,
      boolean setAccessTokenHeader,
      boolean accessTokenInAuthorizationHeader,
      boolean setIdTokenHeader,
      boolean setUserinfoHeader,
      boolean setRefreshTokenHeader,
      JsonNode session,
      String unauthAction,
      JsonNode claimValidator,
      Map<String, String> authorizationParams,
      boolean renewAccessTokenOnExpiry,
      Integer accessTokenExpiresIn,
      int accessTokenExpiresLeeway,
      int iatSlack,
      int jwkExpiresIn,
      boolean acceptNoneAlg,
      boolean acceptUnsupportedAlg,
      boolean forceReauthorize,
      boolean useNonce,
      boolean revokeTokensOnLogout,
      boolean jwtVerificationCacheIgnore,
      int introspectionInterval,
      int clientJwtAssertionExpiresIn,
      JsonNode refreshSessionInterval,
      JsonNode proxyOpts,
      JsonNode cacheSegment,
      JsonNode introspectionExpiryClaim,
      JsonNode introspectionAddonHeaders,
      JsonNode claimSchema,
      JsonNode clientRsaPrivateKey,
      JsonNode clientRsaPrivateKeyId) {}

  @Override
  public String name() {
    return "openid-connect";
  }

  @Override
  public int priority() {
    return 2599;
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
    OidcSession session = null;
    if (!conf.bearerOnly()) {
      var secret = conf.session() == null ? null : conf.session().path("secret").asText(null);
      if (secret == null) {
        // APISIX makes up a random secret per worker, which logs users out on every reload and
        // never works across replicas: Archway asks for it.
        throw new IllegalArgumentException(
            "session.secret: missing (expected: a secret of at least 16 characters, the same on"
                + " every replica, when bearer_only is false)");
      }
      session = new OidcSession(secret, COOKIE);
    }
    PublicKey publicKey = conf.publicKey() == null ? null : OidcJwt.fromPem(conf.publicKey());
    var services = scope.services();
    HttpClient http = conf.sslVerify() ? services.http() : services.httpUnverified();
    var provider =
        services.shared(
            "openid-connect " + conf.sslVerify() + " " + conf.discovery(),
            () -> new OidcProvider(conf.discovery(), http));
    var issuers = new ArrayList<String>();
    if (conf.claimValidator() != null) {
      for (var i : conf.claimValidator().path("issuer").path("valid_issuers")) {
        issuers.add(i.asText());
      }
    }
    var flow =
        new OAuthCodeFlow(
            session,
            COOKIE,
            http,
            conf.clientId(),
            conf.clientSecret(),
            Duration.ofSeconds(conf.timeout()));
    return new Instance(conf, provider, publicKey, flow, List.copyOf(issuers));
  }

  static final class Instance implements PluginInstance {
    private final Config conf;
    private final OidcProvider provider;
    private final PublicKey publicKey;
    private final OAuthCodeFlow flow;
    private final OidcBrowser browser;
    private final List<String> issuers;
    private final Duration timeout;

    Instance(
        Config conf,
        OidcProvider provider,
        PublicKey publicKey,
        OAuthCodeFlow flow,
        List<String> issuers) {
      this.conf = conf;
      this.provider = provider;
      this.publicKey = publicKey;
      this.flow = flow;
      this.issuers = issuers;
      this.timeout = Duration.ofSeconds(conf.timeout());
      this.browser = new OidcBrowser(this, conf, provider, flow, timeout);
    }

    @Override
    public Outcome rewrite(PluginContext ctx) {
      if (conf.bearerOnly()
          || conf.introspectionEndpoint() != null
          || publicKey != null
          || conf.useJwks()) {
        var auth = ctx.request().headers().get("authorization");
        String token =
            auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
                ? auth.substring(7).strip()
                : null;
        if (token != null && !token.isEmpty()) {
          return later(ctx, bearer(token));
        }
        if (conf.bearerOnly()) {
          var h = new DefaultHttpHeaders();
          h.set("www-authenticate", "Bearer realm=\"" + conf.realm() + "\"");
          return Outcome.respond(401, h, Outcome.errorBody(401));
        }
      }
      return browser.browser(ctx);
    }

    private static Outcome later(PluginContext ctx, CompletableFuture<Step> step) {
      return Outcome.later(step, s -> s.apply(ctx));
    }

    // ---- bearer tokens ----

    /** Checks a bearer token: a JWT locally, or by introspection. */
    CompletableFuture<Step> bearer(String token) {
      CompletableFuture<JsonNode> claims =
          publicKey != null || conf.useJwks() ? verifyJwt(token) : introspect(token);
      return claims
          .thenApply(c -> (Step) ctx -> accepted(ctx, token, c))
          .exceptionally(e -> invalid(cause(e)));
    }

    private Step invalid(String why) {
      return ctx -> {
        var h = new DefaultHttpHeaders();
        h.set(
            "www-authenticate",
            "Bearer realm=\""
                + conf.realm()
                + "\", error=\"invalid_token\", error_description=\""
                + why.replace("\"", "'")
                + "\"");
        return Outcome.respond(401, h, Outcome.errorBody(401));
      };
    }

    private Outcome accepted(PluginContext ctx, String token, JsonNode claims) {
      var missing = missingScope(claims);
      if (missing != null) {
        return Outcome.respond(403, null, Outcome.errorBody(403));
      }
      accessTokenHeader(ctx, token);
      if (conf.setUserinfoHeader()) {
        ctx.request().headers().set("x-userinfo", base64Json(claims));
      }
      return Outcome.CONTINUE;
    }

    /** The first required scope the token lacks, or {@code null}. */
    String missingScope(JsonNode claims) {
      if (conf.requiredScopes() == null || conf.requiredScopes().isEmpty()) {
        return null;
      }
      var granted = new java.util.HashSet<String>();
      var scope = claims.get("scope");
      if (scope == null) {
        scope = claims.get("scp");
      }
      if (scope != null && scope.isArray()) {
        scope.forEach(s -> granted.add(s.asText()));
      } else if (scope != null) {
        granted.addAll(List.of(scope.asText().split(" ")));
      }
      for (var s : conf.requiredScopes()) {
        if (!granted.contains(s)) {
          return s;
        }
      }
      return null;
    }

    void accessTokenHeader(PluginContext ctx, String token) {
      if (token == null || !conf.setAccessTokenHeader()) {
        return;
      }
      var h = ctx.request().headers();
      if (conf.accessTokenInAuthorizationHeader()) {
        if (!h.contains("authorization")) {
          h.set("authorization", "Bearer " + token);
        }
      } else if (!h.contains("x-access-token")) {
        h.set("x-access-token", token);
      }
    }

    /** A JWT's claims once its signature and claims are checked; fails with the reason. */
    CompletableFuture<JsonNode> verifyJwt(String raw) {
      OidcJwt.Token t;
      try {
        t = OidcJwt.parse(raw);
      } catch (IllegalArgumentException e) {
        return CompletableFuture.failedFuture(new Invalid("invalid jwt: not a JWT"));
      }
      var expected = conf.tokenSigningAlgValuesExpected();
      if (expected != null && !expected.equals(t.alg())) {
        return CompletableFuture.failedFuture(
            new Invalid("token is signed by \"" + t.alg() + "\", expected \"" + expected + "\""));
      }
      if (publicKey != null) {
        return CompletableFuture.completedFuture(null)
            .thenApply(x -> checked(t, List.of(publicKey), null));
      }
      return provider
          .discovery(timeout)
          .thenCompose(
              d ->
                  provider
                      .keys(
                          t.kid(), timeout, conf.jwkExpiresIn() * 1000L, k -> OidcJwt.verify(t, k))
                      .thenApply(keys -> checked(t, keys, d)));
    }

    private JsonNode checked(OidcJwt.Token t, List<PublicKey> keys, JsonNode discovery) {
      if (keys.isEmpty()) {
        throw new Invalid("invalid jwt: no key of the provider has kid \"" + t.kid() + "\"");
      }
      if (!OidcJwt.verify(t, keys)) {
        throw new Invalid("invalid jwt: signature mismatch");
      }
      var why =
          OidcJwt.checkClaims(
              t.claims(),
              System.currentTimeMillis() / 1000,
              conf.iatSlack(),
              acceptedIssuers(discovery),
              conf.clientId());
      if (why != null) {
        throw new Invalid("invalid jwt: " + why);
      }
      return t.claims();
    }

    /** {@code claim_validator.issuer.valid_issuers}, else the discovery's issuer. */
    List<String> acceptedIssuers(JsonNode discovery) {
      if (!issuers.isEmpty()) {
        return issuers;
      }
      var iss = discovery == null ? null : discovery.path("issuer").asText(null);
      return iss == null ? List.of() : List.of(iss);
    }

    /** RFC 7662: the introspection's answer when the token is active. */
    CompletableFuture<JsonNode> introspect(String token) {
      CompletableFuture<String> endpoint =
          conf.introspectionEndpoint() != null
              ? CompletableFuture.completedFuture(conf.introspectionEndpoint())
              : provider
                  .discovery(timeout)
                  .thenApply(
                      d -> {
                        var e = d.path("introspection_endpoint").asText(null);
                        if (e == null) {
                          throw new Invalid("the provider has no introspection_endpoint");
                        }
                        return e;
                      });
      return endpoint
          .thenCompose(
              url ->
                  provider.send(
                      flow.clientAuth(
                              conf.introspectionEndpointAuthMethod(),
                              url,
                              Map.of("token", token, "token_type_hint", "access_token"))
                          .build()))
          .thenApply(
              r -> {
                if (!r.path("active").asBoolean(false)) {
                  throw new Invalid("invalid token");
                }
                return r;
              });
    }
  }

  /** A token refused, with the reason that goes into {@code error_description}. */
  static final class Invalid extends RuntimeException {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }

  /** The reason of a failed check, or of a provider that could not be reached. */
  private static String cause(Throwable e) {
    while ((e instanceof java.util.concurrent.CompletionException
            || e instanceof java.util.concurrent.ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof Invalid) {
      return e.getMessage();
    }
    // Not the failure's own text: it names the provider's internal addresses.
    return "the token could not be checked with the identity provider";
  }

  static String base64Json(JsonNode node) {
    try {
      return Base64.getEncoder().encodeToString(ModelJson.mapper().writeValueAsBytes(node));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
