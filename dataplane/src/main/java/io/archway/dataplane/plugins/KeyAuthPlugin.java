package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.QueryStringEncoder;
import java.util.EnumSet;
import java.util.Set;

/**
 * key-auth: finds the consumer whose {@code key-auth.key} the request carries in {@code header}
 * ({@code apikey}) or, failing that, the {@code query} argument; 401 when it carries none or an
 * unknown one. Publishes {@code consumer}; {@code hide_credentials} keeps the key from the
 * upstream.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION, dryRun = Plugin.DryRun.RUNS)
public final class KeyAuthPlugin implements Plugin<KeyAuthPlugin.Config> {

  static final Outcome.Respond MISSING = Outcome.message(401, "Missing API key in request");
  static final Outcome.Respond INVALID = Outcome.message(401, "Invalid API key in request");

  /** The configuration; schema {@code key-auth.json}. */
  public record Config(
      String header, String query, boolean hideCredentials, String anonymousConsumer) {}

  @Override
  public String name() {
    return "key-auth";
  }

  @Override
  public int priority() {
    return 2500;
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
    return "key";
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var header = conf.header();
    var query = conf.query();
    boolean hide = conf.hideCredentials();
    PluginInstance auth =
        new PluginInstance() {
          @Override
          public Outcome rewrite(PluginContext ctx) {
            var h = ctx.request().headers();
            var key = h.get(header);
            boolean fromQuery = false;
            if (key == null) {
              key = ctx.vars().get("arg_" + query);
              fromQuery = key != null;
            }
            if (key == null) {
              return MISSING;
            }
            var consumer = ctx.consumers().byCredential("key-auth", key);
            if (consumer == null) {
              return INVALID;
            }
            ctx.consumer(consumer);
            if (hide) {
              if (fromQuery) {
                ctx.request().setUri(withoutArg(ctx.request().uri(), query));
              } else {
                h.remove(header);
              }
            }
            return Outcome.CONTINUE;
          }
        };
    return AnonymousConsumer.wrap(auth, conf.anonymousConsumer());
  }

  static String withoutArg(String uri, String name) {
    var d = new QueryStringDecoder(uri);
    var e = new QueryStringEncoder(d.rawPath());
    d.parameters()
        .forEach(
            (k, values) -> {
              if (!k.equals(name)) {
                values.forEach(v -> e.addParam(k, v));
              }
            });
    return e.toString();
  }
}
