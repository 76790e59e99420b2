package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cas-auth: CAS 2/3 browser sign-in, as APISIX does it. A request without a {@code CAS_SESSION}
 * cookie is redirected (302) to {@code idp_uri/login?service=<callback>}, its path kept in a {@code
 * CAS_REDIRECT_URI} cookie; the callback's {@code ticket} is validated at {@code
 * idp_uri/serviceValidate} (with the JDK's client, off the event loop) and on {@code
 * <cas:authenticationSuccess>} the ticket becomes the session id (cookie) and the browser goes back
 * where it started. Sessions live in this gateway's memory for an hour after their last use, like
 * APISIX's shared dict (one per node, not shared between replicas); {@code logout_uri} deletes the
 * session and redirects to {@code idp_uri/logout}; a POST to the callback carrying a SAML {@code
 * LogoutRequest} deletes its ticket's session (back-channel single log-out).
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class CasAuthPlugin implements Plugin<CasAuthPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(CasAuthPlugin.class);
  static final String COOKIE = "CAS_SESSION";
  static final String REDIRECT_COOKIE = "CAS_REDIRECT_URI";
  private static final long LIFETIME_NANOS = Duration.ofHours(1).toNanos();
  private static final int MAX_SESSIONS = 100_000;
  private static final Pattern USER = Pattern.compile("<cas:user>(.*?)</cas:user>", Pattern.DOTALL);
  private static final Pattern SESSION_INDEX =
      Pattern.compile("<samlp:SessionIndex>(.*)</samlp:SessionIndex>", Pattern.DOTALL);

  /** The configuration; schema {@code cas-auth.json}. */
  public record Config(String idpUri, String casCallbackUri, String logoutUri) {}

  @Override
  public String name() {
    return "cas-auth";
  }

  @Override
  public int priority() {
    return 2597;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS);
  }

  /** A signed-in user and when its session ends unless used (System.nanoTime). */
  record Session(String user, long until) {}

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    try {
      var u = URI.create(conf.idpUri());
      if (u.getScheme() == null || u.getHost() == null) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("idp_uri: not an http(s) URL: " + conf.idpUri());
    }
    Map<String, Session> store =
        scope.services().shared("cas-auth/sessions", ConcurrentHashMap::new);
    return new Instance(conf, scope.services(), store);
  }

  private static final class Instance implements PluginInstance {
    private final Config conf;
    private final PluginServices services;
    private final Map<String, Session> store;
    private final String idp;

    Instance(Config conf, PluginServices services, Map<String, Session> store) {
      this.conf = conf;
      this.services = services;
      this.store = store;
      var i = conf.idpUri();
      this.idp = i.endsWith("/") ? i.substring(0, i.length() - 1) : i;
    }

    @Override
    public Outcome access(PluginContext ctx) {
      var method = ctx.request().method().name();
      var uri = ctx.vars().get("uri");
      if (method.equals("GET") && uri.equals(conf.logoutUri())) {
        return logout(ctx);
      }
      if (method.equals("POST") && uri.equals(conf.casCallbackUri())) {
        return ctx.withRequestBody(1 << 20, 60_000, body -> singleLogout(body));
      }
      var sessionId = ctx.vars().get("cookie_" + COOKIE);
      if (sessionId != null) {
        var s = store.get(sessionId);
        long now = System.nanoTime();
        if (s == null || now - s.until() > 0) {
          store.remove(sessionId);
          ctx.responseHeaders().add("set-cookie", COOKIE + "=deleted; Max-Age=0; Path=/; HttpOnly");
          return firstAccess(ctx);
        }
        store.put(sessionId, new Session(s.user(), now + LIFETIME_NANOS));
        return Outcome.CONTINUE;
      }
      var ticket = ctx.vars().get("arg_ticket");
      if (ticket != null && uri.equals(conf.casCallbackUri())) {
        return validate(ctx, ticket);
      }
      return firstAccess(ctx);
    }

    private String service(PluginContext ctx) {
      var v = ctx.vars();
      return v.get("scheme")
          + "://"
          + v.get("host")
          + ":"
          + v.get("server_port")
          + conf.casCallbackUri();
    }

    private Outcome.Respond firstAccess(PluginContext ctx) {
      var h = new DefaultHttpHeaders();
      h.set("location", idp + "/login?service=" + enc(service(ctx)));
      h.add(
          "set-cookie",
          REDIRECT_COOKIE + "=" + ctx.vars().get("request_uri") + "; Path=/; HttpOnly");
      return Outcome.respond(302, h, null);
    }

    private Outcome logout(PluginContext ctx) {
      var sessionId = ctx.vars().get("cookie_" + COOKIE);
      if (sessionId == null) {
        return Outcome.status(401);
      }
      store.remove(sessionId);
      var h = new DefaultHttpHeaders();
      ctx.responseHeaders().add("set-cookie", COOKIE + "=deleted; Max-Age=0; Path=/; HttpOnly");
      h.set("location", idp + "/logout");
      return Outcome.respond(302, h, null);
    }

    private Outcome singleLogout(byte[] body) {
      var m = SESSION_INDEX.matcher(new String(body, StandardCharsets.UTF_8));
      if (!m.find()) {
        return Outcome.message(400, "invalid logout request from IdP, no ticket");
      }
      if (store.remove(m.group(1)) != null) {
        LOG.debug("cas-auth: single log-out of a session");
      }
      // As APISIX: the IdP's POST then goes on to the upstream.
      return Outcome.CONTINUE;
    }

    private Outcome validate(PluginContext ctx, String ticket) {
      var req =
          HttpRequest.newBuilder(
                  URI.create(
                      idp
                          + "/serviceValidate?ticket="
                          + enc(ticket)
                          + "&service="
                          + enc(service(ctx))))
              .timeout(Duration.ofSeconds(60))
              .GET()
              .build();
      var answered =
          services
              .http()
              .sendAsync(req, BoundedBody.handler(1 << 20))
              .handle((res, err) -> err == null ? res : null);
      return Outcome.later(answered, res -> validated(ctx, ticket, res));
    }

    private Outcome validated(PluginContext ctx, String ticket, HttpResponse<byte[]> res) {
      String user = null;
      if (res != null && res.statusCode() == 200) {
        var body = new String(res.body(), StandardCharsets.UTF_8);
        if (body.contains("<cas:authenticationSuccess>")) {
          var m = USER.matcher(body);
          if (m.find()) {
            user = m.group(1);
          }
        } else {
          LOG.info("cas-auth: serviceValidate refused the ticket");
        }
      } else {
        LOG.error(
            "cas-auth: validating the ticket failed: status={}",
            res == null ? "none" : res.statusCode());
      }
      if (user == null) {
        return Outcome.message(401, "invalid ticket");
      }
      if (store.size() >= MAX_SESSIONS) {
        long now = System.nanoTime();
        store.values().removeIf(s -> now - s.until() > 0);
      }
      if (store.putIfAbsent(ticket, new Session(user, System.nanoTime() + LIFETIME_NANOS))
          != null) {
        // A ticket is good once: the same one again is a replay.
        return Outcome.message(401, "invalid ticket");
      }
      var back = ctx.vars().get("cookie_" + REDIRECT_COOKIE);
      var h = new DefaultHttpHeaders();
      // Several Set-Cookie fields: the fields added to the response keep every value.
      ctx.responseHeaders().add("set-cookie", COOKIE + "=" + ticket + "; Path=/; HttpOnly");
      ctx.responseHeaders()
          .add("set-cookie", REDIRECT_COOKIE + "=deleted; Max-Age=0; Path=/; HttpOnly");
      h.set(
          "location", back == null || !back.startsWith("/") || back.startsWith("//") ? "/" : back);
      return Outcome.respond(302, h, null);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
