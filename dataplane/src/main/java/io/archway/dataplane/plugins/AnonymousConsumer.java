package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;

/**
 * APISIX 3.x's {@code anonymous_consumer} of the auth plugins: a request that carries no
 * credentials, or ones that match no consumer, goes on as the named consumer (whose plugins, such
 * as a stricter limit-count, then join the route's) instead of being refused. A name that is no
 * consumer refuses the request as APISIX does.
 */
final class AnonymousConsumer {

  static final Outcome.Respond UNKNOWN = Outcome.message(401, "Invalid user authorization");

  private AnonymousConsumer() {}

  /**
   * {@code auth} (an auth plugin's instance, which only refuses in its rewrite phase), going on as
   * consumer {@code name} where it would refuse; {@code auth} itself without a name.
   */
  static PluginInstance wrap(PluginInstance auth, String name) {
    if (name == null) {
      return auth;
    }
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var out = auth.rewrite(ctx);
        return out == Outcome.CONTINUE ? out : orFailure(ctx, name, out);
      }
    };
  }

  /** {@code failure}, or the anonymous consumer identified when {@code name} is set. */
  static Outcome orFailure(PluginContext ctx, String name, Outcome failure) {
    if (name == null) {
      return failure;
    }
    var consumer = ctx.consumers().byName(name);
    if (consumer == null) {
      return UNKNOWN;
    }
    ctx.consumer(consumer);
    return Outcome.CONTINUE;
  }
}
