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
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * authz-keycloak: Keycloak's UMA 2.0 authorization. The client's bearer token goes to the token
 * endpoint ({@code token_endpoint}, else the {@code discovery} document's, fetched once per {@code
 * cache_ttl_seconds} and kept across recompiles) as an {@code uma-ticket} grant with {@code
 * response_mode=decision}, the audience {@code client_id} and the {@code permissions} (each with
 * the request's method as scope under {@code http_method_as_scope}); a 2xx lets the request on,
 * anything else goes back to the client as the endpoint said it (a 403 as a 307 to {@code
 * access_denied_redirect_uri} when set), and an unreachable endpoint is 503. A POST to {@code
 * password_grant_token_generation_incoming_uri} with a form's {@code username} and {@code password}
 * is answered with the endpoint's password-grant answer. All requests to Keycloak go with the JDK's
 * client from the plugins' I/O threads, decided on the event loop.
 *
 * <p>Not here (yet): {@code lazy_load_paths} (the resource set looked up by path with a service
 * account token), refused when true.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class AuthzKeycloakPlugin implements Plugin<AuthzKeycloakPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(AuthzKeycloakPlugin.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Outcome.Respond NO_TOKEN =
      Outcome.message(401, "Missing JWT token in request");

  /** The configuration; schema {@code authz-keycloak.json}. */
  public record Config(
      String discovery,
      String tokenEndpoint,
      String resourceRegistrationEndpoint,
      String clientId,
      String clientSecret,
      String grantType,
      String policyEnforcementMode,
      List<String> permissions,
      boolean lazyLoadPaths,
      boolean httpMethodAsScope,
      int timeout,
      boolean sslVerify,
      int cacheTtlSeconds,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool,
      String accessDeniedRedirectUri,
      int accessTokenExpiresIn,
      int accessTokenExpiresLeeway,
      int refreshTokenExpiresIn,
      int refreshTokenExpiresLeeway,
      String passwordGrantTokenGenerationIncomingUri) {}

  @Override
  public String name() {
    return "authz-keycloak";
  }

  @Override
  public int priority() {
    return 2000;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS);
  }

  /** A discovery document being fetched or fetched, and until when it is good. */
  record Discovered(CompletableFuture<JsonNode> doc, long until) {}

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    if (conf.lazyLoadPaths()) {
      throw new IllegalArgumentException(
          "lazy_load_paths: not supported yet (expected: false, with the permissions listed)");
    }
    for (var u : new String[] {conf.tokenEndpoint(), conf.discovery()}) {
      if (u != null) {
        try {
          var uri = URI.create(u);
          if (uri.getScheme() == null || uri.getHost() == null) {
            throw new IllegalArgumentException();
          }
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              (u == conf.tokenEndpoint() ? "token_endpoint" : "discovery")
                  + ": not an http(s) URL: "
                  + u);
        }
      }
    }
    Map<String, Discovered> discoveries =
        scope.services().shared("authz-keycloak/discovery", ConcurrentHashMap::new);
    return new Instance(conf, scope.services(), discoveries);
  }

  private static final class Instance implements PluginInstance {
    private final Config conf;
    private final PluginServices services;
    private final Map<String, Discovered> discoveries;

    Instance(Config conf, PluginServices services, Map<String, Discovered> discoveries) {
      this.conf = conf;
      this.services = services;
      this.discoveries = discoveries;
    }

    private HttpClient client() {
      return conf.sslVerify() ? services.http() : services.httpUnverified();
    }

    /** The token endpoint: configured, or from the discovery document (null when it has none). */
    private CompletionStage<String> tokenEndpoint() {
      if (conf.tokenEndpoint() != null) {
        return CompletableFuture.completedFuture(conf.tokenEndpoint());
      }
      long now = System.nanoTime();
      var d =
          discoveries.compute(
              conf.discovery(),
              (k, old) -> {
                if (old != null && now - old.until() < 0 && !old.doc().isCompletedExceptionally()) {
                  return old;
                }
                var req =
                    HttpRequest.newBuilder(URI.create(k))
                        .timeout(Duration.ofMillis(conf.timeout()))
                        .GET()
                        .build();
                var doc =
                    client()
                        .sendAsync(req, BoundedBody.handler(1 << 20))
                        .thenApply(
                            res -> {
                              if (res.statusCode() != 200) {
                                throw new IllegalStateException(
                                    "discovery answered " + res.statusCode());
                              }
                              try {
                                return JSON.readTree(res.body());
                              } catch (Exception e) {
                                throw new IllegalStateException("discovery is not JSON");
                              }
                            });
                return new Discovered(doc, now + conf.cacheTtlSeconds() * 1_000_000_000L);
              });
      return d.doc()
          .handle(
              (doc, err) -> {
                if (err != null) {
                  // A failed fetch is forgotten, so the next request tries again.
                  discoveries.remove(conf.discovery(), d);
                  LOG.error("authz-keycloak: discovery {} failed: {}", conf.discovery(), err);
                  return null;
                }
                var t = doc.path("token_endpoint");
                return t.isTextual() ? t.asText() : null;
              });
    }

    @Override
    public Outcome access(PluginContext ctx) {
      var incoming = conf.passwordGrantTokenGenerationIncomingUri();
      var method = ctx.request().method().name();
      if (incoming != null
          && method.equals("POST")
          && ctx.vars()
              .get("request_uri")
              .toUpperCase(Locale.ROOT)
              .equals(incoming.toUpperCase(Locale.ROOT))) {
        return ctx.withRequestBody(1 << 20, 60_000, this::passwordGrant);
      }
      var token = ctx.request().headers().get(HttpHeaderNames.AUTHORIZATION);
      if (token == null) {
        return NO_TOKEN;
      }
      if (!token.regionMatches(true, 0, "Bearer ", 0, 7)) {
        token = "Bearer " + token;
      }
      var permissions = new ArrayList<String>();
      if (conf.httpMethodAsScope()) {
        if (conf.permissions().isEmpty()) {
          permissions.add("#" + method);
        } else {
          for (var p : conf.permissions()) {
            permissions.add(p + "#" + method);
          }
        }
      } else {
        permissions.addAll(conf.permissions());
      }
      var form = new StringBuilder();
      form.append("grant_type=").append(enc(conf.grantType()));
      form.append("&audience=").append(enc(conf.clientId()));
      form.append("&response_mode=decision");
      for (var p : permissions) {
        form.append("&permission=").append(enc(p));
      }
      var bearer = token;
      var answered =
          tokenEndpoint()
              .thenCompose(
                  endpoint -> {
                    if (endpoint == null) {
                      return CompletableFuture.completedFuture((Object) "no token endpoint");
                    }
                    var req =
                        HttpRequest.newBuilder(URI.create(endpoint))
                            .timeout(Duration.ofMillis(conf.timeout()))
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .header("Authorization", bearer)
                            .POST(HttpRequest.BodyPublishers.ofString(form.toString()))
                            .build();
                    return client()
                        .sendAsync(req, BoundedBody.handler(1 << 20))
                        .handle((res, err) -> err != null ? (Object) err.toString() : res);
                  });
      return Outcome.later(answered, this::decide);
    }

    @SuppressWarnings("unchecked")
    private Outcome decide(Object answer) {
      if (!(answer instanceof HttpResponse<?>)) {
        LOG.error("authz-keycloak: error while sending the authz request: {}", answer);
        return Outcome.status(503);
      }
      var res = (HttpResponse<byte[]>) answer;
      int status = res.statusCode();
      if (status < 400) {
        return Outcome.CONTINUE;
      }
      if (status == 403 && conf.accessDeniedRedirectUri() != null) {
        return Outcome.respond(
            307, new DefaultHttpHeaders().set("location", conf.accessDeniedRedirectUri()), null);
      }
      if (status != 401 && status != 403) {
        LOG.error("authz-keycloak: the token endpoint answered {}", status);
      }
      var headers = new DefaultHttpHeaders();
      res.headers().firstValue("content-type").ifPresent(t -> headers.set("content-type", t));
      return Outcome.respond(status, headers.isEmpty() ? null : headers, res.body());
    }

    private Outcome passwordGrant(byte[] body) {
      var params =
          new QueryStringDecoder(new String(body, StandardCharsets.UTF_8), false).parameters();
      var username = first(params, "username");
      var password = first(params, "password");
      if (username == null) {
        return Outcome.message(422, "username is missing.");
      }
      if (password == null) {
        return Outcome.message(422, "password is missing.");
      }
      var form =
          "grant_type=password&client_id="
              + enc(conf.clientId())
              + (conf.clientSecret() != null ? "&client_secret=" + enc(conf.clientSecret()) : "")
              + "&username="
              + enc(username)
              + "&password="
              + enc(password);
      var answered =
          tokenEndpoint()
              .thenCompose(
                  endpoint -> {
                    if (endpoint == null) {
                      return CompletableFuture.completedFuture((Object) null);
                    }
                    var req =
                        HttpRequest.newBuilder(URI.create(endpoint))
                            .timeout(Duration.ofMillis(conf.timeout()))
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString(form))
                            .build();
                    return client()
                        .sendAsync(req, BoundedBody.handler(1 << 20))
                        .handle((res, err) -> err != null ? (Object) err : res);
                  });
      return Outcome.later(
          answered,
          a -> {
            if (a == null) {
              return Outcome.message(503, "Unable to determine token endpoint.");
            }
            if (!(a instanceof HttpResponse<?> r)) {
              LOG.error("authz-keycloak: the token endpoint failed: {}", a);
              return Outcome.message(401, "Accessing token endpoint URL failed.");
            }
            @SuppressWarnings("unchecked")
            var res = (HttpResponse<byte[]>) r;
            try {
              JSON.readTree(res.body());
            } catch (Exception e) {
              return Outcome.message(401, "Could not decode JWT token.");
            }
            return Outcome.respond(
                res.statusCode(),
                new DefaultHttpHeaders().set("content-type", "application/json"),
                res.body());
          });
    }
  }

  private static String first(Map<String, List<String>> params, String name) {
    var v = params.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
