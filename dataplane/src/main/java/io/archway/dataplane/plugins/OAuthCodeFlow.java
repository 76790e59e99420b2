package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The browser half of the OAuth 2.0 authorization code flow (RFC 6749 §4.1) as the sign-in plugins
 * run it (openid-connect, authz-casdoor): one sealed cookie ({@link OidcSession}) holds first the
 * login in progress (its {@code state}, where the browser was going, what the plugin adds: nonce,
 * PKCE verifier, ten minutes to complete), then the signed-in session; the callback is checked
 * against it; the code is exchanged at the token endpoint with the JDK client's {@code sendAsync},
 * never on an event loop. What a plugin does with the tokens (check an ID token, keep only the
 * access token) and how it answers a failed step are its own.
 */
final class OAuthCodeFlow {

  /** How long a login may take, as lua-resty-openidc's state lasts. */
  static final long LOGIN_SECONDS = 600;

  /** What a call to the provider decided, applied to the request back on its event loop. */
  @FunctionalInterface
  interface Step {
    Outcome apply(PluginContext ctx);
  }

  /** What a callback carries, checked against the login in progress, in APISIX's order. */
  enum Callback {
    OK,
    /** no session, or one with no login in progress (no {@code state}) */
    NO_LOGIN,
    /** {@code code} or {@code state} missing from the query */
    NO_CODE,
    /** {@code state} is not the login's */
    BAD_STATE
  }

  /** The token endpoint did not answer 200 with a JSON object. */
  static final class Refused extends IllegalStateException {
    final int status;

    Refused(String message, int status) {
      super(message);
      this.status = status;
    }
  }

  private final OidcSession session;
  private final String cookieName;
  private final HttpClient http;
  private final String clientId;
  private final String clientSecret;
  private final Duration timeout;

  OAuthCodeFlow(
      OidcSession session,
      String cookieName,
      HttpClient http,
      String clientId,
      String clientSecret,
      Duration timeout) {
    this.session = session;
    this.cookieName = cookieName;
    this.http = http;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.timeout = timeout;
  }

  /** The session in the request's cookie; {@code null} when absent, forged or expired. */
  ObjectNode open(PluginContext ctx) {
    return session.open(ctx.vars().get("cookie_" + cookieName), System.currentTimeMillis() / 1000);
  }

  /** A new login going back to {@code target}: its {@code state} and expiry, to be sealed. */
  static ObjectNode login(String target) {
    var pending = ModelJson.mapper().createObjectNode();
    pending.put("state", OidcSession.random());
    pending.put("target", target);
    return pending;
  }

  /**
   * The redirect to {@code endpoint} with {@code params} (to which the login's state is added), the
   * login sealed into the cookie for {@link #LOGIN_SECONDS}.
   */
  Outcome authorize(
      PluginContext ctx, String endpoint, Map<String, String> params, ObjectNode pending) {
    var all = new LinkedHashMap<>(params);
    all.putIfAbsent("state", pending.path("state").asText());
    pending.put("exp", System.currentTimeMillis() / 1000 + LOGIN_SECONDS);
    var location = endpoint + (endpoint.contains("?") ? "&" : "?") + form(all);
    return redirect(location, cookie(session.seal(pending), LOGIN_SECONDS, secure(ctx)));
  }

  /** Checks a callback's {@code code} and {@code state} against the login in {@code pending}. */
  static Callback check(ObjectNode pending, String code, String state) {
    if (pending == null || !pending.hasNonNull("state")) {
      return Callback.NO_LOGIN;
    }
    if (code == null || state == null) {
      return Callback.NO_CODE;
    }
    return state.equals(pending.get("state").asText()) ? Callback.OK : Callback.BAD_STATE;
  }

  /**
   * Exchanges {@code code} at {@code tokenEndpoint} ({@code redirect_uri} as in the authorization
   * request, RFC 6749 §4.1.3), the client authenticated by {@code authMethod}; the token response,
   * or a failure.
   */
  CompletableFuture<JsonNode> exchange(
      String authMethod, String tokenEndpoint, String code, String redirectUri, String verifier) {
    var form = new LinkedHashMap<String, String>();
    form.put("grant_type", "authorization_code");
    form.put("code", code);
    form.put("redirect_uri", redirectUri);
    if (verifier != null) {
      form.put("code_verifier", verifier);
    }
    return send(clientAuth(authMethod, tokenEndpoint, form).build());
  }

  /**
   * A form POST to the provider authenticated as the client: {@code client_secret_post} puts the
   * credentials in the form, anything else is HTTP Basic ({@code client_secret_basic}).
   */
  HttpRequest.Builder clientAuth(String method, String url, Map<String, String> form) {
    var params = new LinkedHashMap<>(form);
    var b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(timeout)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
    if ("client_secret_post".equals(method)) {
      params.put("client_id", clientId);
      params.put("client_secret", clientSecret);
    } else {
      var pair = enc(clientId) + ":" + enc(clientSecret);
      b.header(
          "Authorization",
          "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
    }
    return b.POST(HttpRequest.BodyPublishers.ofString(form(params)));
  }

  CompletableFuture<JsonNode> send(HttpRequest req) {
    return sendJson(http, req);
  }

  /** Sends a request whose answer is a JSON object; failures complete exceptionally. */
  static CompletableFuture<JsonNode> sendJson(HttpClient http, HttpRequest req) {
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray())
        .thenApply(
            r -> {
              if (r.statusCode() != 200) {
                throw new Refused(
                    req.uri() + " answered " + r.statusCode() + " to " + req.method(),
                    r.statusCode());
              }
              try {
                var json = ModelJson.mapper().readTree(r.body());
                if (json == null || !json.isObject()) {
                  throw new Refused(req.uri() + " did not answer a JSON object", 200);
                }
                return json;
              } catch (java.io.IOException e) {
                throw new Refused(req.uri() + " did not answer JSON", 200);
              }
            });
  }

  /** The redirect that ends a login: {@code data} (with its {@code exp}) sealed into the cookie. */
  Outcome signIn(PluginContext ctx, String target, ObjectNode data, long maxAge) {
    return redirect(target, cookie(session.seal(data), maxAge, secure(ctx)));
  }

  /** The {@code Set-Cookie} value carrying {@code data} (a session renewed in place). */
  String sealed(PluginContext ctx, ObjectNode data, long maxAge) {
    return cookie(session.seal(data), maxAge, secure(ctx));
  }

  /** The {@code Set-Cookie} value that ends the session. */
  String cleared() {
    return cookieName + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax";
  }

  static Outcome redirect(String location, String cookie) {
    var h = new DefaultHttpHeaders();
    h.set("location", location);
    h.set("cache-control", "no-cache, no-store");
    h.add("set-cookie", cookie);
    return Outcome.respond(302, h, null);
  }

  private String cookie(String value, long maxAge, boolean secure) {
    return cookieName
        + "="
        + value
        + "; Path=/; Max-Age="
        + Math.max(0, maxAge)
        + "; HttpOnly; SameSite=Lax"
        + (secure ? "; Secure" : "");
  }

  private static boolean secure(PluginContext ctx) {
    return "https".equals(ctx.vars().get("scheme"));
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
