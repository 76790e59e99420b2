package io.archway.dataplane.plugin;

/**
 * Where a configuration is compiled: its owner ({@code routes/r1}, {@code global_rules/g}, {@code
 * consumers/jack}, {@code plugin_flows/f#node}), which keys state such as counters, and the
 * services that outlive config changes.
 *
 * @param dryRun compiled for one dry-run only: state a plugin would share (counters in {@link
 *     PluginServices#shared}, in Redis) is kept in the instance instead, fresh and thrown away with
 *     it ({@link Plugin.DryRun#SIMULATES})
 */
public record PluginScope(String owner, PluginServices services, boolean dryRun) {

  public PluginScope(String owner, PluginServices services) {
    this(owner, services, false);
  }
}
