package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugins.OAuthCodeFlow.Step;
import io.archway.dataplane.plugins.OpenidConnectPlugin.Config;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.concurrent.CompletableFuture;

/**
 * openid-connect for browsers: the authorization code flow ({@link OAuthCodeFlow}: state, the
 * sealed session cookie, the code exchange) with what OpenID Connect adds to it: the nonce and
 * PKCE, the ID token checked against the provider's JWKS, the userinfo, the access token renewed
 * with the refresh token, the logout through the provider's {@code end_session_endpoint}.
 */
final class OidcBrowser {

  private static final String SUFFIX = "/.apisix/redirect";

  private final OpenidConnectPlugin.Instance bearer;
  private final Config conf;
  private final OidcProvider provider;
  private final OAuthCodeFlow flow;
  private final Duration timeout;
  private final long lifetime;

  OidcBrowser(
      OpenidConnectPlugin.Instance bearer,
      Config conf,
      OidcProvider provider,
      OAuthCodeFlow flow,
      Duration timeout) {
    this.bearer = bearer;
    this.conf = conf;
    this.provider = provider;
    this.flow = flow;
    this.timeout = timeout;
    this.lifetime =
        conf.session() == null ? 3600 : conf.session().path("cookie").path("lifetime").asLong(3600);
  }

  private static Outcome later(PluginContext ctx, CompletableFuture<Step> step) {
    return Outcome.later(step, s -> s.apply(ctx));
  }

  /** A request without a bearer token: signed in by its session cookie, or sent to log in. */
  Outcome browser(PluginContext ctx) {
    long now = System.currentTimeMillis() / 1000;
    var data = flow.open(ctx);
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
    return provider
        .discovery(timeout)
        .thenApply(
            d -> {
              var endpoint = d.path("authorization_endpoint").asText(null);
              if (endpoint == null) {
                throw new IllegalStateException("the provider has no authorization_endpoint");
              }
              var pending = OAuthCodeFlow.login(target);
              var nonce = OidcSession.random();
              var params = new LinkedHashMap<String, String>();
              params.put("response_type", "code");
              params.put("client_id", conf.clientId());
              params.put("redirect_uri", redirectUri);
              params.put("scope", conf.scope());
              params.put("state", pending.get("state").asText());
              params.put("nonce", nonce);
              pending.put("nonce", nonce);
              if (conf.usePkce()) {
                var verifier = OidcSession.random();
                pending.put("code_verifier", verifier);
                params.put("code_challenge", s256(verifier));
                params.put("code_challenge_method", "S256");
              }
              if (conf.authorizationParams() != null) {
                params.putAll(conf.authorizationParams());
              }
              return c -> flow.authorize(c, endpoint, params, pending);
            });
  }

  /** The provider sent the browser back with a code: exchange it, check the ID token. */
  private CompletableFuture<Step> callback(
      PluginContext ctx, ObjectNode pending, String redirectUri) {
    var code = ctx.vars().get("arg_code");
    if (OAuthCodeFlow.check(pending, code, ctx.vars().get("arg_state"))
        != OAuthCodeFlow.Callback.OK) {
      return CompletableFuture.completedFuture(
          c -> Outcome.message(401, "openid-connect: no login in progress, or its state differs"));
    }
    var verifier = pending.path("code_verifier").asText(null);
    var nonce = pending.path("nonce").asText();
    var target = pending.path("target").asText("/");
    return provider
        .discovery(timeout)
        .thenCompose(
            d ->
                flow.exchange(
                        conf.tokenEndpointAuthMethod(),
                        d.path("token_endpoint").asText(),
                        code,
                        redirectUri,
                        verifier)
                    .thenCompose(tokens -> signIn(d, tokens, nonce, null)))
        .thenApply(
            data -> {
              if (data == null) {
                return (Step)
                    c -> Outcome.message(401, "openid-connect: the ID token is not valid");
              }
              return (Step) c -> flow.signIn(c, target, data, lifetime);
            });
  }

  /**
   * The session for a token response: the ID token verified with the JWKS (issuer, audience, nonce,
   * times), the user's claims from the userinfo endpoint. {@code null} when the ID token fails;
   * {@code previous} is the session being renewed (its ID token and user are kept when the refresh
   * gives none).
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
                                c, now, conf.iatSlack(), bearer.acceptedIssuers(d), conf.clientId())
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
                flow.send(
                        flow.clientAuth(
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
    if (bearer.missingScope(scopes(data)) != null) {
      return Outcome.respond(403, null, Outcome.errorBody(403));
    }
    var h = ctx.request().headers();
    bearer.accessTokenHeader(ctx, data.path("access_token").asText(null));
    if (conf.setIdTokenHeader() && data.has("id_token")) {
      h.set("x-id-token", OpenidConnectPlugin.base64Json(data.get("id_token")));
    }
    if (conf.setUserinfoHeader() && data.has("user")) {
      h.set("x-userinfo", OpenidConnectPlugin.base64Json(data.get("user")));
    }
    if (conf.setRefreshTokenHeader() && data.hasNonNull("refresh_token")) {
      h.set("x-refresh-token", data.get("refresh_token").asText());
    }
    if (renewed) {
      long left = data.path("exp").asLong() - System.currentTimeMillis() / 1000;
      ctx.responseHeaders().add("set-cookie", flow.sealed(ctx, data, left));
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
              var clear = flow.cleared();
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
                    params.isEmpty()
                        ? end
                        : end + (end.contains("?") ? "&" : "?") + OAuthCodeFlow.form(params);
                return (Step) c -> OAuthCodeFlow.redirect(location, clear);
              }
              if (after != null) {
                return (Step) c -> OAuthCodeFlow.redirect(after, clear);
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

  static String s256(String verifier) {
    try {
      var digest =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
