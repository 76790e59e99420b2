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

  /**
   * {@link PluginServices#shared}, except in a dry-run: there a fresh value, kept by nobody (a
   * dry-run's compile leaves no entry behind).
   */
  public <T> T shared(String key, java.util.function.Supplier<T> make) {
    return dryRun ? make.get() : services.shared(key, make);
  }
}
