package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
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
 * <p>Browsers (otherwise): the authorization code flow with state, nonce and optionally PKCE; the
 * tokens and the user's claims are kept in an encrypted, authenticated cookie ({@link
 * OidcSession}), renewed with the refresh token when the access token expires; {@code logout_path}
 * ends it through the provider's {@code end_session_endpoint}.
 *
 * <p>Every call to the provider (discovery, JWKS, token, userinfo, introspection) goes out with the
 * JDK client's {@code sendAsync}; the request waits in {@link Outcome.Later} and resumes on its
 * event loop.
 */
public final class OpenidConnectPlugin implements Plugin<OpenidConnectPlugin.Config> {

  static final String COOKIE = "session";
  private static final String SUFFIX = "/.apisix/redirect";

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
    return new Instance(conf, provider, publicKey, session, List.copyOf(issuers));
  }

  /** What a provider call decided, applied to the request back on its event loop. */
  @FunctionalInterface
  interface Step {
    Outcome apply(PluginContext ctx);
  }

  static final class Instance implements PluginInstance {
    private final Config conf;
    private final OidcProvider provider;
    private final PublicKey publicKey;
    private final OidcSession session;
    private final List<String> issuers;
    private final Duration timeout;
    private final long lifetime;

    Instance(
        Config conf,
        OidcProvider provider,
        PublicKey publicKey,
        OidcSession session,
        List<String> issuers) {
      this.conf = conf;
      this.provider = provider;
      this.publicKey = publicKey;
      this.session = session;
      this.issuers = issuers;
      this.timeout = Duration.ofSeconds(conf.timeout());
      this.lifetime =
          conf.session() == null
              ? 3600
              : conf.session().path("cookie").path("lifetime").asLong(3600);
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
      return browser(ctx);
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

    private void accessTokenHeader(PluginContext ctx, String token) {
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
    private List<String> acceptedIssuers(JsonNode discovery) {
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
                      clientAuth(
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

    /** A form POST to the provider authenticated as the client. */
    private HttpRequest.Builder clientAuth(String method, String url, Map<String, String> form) {
      var params = new LinkedHashMap<>(form);
      var b =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(timeout)
              .header("Content-Type", "application/x-www-form-urlencoded")
              .header("Accept", "application/json");
      if ("client_secret_post".equals(method)) {
        params.put("client_id", conf.clientId());
        params.put("client_secret", conf.clientSecret());
      } else {
        var pair = enc(conf.clientId()) + ":" + enc(conf.clientSecret());
        b.header(
            "Authorization",
            "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
      }
      return b.POST(HttpRequest.BodyPublishers.ofString(form(params)));
    }

    // ---- browsers: the authorization code flow ----

    private Outcome browser(PluginContext ctx) {
      long now = System.currentTimeMillis() / 1000;
      var data = session.open(ctx.vars().get("cookie_" + COOKIE), now);
      var path = ctx.vars().get("uri");
      var redirect = redirectPath(path);
      if (path.equals(redirect)) {
        return later(ctx, callback(ctx, data, redirectUri(ctx, redirect)));
      }
      if (path.equals(conf.logoutPath())) {
        return later(ctx, logout(data));
      }
      if (data != null && data.has("access_token")) {
        long expires = data.path("expires_at").asLong(0);
        if (expires == 0 || now < expires - conf.accessTokenExpiresLeeway()) {
          return signedIn(ctx, data, false);
        }
        if (conf.renewAccessTokenOnExpiry() && data.hasNonNull("refresh_token")) {
          return later(ctx, refresh(data));
        }
      }
      return unauthenticated(ctx, redirect);
    }

    private Outcome unauthenticated(PluginContext ctx, String redirect) {
      switch (conf.unauthAction()) {
        case "pass" -> {
          return Outcome.CONTINUE;
        }
        case "deny" -> {
          return Outcome.respond(401, null, Outcome.errorBody(401));
        }
        default -> {
          return later(ctx, authorize(ctx, redirectUri(ctx, redirect)));
        }
      }
    }

    /** The path of the callback: {@code redirect_uri}'s, else the request's path + suffix. */
    private String redirectPath(String path) {
      if (conf.redirectUri() != null) {
        var p = URI.create(conf.redirectUri()).getRawPath();
        return p == null || p.isEmpty() ? "/" : p;
      }
      if (path.endsWith(SUFFIX)) {
        return path;
      }
      return (path.endsWith("/") ? path.substring(0, path.length() - 1) : path) + SUFFIX;
    }

    /** {@code redirect_uri} made absolute with the request's scheme and host. */
    private String redirectUri(PluginContext ctx, String redirectPath) {
      if (conf.redirectUri() != null && URI.create(conf.redirectUri()).isAbsolute()) {
        return conf.redirectUri();
      }
      return origin(ctx) + redirectPath;
    }

    private static String origin(PluginContext ctx) {
      var host = ctx.request().headers().get("host");
      if (host == null) {
        host = ctx.vars().get("host");
      }
      return ctx.vars().get("scheme") + "://" + host;
    }

    /** Redirects to the authorization endpoint, the login's state kept in the session cookie. */
    private CompletableFuture<Step> authorize(PluginContext ctx, String redirectUri) {
      var target = ctx.vars().get("request_uri");
      var secure = "https".equals(ctx.vars().get("scheme"));
      return provider
          .discovery(timeout)
          .thenApply(
              d -> {
                var endpoint = d.path("authorization_endpoint").asText(null);
                if (endpoint == null) {
                  throw new IllegalStateException("the provider has no authorization_endpoint");
                }
                var state = OidcSession.random();
                var nonce = OidcSession.random();
                var params = new LinkedHashMap<String, String>();
                params.put("response_type", "code");
                params.put("client_id", conf.clientId());
                params.put("redirect_uri", redirectUri);
                params.put("scope", conf.scope());
                params.put("state", state);
                params.put("nonce", nonce);
                var pending = ModelJson.mapper().createObjectNode();
                pending.put("state", state);
                pending.put("nonce", nonce);
                pending.put("target", target);
                if (conf.usePkce()) {
                  var verifier = OidcSession.random();
                  pending.put("code_verifier", verifier);
                  params.put("code_challenge", s256(verifier));
                  params.put("code_challenge_method", "S256");
                }
                if (conf.authorizationParams() != null) {
                  params.putAll(conf.authorizationParams());
                }
                // Ten minutes to log in, as lua-resty-openidc's state lasts.
                pending.put("exp", System.currentTimeMillis() / 1000 + 600);
                var location = endpoint + (endpoint.contains("?") ? "&" : "?") + form(params);
                var cookie = cookie(session.seal(pending), 600, secure);
                return ctx2 -> redirect(location, cookie);
              });
    }

    /** The provider sent the browser back with a code: exchange it, check the ID token. */
    private CompletableFuture<Step> callback(
        PluginContext ctx, ObjectNode pending, String redirectUri) {
      var code = ctx.vars().get("arg_code");
      var state = ctx.vars().get("arg_state");
      var secure = "https".equals(ctx.vars().get("scheme"));
      if (pending == null
          || code == null
          || state == null
          || !state.equals(pending.path("state").asText(null))) {
        return CompletableFuture.completedFuture(
            c ->
                Outcome.message(401, "openid-connect: no login in progress, or its state differs"));
      }
      var form = new LinkedHashMap<String, String>();
      form.put("grant_type", "authorization_code");
      form.put("code", code);
      form.put("redirect_uri", redirectUri);
      if (pending.hasNonNull("code_verifier")) {
        form.put("code_verifier", pending.get("code_verifier").asText());
      }
      var nonce = pending.path("nonce").asText();
      var target = pending.path("target").asText("/");
      return provider
          .discovery(timeout)
          .thenCompose(
              d ->
                  provider
                      .send(
                          clientAuth(
                                  conf.tokenEndpointAuthMethod(),
                                  d.path("token_endpoint").asText(),
                                  form)
                              .build())
                      .thenCompose(tokens -> signIn(d, tokens, nonce, null)))
          .thenApply(
              data -> {
                if (data == null) {
                  return (Step)
                      c -> Outcome.message(401, "openid-connect: the ID token is not valid");
                }
                var cookie = cookie(session.seal(data), lifetime, secure);
                return (Step) c -> redirect(target, cookie);
              });
    }

    /**
     * The session for a token response: the ID token verified with the JWKS (issuer, audience,
     * nonce, times), the user's claims from the userinfo endpoint. {@code null} when the ID token
     * fails; {@code previous} is the session being renewed (its ID token and user are kept when the
     * refresh gives none).
     */
    private CompletableFuture<ObjectNode> signIn(
        JsonNode d, JsonNode tokens, String nonce, ObjectNode previous) {
      var access = tokens.path("access_token").asText(null);
      if (access == null) {
        return CompletableFuture.failedFuture(
            new IllegalStateException("the token endpoint gave no access_token"));
      }
      var idRaw = tokens.path("id_token").asText(null);
      CompletableFuture<JsonNode> idClaims;
      if (idRaw == null) {
        if (previous == null) {
          return CompletableFuture.completedFuture(null);
        }
        idClaims = CompletableFuture.completedFuture(previous.get("id_token"));
      } else {
        OidcJwt.Token t;
        try {
          t = OidcJwt.parse(idRaw);
        } catch (IllegalArgumentException e) {
          return CompletableFuture.completedFuture(null);
        }
        idClaims =
            provider
                .keys(t.kid(), timeout, conf.jwkExpiresIn() * 1000L, k -> OidcJwt.verify(t, k))
                .thenApply(
                    keys -> {
                      long now = System.currentTimeMillis() / 1000;
                      var c = t.claims();
                      if (!OidcJwt.verify(t, keys)
                          || OidcJwt.checkClaims(
                                  c, now, conf.iatSlack(), acceptedIssuers(d), conf.clientId())
                              != null
                          || !c.has("aud")
                          || (nonce != null && !nonce.equals(c.path("nonce").asText(null)))
                          || c.path("iat").asLong(now) > now + conf.iatSlack()) {
                        return null;
                      }
                      return c;
                    });
      }
      var userinfo = d.path("userinfo_endpoint").asText(null);
      return idClaims.thenCompose(
          id -> {
            if (id == null) {
              return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<JsonNode> user =
                userinfo == null
                    ? CompletableFuture.completedFuture(
                        previous == null ? null : previous.get("user"))
                    : provider.send(
                        HttpRequest.newBuilder(URI.create(userinfo))
                            .timeout(timeout)
                            .header("Authorization", "Bearer " + access)
                            .header("Accept", "application/json")
                            .GET()
                            .build());
            return user.thenApply(
                u -> {
                  long now = System.currentTimeMillis() / 1000;
                  var data = ModelJson.mapper().createObjectNode();
                  data.put("access_token", access);
                  var refresh = tokens.path("refresh_token").asText(null);
                  if (refresh == null && previous != null) {
                    refresh = previous.path("refresh_token").asText(null);
                  }
                  if (refresh != null) {
                    data.put("refresh_token", refresh);
                  }
                  long expiresIn =
                      tokens.hasNonNull("expires_in")
                          ? tokens.get("expires_in").asLong()
                          : conf.accessTokenExpiresIn() == null
                              // lua-resty-openidc's default lifetime
                              ? 3600
                              : conf.accessTokenExpiresIn();
                  data.put("expires_at", now + expiresIn);
                  data.put("scope", tokens.path("scope").asText(""));
                  if (idRaw != null) {
                    data.put("id_token_raw", idRaw);
                  } else if (previous != null && previous.has("id_token_raw")) {
                    data.set("id_token_raw", previous.get("id_token_raw"));
                  }
                  data.set("id_token", id);
                  if (u != null) {
                    data.set("user", u);
                  }
                  data.put(
                      "exp", previous == null ? now + lifetime : previous.path("exp").asLong(now));
                  return data;
                });
          });
    }

    /** Renews an expired access token with the refresh token; a failed renewal logs in again. */
    private CompletableFuture<Step> refresh(ObjectNode data) {
      var form = new LinkedHashMap<String, String>();
      form.put("grant_type", "refresh_token");
      form.put("refresh_token", data.get("refresh_token").asText());
      return provider
          .discovery(timeout)
          .thenCompose(
              d ->
                  provider
                      .send(
                          clientAuth(
                                  conf.tokenEndpointAuthMethod(),
                                  d.path("token_endpoint").asText(),
                                  form)
                              .build())
                      .thenCompose(tokens -> signIn(d, tokens, null, data)))
          .handle(
              (renewed, e) ->
                  ctx -> {
                    if (renewed == null) {
                      return unauthenticated(ctx, redirectPath(ctx.vars().get("uri")));
                    }
                    return signedIn(ctx, renewed, true);
                  });
    }

    private Outcome signedIn(PluginContext ctx, ObjectNode data, boolean renewed) {
      if (missingScope(scopes(data)) != null) {
        return Outcome.respond(403, null, Outcome.errorBody(403));
      }
      var h = ctx.request().headers();
      accessTokenHeader(ctx, data.path("access_token").asText(null));
      if (conf.setIdTokenHeader() && data.has("id_token")) {
        h.set("x-id-token", base64Json(data.get("id_token")));
      }
      if (conf.setUserinfoHeader() && data.has("user")) {
        h.set("x-userinfo", base64Json(data.get("user")));
      }
      if (conf.setRefreshTokenHeader() && data.hasNonNull("refresh_token")) {
        h.set("x-refresh-token", data.get("refresh_token").asText());
      }
      if (renewed) {
        long left = data.path("exp").asLong() - System.currentTimeMillis() / 1000;
        ctx.responseHeaders()
            .add(
                "set-cookie",
                cookie(session.seal(data), left, "https".equals(ctx.vars().get("scheme"))));
      }
      return Outcome.CONTINUE;
    }

    /** The scopes granted: the access token's claim when it is a JWT, else the token response's. */
    private static JsonNode scopes(ObjectNode data) {
      try {
        var claims = OidcJwt.parse(data.path("access_token").asText("")).claims();
        if (claims.has("scope") || claims.has("scp")) {
          return claims;
        }
      } catch (IllegalArgumentException e) {
        // an opaque access token
      }
      var o = ModelJson.mapper().createObjectNode();
      o.set("scope", data.path("scope"));
      return o;
    }

    /** Ends the session, and the provider's with end_session_endpoint when it has one. */
    private CompletableFuture<Step> logout(ObjectNode data) {
      return provider
          .discovery(timeout)
          .thenApply(
              d -> {
                var clear = COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax";
                var end = d.path("end_session_endpoint").asText(null);
                var after = conf.postLogoutRedirectUri();
                if (end != null) {
                  var params = new LinkedHashMap<String, String>();
                  if (data != null && data.hasNonNull("id_token_raw")) {
                    params.put("id_token_hint", data.get("id_token_raw").asText());
                  }
                  if (after != null) {
                    params.put("post_logout_redirect_uri", after);
                  }
                  var location =
                      params.isEmpty() ? end : end + (end.contains("?") ? "&" : "?") + form(params);
                  return (Step) c -> redirect(location, clear);
                }
                if (after != null) {
                  return (Step) c -> redirect(after, clear);
                }
                return (Step)
                    c -> {
                      var h = new DefaultHttpHeaders();
                      h.set("content-type", "text/html");
                      h.set("cache-control", "no-cache, no-store");
                      h.add("set-cookie", clear);
                      return Outcome.respond(
                          200,
                          h,
                          "<html><body><h1>Logged Out</h1></body></html>"
                              .getBytes(StandardCharsets.UTF_8));
                    };
              });
    }

    private static Outcome redirect(String location, String cookie) {
      HttpHeaders h = new DefaultHttpHeaders();
      h.set("location", location);
      h.set("cache-control", "no-cache, no-store");
      h.add("set-cookie", cookie);
      return Outcome.respond(302, h, null);
    }

    private static String cookie(String value, long maxAge, boolean secure) {
      return COOKIE
          + "="
          + value
          + "; Path=/; Max-Age="
          + Math.max(0, maxAge)
          + "; HttpOnly; SameSite=Lax"
          + (secure ? "; Secure" : "");
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

  static String s256(String verifier) {
    try {
      var digest =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String form(Map<String, String> params) {
    var sb = new StringBuilder();
    params.forEach(
        (k, v) -> {
          if (sb.length() > 0) {
            sb.append('&');
          }
          sb.append(enc(k)).append('=').append(enc(v));
        });
    return sb.toString();
  }
}
