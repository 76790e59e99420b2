package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;

/**
 * basic-auth: {@code Authorization: Basic} checked against the consumers' {@code basic-auth}
 * username and password (compared in constant time); 401 with {@code WWW-Authenticate} otherwise.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION, dryRun = Plugin.DryRun.RUNS)
public final class BasicAuthPlugin implements Plugin<BasicAuthPlugin.Config> {

  private static final Outcome.Respond MISSING = challenge("Missing authorization in request");
  private static final Outcome.Respond INVALID = Outcome.message(401, "Invalid user authorization");

  private static Outcome.Respond challenge(String message) {
    var r = Outcome.message(401, message);
    r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm='.'");
    return r;
  }

  /** The configuration; schema {@code basic-auth.json}. */
  public record Config(boolean hideCredentials, String anonymousConsumer) {}

  @Override
  public String name() {
    return "basic-auth";
  }

  @Override
  public int priority() {
    return 2520;
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
    return "username";
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    boolean hide = conf.hideCredentials();
    PluginInstance auth =
        new PluginInstance() {
          @Override
          public Outcome rewrite(PluginContext ctx) {
            var h = ctx.request().headers();
            var auth = h.get(HttpHeaderNames.AUTHORIZATION);
            if (auth == null) {
              return MISSING;
            }
            if (auth.length() < 6 || !auth.regionMatches(true, 0, "Basic ", 0, 6)) {
              return INVALID;
            }
            String decoded;
            try {
              decoded =
                  new String(
                      Base64.getDecoder().decode(auth.substring(6).strip()),
                      StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
              return INVALID;
            }
            int colon = decoded.indexOf(':');
            if (colon <= 0) {
              return INVALID;
            }
            var consumer = ctx.consumers().byCredential("basic-auth", decoded.substring(0, colon));
            if (consumer == null) {
              return INVALID;
            }
            var want = consumer.credentials().get("basic-auth").path("password").asText("");
            if (!MessageDigest.isEqual(
                want.getBytes(StandardCharsets.UTF_8),
                decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8))) {
              return INVALID;
            }
            ctx.consumer(consumer);
            if (hide) {
              h.remove(HttpHeaderNames.AUTHORIZATION);
            }
            return Outcome.CONTINUE;
          }
        };
    return AnonymousConsumer.wrap(auth, conf.anonymousConsumer());
  }
}
