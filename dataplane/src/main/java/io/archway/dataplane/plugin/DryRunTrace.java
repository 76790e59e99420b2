package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Where a plugin running in a dry-run ({@link PluginContext#dryRun()}) reports the side effects it
 * did not have: the entry a logger would have sent, the delay a limiter would have waited. Called
 * on the dry-run's own thread, like every phase.
 */
public interface DryRunTrace {

  /** {@code plugin} would have sent {@code entry} to its sink. */
  void logged(String plugin, JsonNode entry);

  /** What a side effect of the plugin running now would have done, in a few words. */
  void simulated(String what);
}
