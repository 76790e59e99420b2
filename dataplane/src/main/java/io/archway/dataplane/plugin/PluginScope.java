package io.archway.dataplane.plugin;

/**
 * Where a configuration is compiled: its owner ({@code routes/r1}, {@code global_rules/g}, {@code
 * consumers/jack}, {@code plugin_flows/f#node}), which keys state such as counters, and the
 * services that outlive config changes.
 */
public record PluginScope(String owner, PluginServices services) {}
