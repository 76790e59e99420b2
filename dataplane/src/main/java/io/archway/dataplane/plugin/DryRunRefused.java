package io.archway.dataplane.plugin;

/**
 * What a plugin that cannot be simulated ({@link Plugin.DryRun#REFUSED}) compiles to in a dry-run
 * scope: never run; a dry-run reports {@code reason} as the node's error.
 */
public record DryRunRefused(String reason) implements PluginInstance {

  @Override
  public Outcome rewrite(PluginContext ctx) {
    throw new IllegalStateException(reason);
  }
}
