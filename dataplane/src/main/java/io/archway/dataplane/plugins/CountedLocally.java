package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;

/**
 * A Redis-backed limiter compiled for a dry-run: it counts in its own throwaway state, and its step
 * says so in {@code simulated} (the shared count in Redis is neither read nor changed).
 */
record CountedLocally(PluginInstance local) implements PluginInstance {

  static final String NOTE =
      "counted locally in a fresh state (the Redis policy's shared count is neither read nor"
          + " changed in a dry-run)";

  @Override
  public Outcome rewrite(PluginContext ctx) {
    return local.rewrite(ctx);
  }

  @Override
  public Outcome access(PluginContext ctx) {
    if (ctx.dryRun() != null) {
      ctx.dryRun().simulated(NOTE);
    }
    return local.access(ctx);
  }

  @Override
  public void headerFilter(PluginContext ctx, io.netty.handler.codec.http.HttpResponse response) {
    local.headerFilter(ctx, response);
  }

  @Override
  public boolean wantsBody(PluginContext ctx) {
    return local.wantsBody(ctx);
  }

  @Override
  public byte[] bodyFilter(PluginContext ctx, byte[] body) {
    return local.bodyFilter(ctx, body);
  }

  @Override
  public BodyStream bodyStream(PluginContext ctx) {
    return local.bodyStream(ctx);
  }

  @Override
  public void log(PluginContext ctx) {
    local.log(ctx);
  }
}
