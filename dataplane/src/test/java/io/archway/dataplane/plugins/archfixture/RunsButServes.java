package io.archway.dataplane.plugins.archfixture;

import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.function.Supplier;

/**
 * Breaks the dry-run rule on purpose: marked RUNS, its instance (an anonymous class, as a plugin's
 * {@code PluginInstance}) reaches the gateway through a helper.
 */
@PluginTraits(dryRun = Plugin.DryRun.RUNS)
final class RunsButServes {
  Supplier<Object> compile(PluginServices services) {
    return new Supplier<>() {
      @Override
      public Object get() {
        return Helper.gateway(services);
      }
    };
  }
}
